"""Peer figure for `inertia bench flow-map`: one LSD training step of `flow-maps.md` in PyTorch.

The network is the spec's section-5 MLP v(s, t, x): input (x1, x2, s, t, t - s), four hidden
layers of 128 with GELU (erf form), a linear output of size 2 (zero-initialised), float32. One
step on a batch of 512 checkerboard points: the diagonal flow-matching loss at fresh t and noise,
the Lagrangian self-distillation loss with d/dt X_{s,t}(I_s) from `torch.func.jvp` (tangent 1 in
t) and the stop-gradient target v(t, t, X_{s,t}(I_s)), both on the full batch, then backward,
global gradient-norm clipping at 1 and Adam (lr 1e-3). torch.manual_seed(0).

Usage: python flow_map_step.py [--batch 512] [--steps 50] [--threads 2 1] [--min-time 0.5]
Prints one JSON line with the same fields as `inertia bench flow-map`.
"""
import os

import torch
from peer_line import gelu_mlp, print_line, time_training_steps, training_step_arguments


def checkerboard(n, generator):
    a = torch.rand(n, generator=generator) * 4 - 2
    b = torch.rand(n, generator=generator) - 2 * (torch.rand(n, generator=generator) < 0.5).float() \
        + torch.remainder(torch.floor(a), 2)
    return 2 * torch.stack([a, b], 1)


def main():
    args = training_step_arguments()
    load_start = os.getloadavg()
    results = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        net = gelu_mlp(5, 128, 3, 2)
        optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
        generator = torch.Generator().manual_seed(1)
        data = checkerboard(200_000, generator)

        def v(x, s, t):
            return net(torch.cat([x, s, t, t - s], 1))

        def step():
            b = args.batch
            x1 = data[torch.randint(0, data.shape[0], (b,))]
            x0 = torch.randn(b, 2)
            td = torch.rand(b, 1)
            it = (1 - td) * x0 + td * x1
            diagonal = ((v(it, td, td) - (x1 - x0)) ** 2).sum(1).mean()
            a, c = torch.rand(b, 1), torch.rand(b, 1)
            s, t = torch.minimum(a, c), torch.maximum(a, c)
            xs = (1 - s) * x0 + s * x1
            x_st, dt_x = torch.func.jvp(lambda tt: xs + (tt - s) * v(xs, s, tt), (t,), (torch.ones_like(t),))
            with torch.no_grad():
                target = v(x_st, t, t)
            loss = diagonal + ((dt_x - target) ** 2).sum(1).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            return float(loss.detach())

        results["%dthr" % threads] = time_training_steps(step, args.steps, args.min_time)
    print_line("flow-map", args.threads, load_start, results, {"torch": torch.__version__},
               batch=args.batch, steps=args.steps)


if __name__ == "__main__":
    main()

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
import argparse
import math
import os
import time

import torch
import torch.nn as nn
from peer_line import print_line


def checkerboard(n, generator):
    a = torch.rand(n, generator=generator) * 4 - 2
    b = torch.rand(n, generator=generator) - 2 * (torch.rand(n, generator=generator) < 0.5).float() \
        + torch.remainder(torch.floor(a), 2)
    return 2 * torch.stack([a, b], 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--min-time", type=float, default=0.5)
    args = ap.parse_args()
    load_start = os.getloadavg()
    results = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        layers = [nn.Linear(5, 128), nn.GELU()]
        for _ in range(3):
            layers += [nn.Linear(128, 128), nn.GELU()]
        layers.append(nn.Linear(128, 2))
        net = nn.Sequential(*layers)
        nn.init.zeros_(net[-1].weight)
        nn.init.zeros_(net[-1].bias)
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

        def run():
            loss = 0.0
            for _ in range(args.steps):
                loss = step()
            return loss

        loss = run()
        times = []
        deadline = time.perf_counter() + args.min_time
        while len(times) < 3 or time.perf_counter() < deadline:
            start = time.perf_counter()
            loss = run()
            times.append(time.perf_counter() - start)
        times.sort()
        results["%dthr" % threads] = {
            "seconds_median": times[len(times) // 2], "seconds_min": times[0], "reps": len(times),
            "steps_per_s": args.steps / times[0], "last_loss": loss if math.isfinite(loss) else None,
        }
    print_line("flow-map", args.threads, load_start, results, {"torch": torch.__version__},
               batch=args.batch, steps=args.steps)


if __name__ == "__main__":
    main()

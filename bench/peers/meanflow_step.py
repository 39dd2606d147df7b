"""Peer figure for `inertia bench meanflow`: one MeanFlow training step of `meanflow-policy.md` in PyTorch.

The network is the spec's section-5 MLP u(z, t, r | s): input (z1, z2, t, r, s), three hidden
layers of 128 with GELU (erf form), a linear output of size 2 (zero-initialised), float32. One
step on a batch of 512 (action, state) pairs of the four-mode toy: t, r the max and min of two
logit-normal(-0.4, 1) times with r = t on half the batch, z = (1 - t) x + t e, v = e - x, the
MeanFlow target v - (t - r) du/dt with du/dt from `torch.func.jvp` along (v, 1, 0), stop-gradient,
the adaptive L2 loss (gamma 0.5, c 1e-3), backward, global gradient-norm clipping at 1 and AdamW
(lr 1e-3, weight decay 1e-6). torch.manual_seed(0).

Usage: python meanflow_step.py [--batch 512] [--steps 50] [--threads 2 1] [--min-time 0.5]
Prints one JSON line with the same fields as `inertia bench meanflow`.
"""
import math
import os

import torch
from peer_line import gelu_mlp, print_line, time_training_steps, training_step_arguments


def actions(n, generator):
    s = torch.rand(n, 1, generator=generator) * 2 - 1
    k = torch.randint(0, 4, (n, 1), generator=generator).float()
    phi = math.pi / 2 * s + k * math.pi / 2
    centre = torch.cat([torch.cos(phi), torch.sin(phi)], 1)
    return centre + 0.08 * torch.randn(n, 2, generator=generator), s


def main():
    args = training_step_arguments()
    load_start = os.getloadavg()
    results = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        torch.manual_seed(0)
        net = gelu_mlp(5, 128, 2, 2)
        optimizer = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-6)
        generator = torch.Generator().manual_seed(1)
        data, states = actions(200_000, generator)

        def times(b):
            return torch.sigmoid(-0.4 + torch.randn(b, 1))

        def step():
            b = args.batch
            rows = torch.randint(0, data.shape[0], (b,))
            x, s = data[rows], states[rows]
            e = torch.randn(b, 2)
            first, second = times(b), times(b)
            t, r = torch.maximum(first, second), torch.minimum(first, second)
            same = torch.randperm(b)[: b // 2]
            r[same] = t[same]
            z = (1 - t) * x + t * e
            v = e - x
            u, dudt = torch.func.jvp(lambda zz, tt, rr: net(torch.cat([zz, tt, rr, s], 1)), (z, t, r),
                                     (v, torch.ones_like(t), torch.zeros_like(r)))
            target = (v - (t - r) * dudt).detach()
            per_row = ((u - target) ** 2).mean(1)
            weights = (per_row.detach() + 1e-3) ** -0.5
            loss = (weights * per_row).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            optimizer.step()
            return float(loss.detach())

        results["%dthr" % threads] = time_training_steps(step, args.steps, args.min_time)
    print_line("meanflow", args.threads, load_start, results, {"torch": torch.__version__},
               batch=args.batch, steps=args.steps)


if __name__ == "__main__":
    main()

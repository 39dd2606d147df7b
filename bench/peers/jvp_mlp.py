"""Peer figure for `inertia bench jvp`: `torch.func.jvp` of a SiLU MLP with respect to its input.

The network is the one `inertia bench jvp` builds: `--layers` nn.Linear layers of `--width` inputs
and outputs with nn.SiLU between them (none after the last), float32, on a standard normal input of
`--batch` rows and a standard normal tangent. Parameters do not require gradients (both sides time
the JVP alone, off the reverse tape). Times one forward pass and one `torch.func.jvp` (primal and
tangent), the minimum and median of repetitions after warm-up, at each thread count.

Usage: python jvp_mlp.py [--width 256] [--layers 4] [--batch 1024] [--threads 2 1] [--min-time 0.5]
Prints one JSON line with the same fields as `inertia bench jvp`.
"""
import argparse
import os

import torch
import torch.nn as nn
from peer_line import print_line, timed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--min-time", type=float, default=0.5)
    args = ap.parse_args()
    load_start = os.getloadavg()
    torch.manual_seed(0)
    modules = []
    for i in range(args.layers):
        modules.append(nn.Linear(args.width, args.width))
        if i < args.layers - 1:
            modules.append(nn.SiLU())
    model = nn.Sequential(*modules).requires_grad_(False)
    x, u = torch.randn(args.batch, args.width), torch.randn(args.batch, args.width)
    results = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        forward_min, forward_median = timed(lambda: model(x), args.min_time)
        jvp_min, jvp_median = timed(lambda: torch.func.jvp(model, (x,), (u,)), args.min_time)
        results["%dthr" % threads] = {
            "forward_ms": forward_min * 1e3, "jvp_ms": jvp_min * 1e3, "forward_ms_median": forward_median * 1e3,
            "jvp_ms_median": jvp_median * 1e3, "jvp_over_forward": jvp_min / forward_min,
        }
    print_line("jvp", args.threads, load_start, results, {"torch": torch.__version__},
               width=args.width, layers=args.layers, batch=args.batch)


if __name__ == "__main__":
    main()

"""Peer figure for `inertia bench sample`: Heun sampling throughput of a flow-matching MLP in PyTorch.

The network is Inertia's DenoiserNetwork: input [x (2), sin(w_k t), cos(w_k t)] with 8 frequencies
log-spaced from 1 to 200, three Linear(.., 128) + SiLU layers, Linear(128, 2) output (velocity
prediction), float32, torch.manual_seed(0) weights (the speed does not depend on them). Heun on
dx/dt = v(x, t) over the uniform grid from t = 0.999 to 0.001 with 50 steps: an Euler predictor
and the trapezoidal corrector at every step, 100 network evaluations, on 10 000 points drawn from
N(0, I). Timing: warm-up, then the minimum and median of repeated runs under torch.inference_mode.

Usage: python sample_mlp.py [--points 10000] [--steps 50] [--threads 2 1] [--min-time 0.5]
Prints one JSON line with the same fields as `inertia bench sample`.
"""
import argparse
import datetime
import json
import os
import platform
import time

import torch
import torch.nn as nn


class Denoiser(nn.Module):
    def __init__(self, dimension=2, hidden=128, layers=3, features=16, low=1.0, high=200.0):
        super().__init__()
        count = features // 2
        self.register_buffer("frequencies", torch.tensor(
            [low * (high / low) ** (k / (count - 1)) for k in range(count)], dtype=torch.float32))
        blocks, width = [], dimension + features
        for _ in range(layers):
            blocks += [nn.Linear(width, hidden), nn.SiLU()]
            width = hidden
        blocks.append(nn.Linear(width, dimension))
        self.body = nn.Sequential(*blocks)

    def forward(self, x, t):
        angles = t * self.frequencies
        angles = angles.expand(x.shape[0], -1)
        return self.body(torch.cat([x, angles.sin(), angles.cos()], dim=1))


def heun(model, x, steps):
    grid = [0.999 + i / steps * (0.001 - 0.999) for i in range(steps + 1)]
    for i in range(steps):
        t, s = grid[i], grid[i + 1]
        h = s - t
        d = model(x, torch.tensor([t]))
        predicted = x + h * d
        x = x + (h / 2) * (d + model(predicted, torch.tensor([s])))
    return x


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--min-time", type=float, default=0.5)
    args = ap.parse_args()
    load_start = os.getloadavg()
    torch.manual_seed(0)
    model = Denoiser().eval()
    x0 = torch.randn(args.points, 2)
    results = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        times = []
        with torch.inference_mode():
            heun(model, x0, args.steps)
            deadline = time.perf_counter() + args.min_time
            while len(times) < 3 or time.perf_counter() < deadline:
                start = time.perf_counter()
                out = heun(model, x0, args.steps)
                times.append(time.perf_counter() - start)
        times.sort()
        results["%dthr" % threads] = {
            "seconds_median": times[len(times) // 2], "seconds_min": times[0], "reps": len(times),
            "samples_per_s": args.points / times[0], "checksum": float(out.double().sum()),
        }
    print(json.dumps({
        "bench": "sample", "impl": "torch", "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": cpu_model(), "nproc": os.cpu_count(), "versions": {"python": platform.python_version(), "torch": torch.__version__},
        "threads": args.threads, "loadavg_start": [round(v, 2) for v in load_start], "loadavg_end": [round(v, 2) for v in os.getloadavg()],
        "points": args.points, "steps": args.steps, "evaluations": 2 * args.steps, "results": results,
    }))


if __name__ == "__main__":
    main()

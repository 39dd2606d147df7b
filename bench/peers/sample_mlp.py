"""Peer figure for `inertia bench sample`: Heun sampling throughput of a flow-matching MLP in PyTorch.

The network is Inertia's DenoiserNetwork: input [x (2), sin(w_k t), cos(w_k t)] with 8 frequencies
log-spaced from 1 to 200, three Linear(.., 128) + SiLU layers, Linear(128, 2) output (velocity
prediction), float32, torch.manual_seed(0) weights (the speed does not depend on them). Heun on
dx/dt = v(x, t) over the uniform grid from t = 0.999 to 0.001 with 50 steps: an Euler predictor
and the trapezoidal corrector at every step, 100 network evaluations, on 10 000 points drawn from
N(0, I). Timing: warm-up, then the minimum and median of repeated runs under torch.inference_mode.

With --train: training steps per second of the same network (its input width set by --dimension)
on Inertia's `DiffusionModel.fit` loop: 20 000 standard normal points, batches of --batch rows drawn
with replacement, t ~ U(1e-5, 1), x_t = (1 - t) x + t eps, loss = mean((net(x_t, t) - (eps - x))^2)
(linear flow matching, velocity target), backward, torch.optim.Adam(lr 1e-3), --train-steps steps per
timed run, float32.

Usage: python sample_mlp.py [--points 10000] [--steps 50] [--threads 2 1] [--min-time 0.5]
                            [--train [--batch 256] [--train-steps 200] [--dimension 2]]
Prints one JSON line with the same fields as `inertia bench sample` (`--train`: `inertia bench sample --train`).
"""
import argparse
import os
import time

import torch
import torch.nn as nn
from peer_line import print_line


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


def train(model, data, steps, batch):
    """`steps` Adam steps of linear flow matching on random batches of `data`; the last loss."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for _ in range(steps):
        x = data[torch.randint(0, data.shape[0], (batch,))]
        t = torch.rand(batch, 1) * (1 - 1e-5) + 1e-5
        eps = torch.randn_like(x)
        loss = ((model(x * (1 - t) + eps * t, t) - (eps - x)) ** 2).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return float(loss)


def timed(run, min_time):
    """Warm-up, then at least three runs and `min_time` seconds: sorted times and the last result."""
    out = run()
    times = []
    deadline = time.perf_counter() + min_time
    while len(times) < 3 or time.perf_counter() < deadline:
        start = time.perf_counter()
        out = run()
        times.append(time.perf_counter() - start)
    times.sort()
    return times, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--min-time", type=float, default=0.5)
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--train-steps", type=int, default=200)
    ap.add_argument("--dimension", type=int, default=2)
    args = ap.parse_args()
    load_start = os.getloadavg()
    torch.manual_seed(0)
    if args.train:
        data = torch.randn(20_000, args.dimension)
        results = {}
        for threads in args.threads:
            torch.set_num_threads(threads)
            model = Denoiser(dimension=args.dimension)
            times, loss = timed(lambda: train(model, data, args.train_steps, args.batch), args.min_time)
            results["%dthr" % threads] = {
                "seconds_median": times[len(times) // 2], "seconds_min": times[0], "reps": len(times),
                "steps_per_s": args.train_steps / times[0], "last_loss": loss,
            }
        print_line("sample-train", args.threads, load_start, results, {"torch": torch.__version__},
                   batch=args.batch, train_steps=args.train_steps, dimension=args.dimension)
        return
    model = Denoiser().eval()
    x0 = torch.randn(args.points, 2)
    results = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        times = []
        with torch.inference_mode():
            times, out = timed(lambda: heun(model, x0, args.steps), args.min_time)
        results["%dthr" % threads] = {
            "seconds_median": times[len(times) // 2], "seconds_min": times[0], "reps": len(times),
            "samples_per_s": args.points / times[0], "checksum": float(out.double().sum()),
        }
    print_line("sample", args.threads, load_start, results, {"torch": torch.__version__},
               points=args.points, steps=args.steps, evaluations=2 * args.steps)


if __name__ == "__main__":
    main()

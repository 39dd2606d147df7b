"""Peer figure for `inertia bench wos`: walk-on-spheres (`walk-on-spheres.md` 2.1) vectorised with numpy.

The fixture's disk problem: -Lap u = 4 on the unit disk, g = x^2 - y^2 at the closest boundary
point, start (0.3, 0.2), shell width 1e-3. All walks advance together, one numpy pass per sphere
jump over the walks still running: the source sample y = x + R sqrt(U1 U2) (cos, sin) weighted by
R^2/4 f(y), then the jump to a uniform point of the sphere. numpy's elementwise ops run on one
thread, so the figure is the same at every thread count; it is printed for 1 thread.

Usage: python wos_numpy.py [--walks 200000] [--min-time 1.0]
Prints one JSON line with the same fields as `inertia bench wos`.
"""
import argparse
import os
import time

import numpy as np
from peer_line import print_line


def f(y):
    return np.full(len(y), 4.0)


def run(walks, rng):
    x = np.tile(np.array([0.3, 0.2]), (walks, 1))
    acc = np.zeros(walks)
    value = np.zeros(walks)
    active = np.arange(walks)
    steps = 0
    while active.size:
        xa = x[active]
        norm = np.sqrt((xa * xa).sum(1))
        r = 1.0 - norm
        done = r < 1e-3
        if done.any():
            closest = xa[done] / norm[done, None]
            value[active[done]] = acc[active[done]] + closest[:, 0] ** 2 - closest[:, 1] ** 2
            keep = ~done
            active, xa, r = active[keep], xa[keep], r[keep]
            if not active.size:
                break
        n = active.size
        s = np.sqrt(rng.random(n) * rng.random(n))
        angle = 2 * np.pi * rng.random(n)
        y = xa + (r * s)[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
        acc[active] += r * r / 4 * f(y)
        angle = 2 * np.pi * rng.random(n)
        x[active] = xa + r[:, None] * np.stack([np.cos(angle), np.sin(angle)], 1)
        steps += n
    return value.mean(), steps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--walks", type=int, default=200_000)
    ap.add_argument("--min-time", type=float, default=1.0)
    args = ap.parse_args()
    load_start = os.getloadavg()
    rng = np.random.default_rng(0)
    mean, steps = run(args.walks, rng)
    times = []
    deadline = time.perf_counter() + args.min_time
    while len(times) < 3 or time.perf_counter() < deadline:
        start = time.perf_counter()
        mean, steps = run(args.walks, rng)
        times.append(time.perf_counter() - start)
    times.sort()
    results = {"1thr": {"seconds_median": times[len(times) // 2], "seconds_min": times[0], "reps": len(times),
                        "walker_steps": steps, "steps_per_s": steps / times[0], "estimate": mean}}
    print_line("wos", [1], load_start, results, {"numpy": np.__version__}, impl="numpy", walks=args.walks)


if __name__ == "__main__":
    main()

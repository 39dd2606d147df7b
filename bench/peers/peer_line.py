"""The JSON line every peer script here prints: the envelope `inertia bench` writes (bench name,
date, machine, versions, load average before and after) around a script's own fields and results."""
import argparse
import datetime
import json
import math
import os
import platform
import time


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def print_line(bench, threads, load_start, results, versions, impl="torch", **fields):
    """Prints one line: `versions` adds to Python's, `impl` names the peer, `fields` are the
    bench's own settings."""
    print(json.dumps({
        "bench": bench, "impl": impl,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpu": cpu_model(), "nproc": os.cpu_count(),
        "versions": dict({"python": platform.python_version()}, **versions), "threads": threads,
        "loadavg_start": [round(v, 2) for v in load_start], "loadavg_end": [round(v, 2) for v in os.getloadavg()],
        **fields, "results": results,
    }))


def time_training_steps(step, steps, min_time):
    """Times `steps` calls of `step` (which returns the loss) after one untimed round, at least three
    rounds and `min_time` seconds; the fields of the training-step benches (best and median)."""
    def run():
        loss = 0.0
        for _ in range(steps):
            loss = step()
        return loss

    loss = run()
    times = []
    deadline = time.perf_counter() + min_time
    while len(times) < 3 or time.perf_counter() < deadline:
        start = time.perf_counter()
        loss = run()
        times.append(time.perf_counter() - start)
    times.sort()
    return {"seconds_median": times[len(times) // 2], "seconds_min": times[0], "reps": len(times),
            "steps_per_s": steps / times[0], "last_loss": loss if math.isfinite(loss) else None}


def gelu_mlp(inputs, width, hidden_layers, outputs):
    """Inertia's `DenoiserNetwork` shape in torch: Linear + GELU layers, `hidden_layers` of them
    width -> width after the first, and a zero-initialised output layer (seeded by the caller)."""
    import torch.nn as nn
    layers = [nn.Linear(inputs, width), nn.GELU()]
    for _ in range(hidden_layers):
        layers += [nn.Linear(width, width), nn.GELU()]
    layers.append(nn.Linear(width, outputs))
    net = nn.Sequential(*layers)
    nn.init.zeros_(net[-1].weight)
    nn.init.zeros_(net[-1].bias)
    return net


def training_step_arguments():
    """The command line of the training-step benches: --batch, --steps, --threads, --min-time."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=512)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--min-time", type=float, default=0.5)
    return ap.parse_args()

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


def timed(body, min_time, warmup=3, min_reps=7):
    """`warmup` untimed calls of `body`, then at least `min_reps` timed ones and `min_time` seconds:
    the best and the median time in seconds."""
    for _ in range(warmup):
        body()
    times = []
    deadline = time.perf_counter() + min_time
    while len(times) < min_reps or time.perf_counter() < deadline:
        start = time.perf_counter()
        body()
        times.append(time.perf_counter() - start)
    times.sort()
    return times[0], times[len(times) // 2]


def read_idx_gz(path):
    """A gzipped IDX file of unsigned bytes (big-endian magic 0x0000 0x08 ndim, then ndim uint32
    sizes, then the data) as a numpy array of its shape."""
    import gzip

    import numpy as np

    with gzip.open(path, "rb") as f:
        raw = f.read()
    assert raw[0] == 0 and raw[1] == 0 and raw[2] == 0x08, "expected an unsigned-byte IDX file"
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


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

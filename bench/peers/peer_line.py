"""The JSON line every peer script here prints: the envelope `inertia bench` writes (bench name,
date, machine, versions, load average before and after) around a script's own fields and results."""
import datetime
import json
import os
import platform


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

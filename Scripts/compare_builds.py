#!/usr/bin/env python3
"""Compares two builds of `inertia` on the hot-path benchmarks, side by side in one sitting.

    python3 Scripts/compare_builds.py --before /tmp/base/.build/release/inertia \
        [--after .build/release/inertia] [--rounds 2] [--only optim train sample ot cbo gemm elementwise]
        [--env-after INERTIA_ISA=baseline]

Each round runs every benchmark with the two binaries alternately (before, after), so machine
noise hits both alike; the best figure of all rounds counts. Prints one Markdown row per figure:
the time ratio after / before (below 1: the change is faster; throughputs such as GFLOP/s are
turned into time ratios). Use it for "no hot path slower than the commit before" checks.
"""
import argparse
import json
import os
import subprocess

BENCHES = {
    "optim": ["bench", "optim", "--sizes", "1000000", "10000000", "--threads", "2", "1"],
    "train": ["bench", "train", "--datasets", "random", "--models", "mlp", "--epochs", "2"],
    "sample": ["bench", "sample", "--threads", "2", "1"],
    "ot": ["bench", "ot", "--sizes", "500", "2000", "--methods", "sinkhorn", "sinkhorn_log", "--threads", "2"],
    "cbo": ["bench", "cbo", "--threads", "2", "1"],
    "gemm": ["bench", "gemm", "--sizes", "256", "1024", "--threads", "1", "2", "--backends", "swift"],
    "elementwise": ["bench", "elementwise", "--threads", "2", "1"],
}

# Leaf names that are times (lower is better) and throughputs (higher is better).
TIMES = ("ns_per_param_min", "epoch_s", "seconds_min", "seconds", "seconds_all_runs", "exp_ns_per_element",
         "adamw_ns_per_param_min")
RATES = ("gflops_best",)


def figures(results, bench):
    """Flattens a benchmark's results into {label: (value, is_time)}."""
    out = {}
    if bench == "optim":
        for s in results["steps"]:
            out["%s %dthr n=%d" % (s["opt"], s["threads"], s["n"])] = (s["ns_per_param_min"], True)
    elif bench == "ot":
        for r in results:
            out["%s n=%d reg=%g" % (r["method"], r["n"], r["reg"])] = (r["seconds"], True)
    else:
        def walk(prefix, value):
            if isinstance(value, dict):
                for k, v in value.items():
                    walk(prefix + [k], v)
            elif isinstance(value, (int, float)) and prefix:
                leaf = prefix[-1]
                if leaf.endswith(TIMES) and not leaf.endswith("foundation_exp_ns_per_element"):
                    out[" ".join(prefix)] = (value, True)
                elif leaf.endswith(RATES):
                    out[" ".join(prefix)] = (value, False)
        walk([], results)
        if bench == "train":
            out = {k: v for k, v in out.items() if "epochs" not in k}
    return out


def run(binary, args, env):
    out = subprocess.run([binary] + args, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])["results"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                                    ".build", "release", "inertia"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only", nargs="+", default=list(BENCHES))
    ap.add_argument("--env-after", nargs="*", default=[], help="NAME=VALUE settings for the 'after' runs only")
    args = ap.parse_args()
    env_after = dict(os.environ, **dict(s.split("=", 1) for s in args.env_after))
    print("| benchmark | figure | before | after | time ratio after/before |")
    print("|---|---|---|---|---|")
    for bench in args.only:
        best = {"before": {}, "after": {}}
        for _ in range(args.rounds):
            for side, binary, env in (("before", args.before, os.environ), ("after", args.after, env_after)):
                for label, (value, is_time) in figures(run(binary, BENCHES[bench], env), bench).items():
                    old = best[side].get(label)
                    better = old is None or (value < old[0] if is_time else value > old[0])
                    if better:
                        best[side][label] = (value, is_time)
        for label in sorted(best["before"]):
            if label not in best["after"]:
                continue
            (b, is_time), (a, _) = best["before"][label], best["after"][label]
            ratio = a / b if is_time else b / a
            print("| %s | %s | %.4g | %.4g | %.2f |" % (bench, label, b, a, ratio))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Runs Inertia's benchmarks and the peers' in one sitting and prints the ratios the README quotes.

    python3 Scripts/compare_peers.py [--peers ../shared/peers] [--sizes 256 1024] [--rounds 2]

sgemm: `inertia bench gemm` against numpy's OpenBLAS (`shared/peers/gemm.py --numpy-only`, the
environment as it is), alternating Inertia and numpy for each round, best GFLOP/s of all rounds.
Elementwise: the fused AdamW pass against the triad floor and exp against Foundation, as
`inertia bench elementwise` measures them. Needs numpy and threadpoolctl (pip install threadpoolctl).
"""
import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def run_json(cmd, env=None):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", default=os.path.join(ROOT, "..", "shared", "peers"))
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 1024])
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--binary", default=os.path.join(ROOT, ".build", "release", "inertia"))
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit("build first: swift build -c release (missing %s)" % args.binary)
    best = {}
    for _ in range(args.rounds):
        swift = run_json([args.binary, "bench", "gemm", "--sizes", *map(str, args.sizes), "--threads", "1", "2",
                          "--min-time", "0.5"])
        for backend, figures in swift["results"].items():
            for key, fig in figures.items():
                if isinstance(fig, dict):
                    best[(backend, key)] = max(best.get((backend, key), 0), fig["gflops_best"])
        numpy = run_json([sys.executable, os.path.join(args.peers, "gemm.py"), "--numpy-only"])
        for key, fig in numpy.items():
            if "thr_n" in key:
                best[("numpy", key)] = max(best.get(("numpy", key), 0), fig["gflops_best"])
        blas = numpy.get("blas")
    print("numpy BLAS: %s" % json.dumps(blas))
    print("\n| threads | n | Inertia Swift GFLOP/s | Inertia OpenBLAS | numpy | Swift / numpy | OpenBLAS backend / numpy |")
    print("|---|---|---|---|---|---|---|")
    for threads in (1, 2):
        for n in args.sizes:
            key = "%dthr_n%d" % (threads, n)
            s, o, p = best.get(("inertia_swift", key)), best.get(("inertia_openblas", key)), best.get(("numpy", key))
            if p is None or s is None:
                continue
            print("| %d | %d | %.1f | %s | %.1f | %.2f | %s |" % (
                threads, n, s, "%.1f" % o if o else "-", p, s / p, "%.2f" % (o / p) if o else "-"))
    elementwise = run_json([args.binary, "bench", "elementwise", "--threads", "1", "2"])
    r = elementwise["results"]
    print("\n| threads | triad GB/s | AdamW ns/param | AdamW / triad floor | exp ns/elem | exp speedup over Foundation |")
    print("|---|---|---|---|---|---|")
    for threads in (1, 2):
        p = "%dthr_" % threads
        print("| %d | %.1f | %.3f | %.2f | %.3f | %.1fx |" % (
            threads, r[p + "triad_GBps"], r[p + "adamw_ns_per_param_min"], r[p + "adamw_over_triad_floor"],
            r[p + "exp_ns_per_element"], r[p + "exp_speedup_over_foundation"]))


if __name__ == "__main__":
    main()

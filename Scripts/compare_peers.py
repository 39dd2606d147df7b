#!/usr/bin/env python3
"""Runs Inertia's benchmarks and the peers' in one sitting and prints the ratios the README quotes.

    python3 Scripts/compare_peers.py [--peers ../shared/peers] [--sizes 256 1024] [--rounds 2]
                                     [--torch-python PATH] [--only gemm elementwise optim]

sgemm: `inertia bench gemm` against numpy's OpenBLAS (`shared/peers/gemm.py --numpy-only`, the
environment as it is), alternating Inertia and numpy for each round, best GFLOP/s of all rounds.
Elementwise: the fused AdamW pass against the triad floor and exp against Foundation, as
`inertia bench elementwise` measures them. Optimizer step: `inertia bench optim` against the fastest
torch.optim variant of `shared/peers/optim_step.py` (run with --torch-python, a Python that has torch),
at 1 and 2 threads, with the STREAM-triad floor torch's bandwidth test measures in the same run.
Sampling: `inertia bench sample` against `bench/peers/sample_mlp.py` (the same 3x128 MLP and Heun
sampler in torch), alternating, best samples/s of all rounds per thread count; sample-train: the
same with `--train` (the denoiser training loop, batch 256, Adam) on 2-D and 16-D data; lightsb:
`inertia bench lightsb` against `bench/peers/lightsb_step.py` (the official code's step in torch); jvp:
`inertia bench jvp` against `bench/peers/jvp_mlp.py` (`torch.func.jvp` of the same SiLU MLP); flow-map:
`inertia bench flow-map` against `bench/peers/flow_map_step.py` (an LSD training step); meanflow:
`inertia bench meanflow` against `bench/peers/meanflow_step.py` (a MeanFlow training step); wos: `inertia
bench wos` against `bench/peers/wos_numpy.py` (walk-on-spheres vectorised with numpy); simp: `inertia bench
simp` against `bench/peers/top88_scipy.py` (top88's Python port); ddp: data-parallel scaling, `inertia bench
train --distributed` under `mpirun -np 2` (1 thread a rank, `--mpi-binary`, a build with `--traits MPI`)
against one rank, and PyTorch DDP (gloo, `bench/peers/mlp_ddp.py`) against one torch process, on
Fashion-MNIST's MLP (second epoch); cnn: `inertia bench train --models cnn` against
`bench/peers/cnn_train.py` (the same CNN, AdamW and batch in torch) on Fashion-MNIST at 1 and 2
threads, alternating, best second epoch and peak RSS; moe: `inertia bench moe` against
`bench/peers/moe_layer.py` (the same top-k MoE layer in torch), forward + backward at the spec 5.1
layer (1024 tokens, d 64, experts 64->128->64, E 8, top-2) and the paper's medium layer (d = d_ff = 352,
E 16, top-2), alternating, best of the rounds; attention: `inertia bench attention` against
`bench/peers/momentum_attention.py` (a training step of the same attention-only model with momentum
attention in torch) at the momentum-attention spec's toy size and a longer context, alternating,
best of the rounds. Optimal transport:
`inertia bench ot` against POT (`sinkhorn.py`); CBO: `inertia bench cbo` against CBXpy (`cbo.py`).
`--torch-python` is the peers' venv python (`shared/peers/setup.sh`), which has all of them.
Needs numpy and threadpoolctl (pip install threadpoolctl).
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
    ap.add_argument("--torch-python", help="a Python with torch, for the optimizer-step comparison")
    ap.add_argument("--mpi-binary", default=os.path.join(ROOT, ".build-mpi", "release", "inertia"),
                    help="an inertia built with --traits MPI, for ddp")
    ap.add_argument("--only", nargs="+",
                    default=["gemm", "elementwise", "optim", "train", "cnn", "moe", "attention", "sample", "sample-train", "lightsb", "jvp", "flow-map",
                             "meanflow", "wos", "simp", "ot", "cbo"])
    args = ap.parse_args()
    if not os.path.exists(args.binary):
        sys.exit("build first: swift build -c release (missing %s)" % args.binary)
    if "gemm" in args.only:
        gemm(args)
    if "elementwise" in args.only:
        elementwise(args)
    if "optim" in args.only and args.torch_python:
        optim(args)
    if "train" in args.only and args.torch_python:
        train(args)
    if "cnn" in args.only and args.torch_python:
        cnn(args)
    if "moe" in args.only and args.torch_python:
        moe(args)
    if "attention" in args.only and args.torch_python:
        attention(args)
    if "sample" in args.only and args.torch_python:
        sample(args)
    if "sample-train" in args.only and args.torch_python:
        sample_train(args)
    if "lightsb" in args.only and args.torch_python:
        lightsb(args)
    if "jvp" in args.only and args.torch_python:
        jvp(args)
    if "flow-map" in args.only and args.torch_python:
        training_step(args, "flow-map", "flow_map_step.py", "LSD")
    if "meanflow" in args.only and args.torch_python:
        training_step(args, "meanflow", "meanflow_step.py", "MeanFlow")
    if "wos" in args.only:
        walk_on_spheres(args)
    if "simp" in args.only:
        simp(args)
    if "ddp" in args.only and args.torch_python:
        ddp(args)
    if "ot" in args.only and args.torch_python:
        ot(args)
    elif "sns" in args.only and args.torch_python:
        sns_experiment_a(args)
    if "cbo" in args.only and args.torch_python:
        cbo(args)


def gemm(args):
    """sgemm: Inertia (default kernels, and forced to the baseline path), numpy with the environment
    as it is and numpy with OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed (its own kernel choice,
    AVX-512 where the CPU has it), alternating, best GFLOP/s of all rounds."""
    best = {}
    unset = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    blas = {}
    for _ in range(args.rounds):
        for label, env in (("inertia", os.environ), ("inertia_baseline", dict(os.environ, INERTIA_ISA="baseline"))):
            swift = run_json([args.binary, "bench", "gemm", "--sizes", *map(str, args.sizes), "--threads", "1", "2",
                              "--min-time", "0.5", "--backends", "swift"], env)
            for key, fig in swift["results"]["inertia_swift"].items():
                if isinstance(fig, dict):
                    best[(label, key)] = max(best.get((label, key), 0), fig["gflops_best"])
        for label, env in (("numpy", os.environ), ("numpy_unset", unset)):
            numpy = run_json([sys.executable, os.path.join(args.peers, "gemm.py"), "--numpy-only"], env)
            for key, fig in numpy.items():
                if "thr_n" in key:
                    best[(label, key)] = max(best.get((label, key), 0), fig["gflops_best"])
            blas[label] = numpy.get("blas")
    print("numpy BLAS: %s" % json.dumps(blas))
    print("\n| threads | n | Inertia GFLOP/s | numpy (env as is) | numpy (OPENBLAS_* unset) | Inertia / numpy | Inertia / numpy unset | baseline path | baseline / Inertia |")
    print("|---|---|---|---|---|---|---|---|---|")
    for threads in (1, 2):
        for n in args.sizes:
            key = "%dthr_n%d" % (threads, n)
            s, b = best.get(("inertia", key)), best.get(("inertia_baseline", key))
            p, q = best.get(("numpy", key)), best.get(("numpy_unset", key))
            if None in (s, b, p, q):
                continue
            print("| %d | %d | %.1f | %.1f | %.1f | %.2f | %.2f | %.1f | %.2f |" % (threads, n, s, p, q, s / p, s / q, b, b / s))


def elementwise(args):
    elementwise = run_json([args.binary, "bench", "elementwise", "--threads", "1", "2"])
    r = elementwise["results"]
    print("\n| threads | triad GB/s | AdamW ns/param | AdamW / triad floor | exp ns/elem | exp speedup over Foundation |")
    print("|---|---|---|---|---|---|")
    for threads in (1, 2):
        p = "%dthr_" % threads
        print("| %d | %.1f | %.3f | %.2f | %.3f | %.1fx |" % (
            threads, r[p + "triad_GBps"], r[p + "adamw_ns_per_param_min"], r[p + "adamw_over_triad_floor"],
            r[p + "exp_ns_per_element"], r[p + "exp_speedup_over_foundation"]))


def optim(args):
    """Alternates Inertia and the peers (torch.optim variants, optax, lion-pytorch, adamp,
    pytorch-optimizer) per thread count; best ns/param of all rounds, against the fastest peer of
    each optimizer and, for AdamP, the official adamp package."""
    sizes = ["1000000", "10000000"]
    ours, theirs, triad = {}, {}, {}
    for threads in (1, 2):
        for _ in range(args.rounds):
            r = run_json([args.binary, "bench", "optim", "--sizes", *sizes, "--threads", str(threads)])
            for row in r["results"]["steps"]:
                key = (row["opt"], row["n"], threads)
                ours[key] = min(ours.get(key, 1e9), row["ns_per_param_min"])
            env = dict(os.environ, PEERS_THREADS=str(threads))
            t = run_json([args.torch_python, os.path.join(args.peers, "optim_step.py"), "--sizes", *sizes], env=env)
            for row in t["results"]["steps"]:
                if "ns_per_param_min" not in row:
                    continue
                label = "%s %s" % (row["impl"], row["variant"])
                for key in ((row["opt"], row["n"], threads, "fastest"), (row["opt"], row["n"], threads, row["impl"])):
                    if row["ns_per_param_min"] < theirs.get(key, (1e9, ""))[0]:
                        theirs[key] = (row["ns_per_param_min"], label)
            bw = t["results"]["bandwidth"]
            triad[threads] = max(triad.get(threads, 0), bw["torch_triad_%dthr_GBps" % threads])
    bytes_per = {"sgd_momentum": 20, "adam": 28, "adamw": 28, "lion": 20, "adamp": 28}
    print("\n| threads | optimizer | N | Inertia ns/param | peer ns/param (implementation) | Inertia / peer | Inertia / triad floor |")
    print("|---|---|---|---|---|---|---|")
    for (opt, n, threads), ns in sorted(ours.items(), key=lambda kv: (kv[0][2], kv[0][0], kv[0][1])):
        for which in ("fastest", "adamp") if opt == "adamp" else ("fastest",):
            if (opt, n, threads, which) not in theirs or opt not in bytes_per:
                continue
            tns, label = theirs[(opt, n, threads, which)]
            floor = bytes_per[opt] / triad[threads]
            print("| %d | %s | %.0e | %.3f | %.3f (%s) | %.2f | %.2f |" % (threads, opt, n, ns, tns, label, ns / tns, ns / floor))
    print("\ntriad GB/s (torch one-pass, same runs): %s" % ", ".join("%d thr %.1f" % kv for kv in sorted(triad.items())))


def ot(args):
    """POT's sinkhorn and sinkhorn_log (`sinkhorn.py`) against `inertia bench ot` (and SNS), same
    thread count, alternating; best time of the rounds; iteration counts must agree."""
    ours, theirs = {}, {}
    for threads in (2, 1):
        for _ in range(args.rounds):
            r = run_json([args.binary, "bench", "ot", "--methods", "sinkhorn", "sinkhorn_log", "sns", "--threads", str(threads)])
            for row in r["results"]:
                key = (row["n"], row["reg"], row["method"], threads)
                if row["seconds"] < ours.get(key, (1e9, 0))[0]:
                    ours[key] = (row["seconds"], row["iterations"])
            env = dict(os.environ, PEERS_THREADS=str(threads))
            t = run_json([args.torch_python, os.path.join(args.peers, "sinkhorn.py")], env=env)
            for row in t["results"]:
                key = (row["n"], row["reg"], row["method"], threads)
                if row["seconds"] < theirs.get(key, (1e9, 0))[0]:
                    theirs[key] = (row["seconds"], row["iterations"])
    print("\n| threads | n | reg | method | Inertia s (iterations) | POT s (iterations) | Inertia / POT |")
    print("|---|---|---|---|---|---|---|")
    for key in sorted(theirs, key=lambda k: (-k[3], k[0], -k[1], k[2])):
        n, reg, method, threads = key
        if key in ours:
            (a, ia), (b, ib) = ours[key], theirs[key]
            print("| %d | %d | %g | %s | %.4f (%d) | %.4f (%d) | %.2f |" % (threads, n, reg, method, a, ia, b, ib, a / b))
    print("\nSNS against POT's fastest method:")
    for (n, reg, method, threads), (a, ia) in sorted(ours.items()):
        if method != "sns":
            continue
        fastest = min(v[0] for k, v in theirs.items() if k[0] == n and k[1] == reg and k[3] == threads)
        print("  %d thr n=%d reg=%g: SNS %.3f s (%d iterations) vs %.4f s: %.1fx" % (threads, n, reg, a, ia, fastest, a / fastest))
    sns_experiment_a(args)


def sns_experiment_a(args):
    """SNS at eta 300 on the sinkhorn-newton-sparse reproduction's experiment A costs against POT's
    sinkhorn and sinkhorn_log at stopThr 1e-8 (`sns_experiment_a_pot.py`), 2 threads; the cost
    matrices are checked to be the same; SNS against the faster POT method that converged."""
    ours = run_json([args.binary, "bench", "ot", "--experiment-a", "--threads", "2", "--rounds", str(args.rounds)])
    env = dict(os.environ, PEERS_THREADS="2")
    theirs = run_json([args.torch_python, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                       "sns_experiment_a_pot.py"), "--peers", args.peers,
                       "--rounds", str(args.rounds)], env=env)
    ours_by = {(r["seed"], r["method"]): r for r in ours["results"]}
    print("\nExperiment A (100x100 U[0,1] costs, eta 300 = reg 1/300, stop at 1e-8), 2 threads:")
    print("| seed | SNS s (iterations) | Inertia sinkhorn_log s (iterations) | POT sinkhorn s (iterations, L1 err) | POT sinkhorn_log s (iterations, L1 err) | SNS / fastest converged POT |")
    print("|---|---|---|---|---|---|")
    ratios = []
    for seed in range(5):
        sns = ours_by[(seed, "sns")]
        pot = {r["method"]: r for r in theirs["results"] if r["seed"] == seed}
        assert abs(pot["sinkhorn"]["cost_sum"] - sns["cost_sum"]) < 1e-9 * sns["cost_sum"], "the costs differ"
        converged = [r["seconds"] for r in pot.values() if r["converged"]]
        ratio = sns["seconds"] / min(converged) if converged else float("nan")
        ratios.append(ratio)
        log = ours_by.get((seed, "sinkhorn_log"))
        print("| %d | %.4f (%d) | %s | %.4f (%d, %.1e) | %.4f (%d, %.1e) | %.2f |" % (
            seed, sns["seconds"], sns["iterations"],
            "%.4f (%d)" % (log["seconds"], log["iterations"]) if log else "-",
            pot["sinkhorn"]["seconds"], pot["sinkhorn"]["iterations"], pot["sinkhorn"]["marg_err_l1"],
            pot["sinkhorn_log"]["seconds"], pot["sinkhorn_log"]["iterations"], pot["sinkhorn_log"]["marg_err_l1"], ratio))
    finite = sorted(r for r in ratios if r == r)
    if finite:
        print("median SNS / fastest converged POT: %.2f (%s)" % (finite[len(finite) // 2], "SNS faster" if finite[len(finite) // 2] < 1 else "POT faster"))


def cbo(args):
    """cbx (`cbo.py`) against `inertia bench cbo`, same thread count, alternating; best time."""
    ours, theirs = {}, {}
    for threads in (2, 1):
        for _ in range(args.rounds):
            r = run_json([args.binary, "bench", "cbo", "--threads", str(threads)])
            for key, fig in r["results"].items():
                name = key.split("_", 1)[1]
                best = ours.get((name, threads), (1e9, 0))
                ours[(name, threads)] = (min(best[0], fig["seconds_all_runs"]), fig["success"])
            env = dict(os.environ, PEERS_THREADS=str(threads))
            t = run_json([args.torch_python, os.path.join(args.peers, "cbo.py")], env=env)
            for name, fig in t["results"].items():
                best = theirs.get((name, threads), (1e9, 0))
                theirs[(name, threads)] = (min(best[0], fig["seconds_all_runs"]), fig["success"])
    print("\n| threads | configuration | Inertia s (success / 10) | CBXpy s (success / 10) | Inertia / CBXpy |")
    print("|---|---|---|---|---|")
    for key in sorted(theirs, key=lambda k: (-k[1], k[0])):
        if key in ours:
            (a, sa), (b, sb) = ours[key], theirs[key]
            print("| %d | %s | %.3f (%d) | %.3f (%d) | %.2f |" % (key[1], key[0], a, sa, b, sb, a / b))


def peak_rss_run(cmd, env=None):
    """Runs cmd under a fresh Python wrapper that reports the child's peak RSS (MiB) and stdout."""
    wrapper = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True, check=True); "
               "print(r.stdout.strip().splitlines()[-1]); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)")
    out = subprocess.run([sys.executable, "-c", wrapper, *cmd], check=True, capture_output=True, text=True, env=env).stdout
    line, rss = out.strip().splitlines()[-2:]
    return json.loads(line), float(rss)


def train(args):
    """The peers' MLP (784-256-256-10, AdamW, batch 128, 469 steps per epoch): second-epoch time on
    random data and Fashion-MNIST, test accuracy after 2 epochs, peak RSS; Inertia with the Swift GEMM and
    with OpenBLAS (INERTIA_GEMM=openblas), alternating with torch, best of the rounds."""
    rows = {}
    for _ in range(args.rounds):
        for label, env in (("inertia (Swift GEMM)", dict(os.environ, INERTIA_GEMM="swift")),
                           ("inertia (OpenBLAS)", dict(os.environ, INERTIA_GEMM="openblas"))):
            r, rss = peak_rss_run([args.binary, "bench", "train", "--models", "mlp"], env)
            record(rows, label, r["results"], rss)
        env = dict(os.environ, PEERS_THREADS="2")
        r, rss = peak_rss_run([args.torch_python, os.path.join(args.peers, "mlp_train.py")], env)
        record(rows, "torch", r["results"], rss)
    torch = rows["torch"]
    print("\n| implementation | epoch s (random) | epoch s (Fashion) | vs torch (random / Fashion) | Fashion test acc after 2 epochs | peak RSS MiB |")
    print("|---|---|---|---|---|---|")
    for label, v in rows.items():
        print("| %s | %.3f | %.3f | %.2f / %.2f | %.4f | %.0f |" % (
            label, v["random"], v["fashion"], v["random"] / torch["random"], v["fashion"] / torch["fashion"], v["acc"], v["rss"]))


def cnn(args):
    """The small CNN of `bench train` (conv16-pool-conv32-pool-linear, AdamW, batch 128) on
    Fashion-MNIST: second-epoch time at 1 and 2 threads, Inertia and torch alternating, best of the
    rounds; test accuracy after 2 epochs and peak RSS."""
    peer = [args.torch_python, os.path.join(ROOT, "bench", "peers", "cnn_train.py")]
    best = {}
    for _ in range(args.rounds):
        for threads in (1, 2):
            r, rss = peak_rss_run([args.binary, "bench", "train", "--datasets", "fashion", "--models", "cnn",
                                   "--threads", str(threads)])
            fashion = r["results"]["cnn_fashion"]
            mine = best.setdefault(("inertia", threads), [1e9, 0, 0])
            mine[:] = [min(mine[0], fashion["epoch_s"]), fashion["epochs"][-1]["test_acc"], max(mine[2], rss)]
            r, rss = peak_rss_run(peer + ["--threads", str(threads)])
            theirs = best.setdefault(("torch", threads), [1e9, 0, 0])
            theirs[:] = [min(theirs[0], r["epoch_s"]), r["test_acc"], max(theirs[2], rss)]
    print("\n| threads | Inertia epoch s | torch epoch s | Inertia / torch | test acc (Inertia / torch) | peak RSS MiB (Inertia / torch) |")
    print("|---|---|---|---|---|---|")
    for threads in (1, 2):
        a, b = best[("inertia", threads)], best[("torch", threads)]
        print("| %d | %.3f | %.3f | %.2fx | %.4f / %.4f | %.0f / %.0f |" % (
            threads, a[0], b[0], a[0] / b[0], a[1], b[1], a[2], b[2]))


def moe(args):
    """A top-k MoE layer's forward + backward (`inertia bench moe` against `bench/peers/moe_layer.py`)
    at two sizes, 1 and 2 threads, alternating, best of the rounds."""
    sizes = (("spec 5.1 layer", ["--tokens", "1024", "--dimension", "64", "--hidden", "128", "--experts", "8"]),
             ("medium layer", ["--tokens", "1024", "--dimension", "352", "--hidden", "352", "--experts", "16"]))
    best = {}
    for _ in range(args.rounds):
        for label, size in sizes:
            for impl, cmd in (("inertia", [args.binary, "bench", "moe"]),
                              ("torch", [args.torch_python, os.path.join(ROOT, "bench", "peers", "moe_layer.py")])):
                results = run_json(cmd + size)["results"]
                for threads, row in results.items():
                    key = (label, threads, impl)
                    best[key] = min(best.get(key, 1e9), row["step_ms"])
    print("\n| layer | threads | Inertia fwd+bwd ms | torch fwd+bwd ms | Inertia / torch |")
    print("|---|---|---|---|---|")
    for label, _ in sizes:
        for threads in ("1thr", "2thr"):
            a, b = best[(label, threads, "inertia")], best[(label, threads, "torch")]
            print("| %s | %s | %.3f | %.3f | %.2fx |" % (label, threads[0], a, b, a / b))


def attention(args):
    """A training step of an attention-only model with momentum attention (`inertia bench attention`
    against `bench/peers/momentum_attention.py`) at two sizes, 1 and 2 threads, alternating, best of
    the rounds."""
    sizes = (("spec 5 toy (B 64, T 24, D 64, 2 heads, 1 layer)", []),
             ("context 128 (B 16, T 128, D 128, 4 heads, 2 layers)",
              ["--batch", "16", "--length", "128", "--dimension", "128", "--heads", "4", "--layers", "2",
               "--vocabulary", "64"]))
    best = {}
    for _ in range(args.rounds):
        for label, size in sizes:
            for impl, cmd in (("inertia", [args.binary, "bench", "attention"]),
                              ("torch", [args.torch_python,
                                         os.path.join(ROOT, "bench", "peers", "momentum_attention.py")])):
                for threads, row in run_json(cmd + size)["results"].items():
                    key = (label, threads, impl)
                    best[key] = min(best.get(key, 1e9), row["step_ms"])
    print("\n| model | threads | Inertia step ms | torch step ms | Inertia / torch |")
    print("|---|---|---|---|---|")
    for label, _ in sizes:
        for threads in ("1thr", "2thr"):
            a, b = best[(label, threads, "inertia")], best[(label, threads, "torch")]
            print("| %s | %s | %.3f | %.3f | %.2fx |" % (label, threads[0], a, b, a / b))


def sample(args):
    """Heun sampling of 10 000 2-D points, 50 steps, 3x128 MLP: Inertia and torch alternating."""
    best = {}
    for _ in range(args.rounds):
        for label, cmd in (("inertia", [args.binary, "bench", "sample", "--threads", "2", "1"]),
                           ("torch", [args.torch_python, os.path.join(ROOT, "bench", "peers", "sample_mlp.py"), "--threads", "2", "1"])):
            for key, fig in run_json(cmd)["results"].items():
                best[(label, key)] = max(best.get((label, key), 0), fig["samples_per_s"])
    print("\n| threads | Inertia samples/s | torch samples/s | Inertia / torch |")
    print("|---|---|---|---|")
    for key in ("2thr", "1thr"):
        print("| %s | %.0f | %.0f | %.2fx |" % (key[0], best[("inertia", key)], best[("torch", key)],
                                              best[("inertia", key)] / best[("torch", key)]))


def sample_train(args):
    """The denoiser training loop at batch 256 (2-D and 16-D data): Inertia and torch alternating."""
    best = {}
    for _ in range(args.rounds):
        for dimension in ("2", "16"):
            for label, cmd in (
                    ("inertia", [args.binary, "bench", "sample", "--train", "--dimension", dimension,
                                 "--threads", "2", "1"]),
                    ("torch", [args.torch_python, os.path.join(ROOT, "bench", "peers", "sample_mlp.py"), "--train",
                               "--dimension", dimension, "--threads", "2", "1"])):
                for key, fig in run_json(cmd)["results"].items():
                    best[(label, dimension, key)] = max(best.get((label, dimension, key), 0), fig["steps_per_s"])
    print("\n| data dimension | threads | Inertia steps/s | torch steps/s | Inertia / torch |")
    print("|---|---|---|---|---|")
    for dimension in ("2", "16"):
        for key in ("2thr", "1thr"):
            a, b = best[("inertia", dimension, key)], best[("torch", dimension, key)]
            print("| %s | %s | %.0f | %.0f | %.2fx |" % (dimension, key[0], a, b, a / b))


def lightsb(args):
    """A LightSB training step (K = 50, batch 128, D = 16 and 64): Inertia and the torch port alternating."""
    best = {}
    for _ in range(args.rounds):
        for label, cmd in (("inertia", [args.binary, "bench", "lightsb", "--threads", "2", "1"]),
                           ("torch", [args.torch_python, os.path.join(ROOT, "bench", "peers", "lightsb_step.py"),
                                      "--threads", "2", "1"])):
            for key, fig in run_json(cmd)["results"].items():
                best[(label, key)] = max(best.get((label, key), 0), fig["steps_per_s"])
    print("\n| D | threads | Inertia steps/s | torch steps/s | Inertia / torch |")
    print("|---|---|---|---|---|")
    for d in ("16", "64"):
        for threads in ("2", "1"):
            key = "D%s_%sthr" % (d, threads)
            a, b = best[("inertia", key)], best[("torch", key)]
            print("| %s | %s | %.0f | %.0f | %.2fx |" % (d, threads, a, b, a / b))


def jvp(args):
    """Forward-mode JVP of the 4x256 SiLU MLP at batch 1024 and one forward pass: Inertia and
    `torch.func.jvp` alternating, best (least) milliseconds of all rounds."""
    best = {}
    for _ in range(args.rounds):
        for label, cmd in (("inertia", [args.binary, "bench", "jvp", "--threads", "2", "1"]),
                           ("torch", [args.torch_python, os.path.join(ROOT, "bench", "peers", "jvp_mlp.py"),
                                      "--threads", "2", "1"])):
            for key, fig in run_json(cmd)["results"].items():
                for field in ("forward_ms", "jvp_ms"):
                    best[(label, key, field)] = min(best.get((label, key, field), 1e9), fig[field])
    print("\n| threads | Inertia forward ms | Inertia JVP ms | JVP / forward | torch forward ms | torch.func.jvp ms "
          "| torch JVP / forward | Inertia JVP / torch JVP |")
    print("|---|---|---|---|---|---|---|---|")
    for threads in ("2", "1"):
        key = "%sthr" % threads
        f, j = best[("inertia", key, "forward_ms")], best[("inertia", key, "jvp_ms")]
        tf, tj = best[("torch", key, "forward_ms")], best[("torch", key, "jvp_ms")]
        print("| %s | %.2f | %.2f | %.2fx | %.2f | %.2f | %.2fx | %.2fx |" % (threads, f, j, j / f, tf, tj, tj / tf, j / tj))


def training_step(args, bench, script, what):
    """A training step (`inertia bench <bench>` against `bench/peers/<script>`, which uses
    `torch.func.jvp`), alternating, best steps/s of all rounds."""
    best = {}
    for _ in range(args.rounds):
        for label, cmd in (("inertia", [args.binary, "bench", bench, "--threads", "2", "1"]),
                           ("torch", [args.torch_python, os.path.join(ROOT, "bench", "peers", script),
                                      "--threads", "2", "1"])):
            for key, fig in run_json(cmd)["results"].items():
                best[(label, key)] = max(best.get((label, key), 0), fig["steps_per_s"])
    print("\n| threads | Inertia %s steps/s | torch steps/s | Inertia / torch |" % what)
    print("|---|---|---|---|")
    for threads in ("2", "1"):
        key = "%sthr" % threads
        a, b = best[("inertia", key)], best[("torch", key)]
        print("| %s | %.0f | %.0f | %.2fx |" % (threads, a, b, a / b))


def walk_on_spheres(args):
    """Walk-on-spheres jumps per second on the fixture's disk problem: `inertia bench wos` against
    `bench/peers/wos_numpy.py` (numpy, one thread whatever the count), alternating, best of all rounds."""
    best = {}
    for _ in range(args.rounds):
        for label, cmd in (("inertia", [args.binary, "bench", "wos", "--threads", "2", "1"]),
                           ("numpy", [sys.executable, os.path.join(ROOT, "bench", "peers", "wos_numpy.py")])):
            for key, fig in run_json(cmd)["results"].items():
                best[(label, key)] = max(best.get((label, key), 0), fig["steps_per_s"])
    numpy = best[("numpy", "1thr")]
    print("\n| threads | Inertia M jumps/s | numpy M jumps/s | Inertia / numpy |")
    print("|---|---|---|---|")
    for threads in ("2", "1"):
        a = best[("inertia", "%sthr" % threads)]
        print("| %s | %.1f | %.1f | %.2fx |" % (threads, a / 1e6, numpy / 1e6, a / numpy))


def simp(args):
    """One 88-line SIMP iteration on top88's MBB beam, 120 x 60: `inertia bench simp` (banded
    Cholesky) against `bench/peers/top88_scipy.py` (`spsolve`), alternating, best of all rounds."""
    best = {}
    for _ in range(args.rounds):
        for label, cmd in (("inertia", [args.binary, "bench", "simp"]),
                           ("scipy", [args.torch_python or sys.executable,
                                      os.path.join(ROOT, "bench", "peers", "top88_scipy.py")])):
            fig = run_json(cmd)["results"]["1thr"]
            best[label] = min(best.get(label, 1e9), fig["seconds_min"])
    print("\n| Inertia ms per iteration | numpy/scipy ms per iteration | scipy / Inertia |")
    print("|---|---|---|")
    print("| %.1f | %.1f | %.2fx |" % (1000 * best["inertia"], 1000 * best["scipy"], best["scipy"] / best["inertia"]))


def ddp(args):
    """Data-parallel epoch time on Fashion-MNIST's MLP, 1 thread a process: Inertia 1 rank and 2 MPI
    ranks, torch 1 process and 2 DDP (gloo) processes, alternating, best second epoch of all rounds."""
    env = dict(os.environ, INERTIA_THREADS="1", OMP_NUM_THREADS="1")
    bench = ["bench", "train", "--datasets", "fashion", "--models", "mlp", "--threads", "1"]
    mpirun = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2", "-x", "INERTIA_THREADS=1"]
    peer = [args.torch_python, os.path.join(ROOT, "bench", "peers", "mlp_ddp.py")]
    runs = (("inertia 1", [args.mpi_binary] + bench, lambda j: j["results"]["fashion"]["epoch_s"]),
            ("inertia 2", mpirun + [args.mpi_binary] + bench + ["--distributed"],
             lambda j: j["results"]["fashion"]["epoch_s"]),
            ("torch 1", peer + ["--processes", "1"], lambda j: j["epoch_s"]),
            ("torch 2", peer + ["--processes", "2"], lambda j: j["epoch_s"]))
    best = {}
    for _ in range(args.rounds):
        for label, cmd, pick in runs:
            best[label] = min(best.get(label, 1e9), pick(run_json(cmd, env)))
    print("\n| processes x threads | Inertia epoch s | torch epoch s | Inertia / torch |")
    print("|---|---|---|---|")
    for n in ("1", "2"):
        a, b = best["inertia " + n], best["torch " + n]
        print("| %s x 1 | %.3f | %.3f | %.2fx |" % (n, a, b, a / b))
    print("speedup 2 ranks / 1: Inertia %.2fx, torch DDP %.2fx"
          % (best["inertia 1"] / best["inertia 2"], best["torch 1"] / best["torch 2"]))


def record(rows, label, results, rss):
    v = rows.setdefault(label, {"random": 1e9, "fashion": 1e9, "acc": 0, "rss": 0})
    v["random"] = min(v["random"], results["random"]["epoch_s"])
    if "epoch_s" in results.get("fashion", {}):
        v["fashion"] = min(v["fashion"], results["fashion"]["epoch_s"])
        v["acc"] = results["fashion"]["epochs"][-1]["test_acc"]
    v["rss"] = max(v["rss"], rss)


if __name__ == "__main__":
    main()

"""POT on the costs of the sinkhorn-newton-sparse reproduction's experiment A, for the `ot` section
of compare_peers.py: 100x100 costs U[0, 1] from the SplitMix64 streams of seeds 500-504
(peerutil.uniform_f64, bit for bit what `inertia bench ot --experiment-a` solves; the sum of each
cost matrix is printed to check), uniform marginals, reg = 1/300 (SNS's eta = 300), stopThr 1e-8
(SNS stops on the L1 error of both marginals at 1e-8; POT on the L2 error of the column marginal,
every 10 iterations: the L1 error of the plan it returns is reported too).

Usage: python sns_experiment_a_pot.py --peers ../shared/peers [--rounds 3]
Prints one JSON line: {"bench": "sns_experiment_a_pot", "results": [...]}.
"""
import argparse
import json
import os
import sys
import time
import warnings


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peers", required=True, help="shared/peers (for peerutil)")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, os.path.abspath(args.peers))
    import numpy as np
    import ot
    import peerutil as pu

    with pu.limit_threads():  # numpy BLAS threads used by POT
        rows = []
        for seed in range(5):
            cost = pu.uniform_f64(500 + seed, (100, 100))
            a = np.full(100, 1.0 / 100)
            for method in ("sinkhorn", "sinkhorn_log"):
                best = float("inf")
                for _ in range(max(args.rounds, 1)):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        start = time.perf_counter()
                        plan, log = ot.sinkhorn(
                            a, a, cost, 1.0 / 300, method=method, numItermax=100000, stopThr=1e-8, log=True)
                        best = min(best, time.perf_counter() - start)
                rows.append({
                    "problem": "sns-a", "seed": seed, "method": method, "iterations": int(log["niter"]) + 1,
                    "converged": bool(log["err"][-1] < 1e-8), "seconds": best,
                    "marg_err_l1": float(np.abs(plan.sum(1) - a).sum() + np.abs(plan.sum(0) - a).sum()),
                    "cost_sum": float(cost.sum()), "pot": ot.__version__,
                })
    print(json.dumps({"bench": "sns_experiment_a_pot", "results": rows}))


if __name__ == "__main__":
    main()

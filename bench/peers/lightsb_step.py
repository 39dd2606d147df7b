"""Peer figure for `inertia bench lightsb`: a LightSB training step in PyTorch, ported from the official code.

The model is `ngushchin/LightSB`'s `LightSB` class with diagonal S as `light-schrodinger-bridge.md`
describes it: parameters log_alpha_raw [K] (log alpha = log_alpha_raw / eps), r [K, D] and
S_log_diagonal [K, D]; `get_log_potential` is the torch.distributions mixture log-density
(MixtureSameFamily of Independent Normals with scale sqrt(eps S)) plus logsumexp(log alpha);
`get_log_C` is logsumexp_k(log alpha_k + (x S_k x)/(2 eps) + (r_k x)/eps). One step: the loss
mean(log_C(X0)) - mean(log_potential(X1)) on fixed standard normal batches, backward, Adam(lr 1e-3).
K = 50, batch 128, eps = 1, D = 16 and 64, float32, torch.manual_seed(0).

Usage: python lightsb_step.py [--dimensions 16 64] [--components 50] [--batch 128] [--steps 100]
                              [--threads 2 1] [--min-time 0.5]
Prints one JSON line with the same fields as `inertia bench lightsb`.
"""
import argparse
import math
import os
import time

import torch
import torch.distributions as td
import torch.nn as nn
from peer_line import print_line


class LightSB(nn.Module):
    def __init__(self, dim, n_potentials, epsilon, s_init=0.1):
        super().__init__()
        self.epsilon = epsilon
        self.log_alpha_raw = nn.Parameter(epsilon * torch.log(torch.ones(n_potentials) / n_potentials))
        self.r = nn.Parameter(torch.randn(n_potentials, dim))
        self.S_log_diagonal_matrix = nn.Parameter(torch.log(s_init * torch.ones(n_potentials, dim)))

    def get_log_potential(self, x):
        S = torch.exp(self.S_log_diagonal_matrix)
        log_alpha = self.log_alpha_raw / self.epsilon
        mix = td.Categorical(logits=log_alpha)
        components = td.Independent(td.Normal(loc=self.r, scale=torch.sqrt(self.epsilon * S)), 1)
        return td.MixtureSameFamily(mix, components).log_prob(x) + torch.logsumexp(log_alpha, dim=-1)

    def get_log_C(self, x):
        S = torch.exp(self.S_log_diagonal_matrix)
        log_alpha = self.log_alpha_raw / self.epsilon
        exp_argument = (x[:, None, :] * S[None, :, :] * x[:, None, :]).sum(dim=-1) / (2 * self.epsilon) \
            + (x[:, None, :] * self.r[None, :, :]).sum(dim=-1) / self.epsilon
        return torch.logsumexp(log_alpha[None, :] + exp_argument, dim=-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dimensions", type=int, nargs="+", default=[16, 64])
    ap.add_argument("--components", type=int, default=50)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--min-time", type=float, default=0.5)
    args = ap.parse_args()
    load_start = os.getloadavg()
    results = {}
    for d in args.dimensions:
        torch.manual_seed(0)
        x0, x1 = torch.randn(args.batch, d), torch.randn(args.batch, d)
        for threads in args.threads:
            torch.set_num_threads(threads)
            torch.manual_seed(1)
            model = LightSB(d, args.components, 1.0)
            optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

            def run():
                for _ in range(args.steps):
                    loss = model.get_log_C(x0).mean() - model.get_log_potential(x1).mean()
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    optimizer.step()
                return float(loss.detach())

            loss = run()
            times = []
            deadline = time.perf_counter() + args.min_time
            while len(times) < 3 or time.perf_counter() < deadline:
                start = time.perf_counter()
                loss = run()
                times.append(time.perf_counter() - start)
            times.sort()
            results["D%d_%dthr" % (d, threads)] = {
                "seconds_median": times[len(times) // 2], "seconds_min": times[0], "reps": len(times),
                "steps_per_s": args.steps / times[0], "last_loss": loss if math.isfinite(loss) else None,
            }
    print_line("lightsb", args.threads, load_start, results, {"torch": torch.__version__},
               components=args.components, batch=args.batch, steps=args.steps, dimensions=args.dimensions)


if __name__ == "__main__":
    main()

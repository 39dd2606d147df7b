"""Peer of `inertia bench moe`: a top-k mixture-of-experts layer in PyTorch, forward and backward.

The layer is a direct port of MomentumSMoE's (`CustomNaiveGate_Balance_SMoE` + FMoE's stacked expert
weights): Linear router with bias, top-k on the detached logits, softmax over the chosen logits,
expert `fc2(relu(fc1(x)))` on the rows routed to it, added back scaled by its gate, and the
official code's balance loss. `Scripts/fixtures/make_moe_fixture.py` writes the fixture that checks
Inertia's `SparseMixtureOfExperts` against this port. Times one forward pass (no grad) and one
forward + backward of `sum(y * u) + 0.01 * balance` on `--tokens` standard normal tokens, minimum and
median after warm-up, at each thread count.

Usage: python moe_layer.py [--tokens 1024] [--dimension 64] [--hidden 128] [--experts 8] [--top-k 2]
                           [--threads 2 1] [--min-time 0.5]
Prints one JSON line with the same fields as `inertia bench moe`.
"""
import argparse
import os

import torch
import torch.nn as nn


class StackedLinear(nn.Module):
    def __init__(self, experts, inputs, outputs):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(experts, outputs, inputs) * inputs ** -0.5)
        self.bias = nn.Parameter(torch.randn(experts, outputs) * 0.1)


class SparseMoE(nn.Module):
    def __init__(self, d, hidden, experts, k):
        super().__init__()
        self.router = nn.Linear(d, experts)
        self.experts = nn.Module()
        self.experts.fc1 = StackedLinear(experts, d, hidden)
        self.experts.fc2 = StackedLinear(experts, hidden, d)
        self.k = k

    def forward(self, x):
        shape = x.shape
        x = x.reshape(-1, shape[-1])
        logits = self.router(x)
        _, chosen = torch.topk(logits.detach(), self.k, dim=1)
        gates = torch.softmax(torch.gather(logits, 1, chosen), dim=1)
        out = torch.zeros_like(x)
        experts = self.experts.fc1.weight.shape[0]
        for e in range(experts):
            rows, slots = (chosen == e).nonzero(as_tuple=True)
            if rows.numel() == 0:
                continue
            h = torch.relu(x[rows] @ self.experts.fc1.weight[e].T + self.experts.fc1.bias[e])
            u = h @ self.experts.fc2.weight[e].T + self.experts.fc2.bias[e]
            out = out.index_add(0, rows, u * gates[rows, slots].unsqueeze(1))
        pairs = x.shape[0] * self.k
        frac = torch.bincount(chosen.reshape(-1), minlength=experts).float() / pairs
        prob = torch.softmax(logits, dim=1).sum(0) / pairs
        self.balance = experts * (frac * prob).sum()
        return out.reshape(shape)



def main():
    from peer_line import print_line, timed

    ap = argparse.ArgumentParser()
    ap.add_argument("--tokens", type=int, default=1024)
    ap.add_argument("--dimension", type=int, default=64)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--experts", type=int, default=8)
    ap.add_argument("--top-k", type=int, default=2)
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--min-time", type=float, default=0.5)
    args = ap.parse_args()
    load_start = os.getloadavg()
    torch.manual_seed(0)
    layer = SparseMoE(args.dimension, args.hidden, args.experts, args.top_k)
    x, u = torch.randn(args.tokens, args.dimension), torch.randn(args.tokens, args.dimension)

    def forward():
        with torch.no_grad():
            layer(x)

    def step():
        layer.zero_grad(set_to_none=True)
        ((layer(x) * u).sum() + 0.01 * layer.balance).backward()

    results = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        forward_min, forward_median = timed(forward, args.min_time)
        step_min, step_median = timed(step, args.min_time)
        results["%dthr" % threads] = {"forward_ms": forward_min * 1e3, "step_ms": step_min * 1e3,
                                      "forward_ms_median": forward_median * 1e3, "step_ms_median": step_median * 1e3}
    print_line("moe", args.threads, load_start, results, {"torch": torch.__version__}, tokens=args.tokens,
               dimension=args.dimension, hidden=args.hidden, experts=args.experts, top_k=args.top_k)


if __name__ == "__main__":
    main()

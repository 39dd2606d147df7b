"""Peer of `inertia bench attention`: momentum attention (K. Maitra, arXiv 2602.04902) in PyTorch, and
one training step of an attention-only model built from it.

`MomentumAttention` is the spec's section 2.6 pseudocode (`shared/papers/momentum-attention.md`):
projections without bias, rotary embedding on adjacent pairs (2i, 2i+1) or on halves (i, i + d/2),
then the shear `x + gamma (x - x_prev)` along time on queries and keys (after the rotation, or
before it with `before_rope`), the first position taking `p_0 = 0` (`x_prev = x`) or zero padding
(`x_prev = 0`), causal softmax attention with the usual 1/sqrt(d_h), values unsheared.
`Scripts/fixtures/make_momentum_attention_fixture.py` writes the fixture that checks Inertia's layer
against this port.

The bench times one training step (forward, cross-entropy at the last position, backward, Adam) of
`AttentionOnlyModel`: token and learned position embeddings, `layers` residual momentum-attention
blocks, an unembedding of the last position; on random token sequences, minimum and median after
warm-up, at each thread count.

Usage: python momentum_attention.py [--batch 64] [--length 24] [--dimension 64] [--heads 2] [--layers 1]
                                    [--vocabulary 16] [--gamma 1] [--threads 2 1] [--min-time 0.5]
Prints one JSON line with the same fields as `inertia bench attention`.
"""
import argparse
import os

import torch
import torch.nn as nn


def rope(x, base, pairing, offset=0):
    d = x.shape[-1]
    half = d // 2
    pos = torch.arange(offset, offset + x.shape[-2], dtype=torch.float64)
    inv = base ** (-2 * torch.arange(half, dtype=torch.float64) / d)
    angle = pos[:, None] * inv[None, :]
    if pairing == "halves":
        cos = torch.cat([angle.cos(), angle.cos()], -1).float()
        sin = torch.cat([angle.sin(), angle.sin()], -1).float()
        x1, x2 = x[..., :half], x[..., half:]
        return x * cos + torch.cat([-x2, x1], -1) * sin
    cos = angle.cos().repeat_interleave(2, -1).float()
    sin = angle.sin().repeat_interleave(2, -1).float()
    pairs = x.reshape(*x.shape[:-1], half, 2)
    turned = torch.stack([-pairs[..., 1], pairs[..., 0]], -1).reshape(x.shape)
    return x * cos + turned * sin


def shear(x, gamma, first_position="no_velocity"):
    """`x + gamma (x - x_prev)` along axis -2, no wrap-around."""
    first = x[..., :1, :] if first_position == "no_velocity" else torch.zeros_like(x[..., :1, :])
    previous = torch.cat([first, x[..., :-1, :]], -2)
    return x + gamma * (x - previous)


class MomentumAttention(nn.Module):
    def __init__(self, dim, heads, gamma, rope_base=None, pairing="adjacent", first_position="no_velocity",
                 before_rope=False, shear_queries=True, shear_keys=True):
        super().__init__()
        self.heads, self.gamma, self.rope_base, self.pairing = heads, gamma, rope_base, pairing
        self.first_position, self.before_rope = first_position, before_rope
        self.shear_queries, self.shear_keys = shear_queries, shear_keys
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)
        self.value = nn.Linear(dim, dim, bias=False)
        self.output = nn.Linear(dim, dim, bias=False)

    def positioned(self, y, sheared):
        def rotated(z):
            return z if self.rope_base is None else rope(z, self.rope_base, self.pairing)

        if not sheared:
            return rotated(y)
        if self.before_rope:
            return rotated(shear(y, self.gamma, self.first_position))
        return shear(rotated(y), self.gamma, self.first_position)

    def forward(self, x):
        b, n, d = x.shape
        h = self.heads

        def split(y):
            return y.view(b, n, h, d // h).transpose(1, 2)

        q = self.positioned(split(self.query(x)), self.shear_queries)
        k = self.positioned(split(self.key(x)), self.shear_keys)
        v = split(self.value(x))
        scores = q @ k.transpose(-1, -2) / (d // h) ** 0.5
        mask = torch.triu(torch.ones(n, n, dtype=torch.bool), 1)
        y = torch.softmax(scores.masked_fill(mask, float("-inf")), -1) @ v
        return self.output(y.transpose(1, 2).reshape(b, n, d))


class AttentionOnlyModel(nn.Module):
    """The spec's section 5 toy: embeddings N(0, 0.02), projections N(0, 1/D), residual attention
    blocks without MLP or LayerNorm, logits of the last position."""

    def __init__(self, vocabulary, length, dim, heads, layers, gamma):
        super().__init__()
        self.tokens = nn.Embedding(vocabulary, dim)
        self.positions = nn.Embedding(length, dim)
        self.blocks = nn.ModuleList([MomentumAttention(dim, heads, gamma) for _ in range(layers)])
        self.unembedding = nn.Linear(dim, vocabulary, bias=False)
        for embedding in (self.tokens, self.positions):
            nn.init.normal_(embedding.weight, std=0.02)
        for name, p in self.named_parameters():
            if not name.startswith(("tokens", "positions")):
                nn.init.normal_(p, std=dim ** -0.5)

    def forward(self, tokens):
        x = self.tokens(tokens) + self.positions(torch.arange(tokens.shape[1]))
        for block in self.blocks:
            x = x + block(x)
        return self.unembedding(x[:, -1])


def main():
    from peer_line import print_line, timed

    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--length", type=int, default=24)
    ap.add_argument("--dimension", type=int, default=64)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--layers", type=int, default=1)
    ap.add_argument("--vocabulary", type=int, default=16)
    ap.add_argument("--gamma", type=float, default=1.0)
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--min-time", type=float, default=0.5)
    args = ap.parse_args()
    load_start = os.getloadavg()
    torch.manual_seed(0)
    model = AttentionOnlyModel(args.vocabulary, args.length, args.dimension, args.heads, args.layers, args.gamma)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    tokens = torch.randint(0, args.vocabulary, (args.batch, args.length))
    labels = torch.randint(0, args.vocabulary, (args.batch,))

    def step():
        optimizer.zero_grad(set_to_none=True)
        nn.functional.cross_entropy(model(tokens), labels).backward()
        optimizer.step()

    results = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        step_min, step_median = timed(step, args.min_time)
        results["%dthr" % threads] = {"step_ms": step_min * 1e3, "step_ms_median": step_median * 1e3}
    print_line("attention", args.threads, load_start, results, {"torch": torch.__version__}, batch=args.batch,
               length=args.length, dimension=args.dimension, heads=args.heads, layers=args.layers,
               vocabulary=args.vocabulary, gamma=args.gamma)


if __name__ == "__main__":
    main()

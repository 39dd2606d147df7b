"""Peer of `inertia bench train --datasets fashion --models cnn --threads T`: the same small CNN in
PyTorch (conv 1->16 3x3 pad 1, ReLU, max-pool 2, conv 16->32 3x3 pad 1, ReLU, max-pool 2, linear
1568->10), cross-entropy, AdamW (lr 1e-3, torch defaults otherwise), batch 128, 60000 Fashion-MNIST
samples per epoch (469 steps) shuffled by a seeded torch.Generator; two epochs, the second timed;
test accuracy after the last epoch.

Prints one JSON line: {"bench": "cnn_train", "threads": T, "epoch_s": ..., "ms_per_step": ...,
"test_acc": ..., "epochs": [...]}.

Usage: python cnn_train.py [--threads 2] [--epochs 2] [--data DIR]
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
from peer_line import read_idx_gz

BATCH, LR = 128, 1e-3
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def load(d):
    def images(name):
        pixels = read_idx_gz(os.path.join(d, "%s-images-idx3-ubyte.gz" % name))
        return torch.from_numpy(pixels.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)

    def labels(name):
        return torch.from_numpy(read_idx_gz(os.path.join(d, "%s-labels-idx1-ubyte.gz" % name)).astype(np.int64))

    return images("train"), labels("train"), images("t10k"), labels("t10k")


def model():
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--data", default=DEFAULT_DATA)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    x, y, xt, yt = load(args.data)
    net = model()
    opt = torch.optim.AdamW(net.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)
    n = x.shape[0]
    steps = (n + BATCH - 1) // BATCH
    epochs = []
    for epoch in range(args.epochs):
        perm = torch.randperm(n, generator=gen)
        total, t0 = 0.0, time.perf_counter()
        for i in range(steps):
            idx = perm[i * BATCH:(i + 1) * BATCH]
            loss = loss_fn(net(x[idx]), y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * idx.numel()
        secs = time.perf_counter() - t0
        epochs.append({"epoch": epoch + 1, "seconds": secs, "train_loss": total / n})
    with torch.no_grad():
        accuracy = (net(xt).argmax(1) == yt).float().mean().item()
    last = epochs[-1]["seconds"]
    print(json.dumps({"bench": "cnn_train", "threads": args.threads, "torch": torch.__version__, "epoch_s": last,
                      "ms_per_step": 1e3 * last / steps, "test_acc": accuracy, "epochs": epochs}))


if __name__ == "__main__":
    main()

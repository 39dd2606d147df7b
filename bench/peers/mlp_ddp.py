"""Peer of `mpirun -np N inertia bench train --distributed --datasets fashion --models mlp --threads 1`:
PyTorch DistributedDataParallel (gloo) on the same 784-256-256-10 ReLU MLP, AdamW (lr 1e-3, torch
defaults otherwise), a global batch of 128 split over the processes, Fashion-MNIST, one thread per
process. Each epoch's batches are the same seeded permutation on every process, each process taking
positions rank, rank + N, ... of every batch (Inertia's rank shares); two epochs, the second timed.
With --processes 1 it is the single-process baseline (no DDP wrapper).

Prints one JSON line: {"bench": "mlp_ddp", "processes": N, "epoch_s": ..., "ms_per_step": ...,
"test_acc": ...}.

Usage: python mlp_ddp.py [--processes 2] [--epochs 2] [--data DIR]
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn as nn
from peer_line import read_idx_gz

BATCH, LR = 128, 1e-3
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def load(d):
    def images(name):
        return torch.from_numpy(read_idx_gz(os.path.join(d, "%s-images-idx3-ubyte.gz" % name))
                                .reshape(-1, 784).astype(np.float32) / 255.0)

    def labels(name):
        return torch.from_numpy(read_idx_gz(os.path.join(d, "%s-labels-idx1-ubyte.gz" % name)).astype(np.int64))

    return images("train"), labels("train"), images("t10k"), labels("t10k")


def worker(rank, size, args, port, results):
    torch.set_num_threads(1)
    if size > 1:
        dist.init_process_group("gloo", init_method="tcp://127.0.0.1:%d" % port, rank=rank, world_size=size)
    x, y, xt, yt = load(args.data)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    model = nn.parallel.DistributedDataParallel(net) if size > 1 else net
    opt = torch.optim.AdamW(model.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)
    n = x.shape[0]
    steps = (n + BATCH - 1) // BATCH
    seconds = []
    for _ in range(args.epochs):
        order = torch.randperm(n, generator=gen)
        start = time.perf_counter()
        for s in range(steps):
            idx = order[s * BATCH:(s + 1) * BATCH][rank::size]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        seconds.append(time.perf_counter() - start)
    if rank == 0:
        with torch.no_grad():
            acc = (net(xt).argmax(1) == yt).float().mean().item()
        results.put({"bench": "mlp_ddp", "processes": size, "threads_per_process": 1, "epoch_s": seconds[-1],
                     "ms_per_step": 1e3 * seconds[-1] / steps, "test_acc": acc, "torch": torch.__version__})
    if size > 1:
        dist.destroy_process_group()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--data", default=DEFAULT_DATA)
    p.add_argument("--port", type=int, default=29517)
    args = p.parse_args()
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(r, args.processes, args, args.port, results))
             for r in range(args.processes)]
    for proc in procs:
        proc.start()
    line = results.get()
    for proc in procs:
        proc.join()
    print(json.dumps(line))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The CPU reference claug is compared with: the same model, initialisation, optimiser and
settings in PyTorch (Debian's python3-torch), on the same Fashion-MNIST files.

    python3 tools/pytorch_reference.py [--epochs 10] [--model seed|seed-dropout]
                                       [--rotation-range 10] [--threads 2] [--train-size N]

Prints Keras-style lines per epoch (loss, accuracy, val_loss, val_accuracy, seconds) and the
median seconds per epoch. Not part of the build or the tests: a tool for the benchmark notes.
"""
import argparse
import gzip
import math
import statistics
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def load(path, magic, header):
    with gzip.open(path, "rb") as f:
        data = f.read()
    assert int.from_bytes(data[:4], "big") == magic, path
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def dataset(root):
    xs = load(f"{root}/train-images-idx3-ubyte.gz", 0x803, 16).reshape(-1, 1, 28, 28)
    ys = load(f"{root}/train-labels-idx1-ubyte.gz", 0x801, 8)
    xt = load(f"{root}/t10k-images-idx3-ubyte.gz", 0x803, 16).reshape(-1, 1, 28, 28)
    yt = load(f"{root}/t10k-labels-idx1-ubyte.gz", 0x801, 8)
    f = lambda a: torch.from_numpy(a.astype(np.float32) / 255.0)
    return f(xs), torch.from_numpy(ys.astype(np.int64)), f(xt), torch.from_numpy(yt.astype(np.int64))


def model(name):
    drop = name == "seed-dropout"
    layers = [nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2)]
    layers += [nn.Dropout(0.25)] if drop else []
    layers += [nn.Conv2d(32, 32, 3), nn.ReLU(), nn.MaxPool2d(2)]
    layers += [nn.Dropout(0.25)] if drop else []
    layers += [nn.Flatten(), nn.Linear(800, 128), nn.ReLU()]
    layers += [nn.Dropout(0.5)] if drop else []
    layers += [nn.Linear(128, 10)]
    m = nn.Sequential(*layers)
    for layer in m:  # Keras' defaults: Glorot-uniform kernels, zero biases
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)
            nn.init.zeros_(layer.bias)
    return m


def rotate(x, degrees):
    """Rotation about the centre by U(-d, d), bilinear, edge pixels extended (Keras' nearest)."""
    a = (torch.rand(x.shape[0]) * 2 - 1) * math.radians(degrees)
    cos, sin = torch.cos(a), torch.sin(a)
    theta = torch.stack([torch.stack([cos, -sin, torch.zeros_like(a)], 1),
                         torch.stack([sin, cos, torch.zeros_like(a)], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--model", default="seed", choices=["seed", "seed-dropout"])
    p.add_argument("--rotation-range", type=float, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-size", type=int, default=0)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    xs, ys, xt, yt = dataset(a.data)
    if a.train_size:
        xs, ys = xs[: a.train_size], ys[: a.train_size]
    m = model(a.model)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    n, batch, seconds = xs.shape[0], 32, []
    for epoch in range(a.epochs):
        m.train()
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        loss_sum, right = 0.0, 0
        for i in range(0, n, batch):
            idx = perm[i : i + batch]
            x, y = xs[idx], ys[idx]
            if a.rotation_range:
                x = rotate(x, a.rotation_range)
            out = m(x)
            loss = F.cross_entropy(out, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            right += (out.argmax(1) == y).sum().item()
        dt = time.perf_counter() - t0
        seconds.append(dt)
        m.eval()
        with torch.no_grad():
            out = torch.cat([m(xt[i : i + 256]) for i in range(0, xt.shape[0], 256)])
            val_loss = F.cross_entropy(out, yt).item()
            val_acc = (out.argmax(1) == yt).float().mean().item()
        print(f"Epoch {epoch + 1}/{a.epochs} - {dt:.1f}s - loss: {loss_sum / n:.4f} - accuracy: {right / n:.4f}"
              f" - val_loss: {val_loss:.4f} - val_accuracy: {val_acc:.4f}", flush=True)
    print(f"median seconds per epoch: {statistics.median(seconds):.2f} ({n / statistics.median(seconds):.0f} images/s)")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The CPU reference claug is compared with: the same model, initialisation, optimiser and
settings in PyTorch (Debian's python3-torch), on the same Fashion-MNIST files.

    python3 tools/pytorch_reference.py [--epochs 10] [--model seed|seed-dropout]
                                       [--rotation-range 10] [--threads 2] [--train-size N]

Prints Keras-style lines per epoch (loss, accuracy, val_loss, val_accuracy, seconds) and the
median seconds per epoch: a tool for the benchmark notes.

    python3 tools/pytorch_reference.py --write-state tests/data/reference_state.bin --claug build/claug

writes, once, the state tests/test_reference.c checks claug against (tests/data/README.md gives
its layout): the seed model in float64 with weights from a generator both sides compute, on one
batch of training images and one of claug's augmentations of others (pixels from `claug augment
--dump`, so both frameworks see the same input), its logits, loss, every gradient and the losses
of the first Adam steps. The tests read the committed file; only regenerating it needs PyTorch.
"""
import argparse
import gzip
import json
import math
import os
import statistics
import struct
import subprocess
import tempfile
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


# ---- the reference state (tests/data/README.md) ------------------------------------------------

STATE_MAGIC, STATE_VERSION = b"CLAUGREF", 1
STATE_SEED_FROM = 2024     # the weights' generator takes the first seed from here that keeps clear of kinks
STATE_STEPS = 5            # Adam steps on the batch
STATE_LR = 1e-3            # Adam as in Keras: beta1 0.9, beta2 0.999, epsilon 1e-7
PLAIN_INDEX = [0, 1, 2, 3]
AUGMENTED_INDEX = [4, 5, 6, 7]
AUGMENT_FLAGS = ["--rotation-range", "10", "--width-shift-range", "0.1", "--zoom-range", "0.1", "--horizontal-flip"]
AUGMENT_SEED, AUGMENT_EPOCH = 42, 0  # claug's defaults; `claug augment` draws augmentation 1 with epoch 0
MODEL_SEED = "conv32x3,relu,conv32x3,relu,maxpool2,conv32x3,relu,maxpool2,flatten,dense128,relu,dense10,softmax"
MASK64 = (1 << 64) - 1
KINK_MARGIN = 2e-7         # 20 times the rounding of claug's float32 pre-activations on PoCL (1e-8)


def splitmix64(state):
    """SplitMix64: the generator of the reference's weights, in integers, so C computes the same."""
    while True:
        state = (state + 0x9E3779B97F4A7C15) & MASK64
        z = state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        yield z ^ (z >> 31)


def state_weights(m, seed):
    """Kernels U(-l, l) with Glorot's l = sqrt(6 / (fan_in + fan_out)), biases U(-0.1, 0.1), one
    stream over the tensors in claug's order, row-major; each value (float)(l * (2u - 1)) with
    u = (z >> 40) / 2^24, all exact in double but the one product, so C rounds it the same."""
    gen = splitmix64(seed)
    for layer in m:
        if not isinstance(layer, (nn.Conv2d, nn.Linear)):
            continue
        for t in (layer.weight, layer.bias):
            if t is layer.weight:
                rf = t[0, 0].numel()  # the receptive field: kh * kw, 1 for dense
                limit = math.sqrt(6.0 / (t.shape[1] * rf + t.shape[0] * rf))
            else:
                limit = 0.1
            v = [limit * (2.0 * ((next(gen) >> 40) / 16777216.0) - 1.0) for _ in range(t.numel())]
            with torch.no_grad():
                t.copy_(torch.from_numpy(np.array(v, dtype=np.float32).astype(np.float64)).view_as(t))


def tensor_names(m):
    """Keras' names, as claug's weights files carry them: conv2d, conv2d_1, ..., dense, dense_1."""
    names, counts = [], {}
    for layer in m:
        kind = {nn.Conv2d: "conv2d", nn.Linear: "dense"}.get(type(layer))
        if kind:
            k = counts.get(kind, 0)
            counts[kind] = k + 1
            base = kind if k == 0 else f"{kind}_{k}"
            names += [(f"{base}/kernel", layer.weight), (f"{base}/bias", layer.bias)]
    return names


def pool_gap(x, k):
    """The smallest gap between the largest and the second largest of a pooling window whose
    maximum is positive. Exact ties are left out: they come from constant patches (the images'
    background), which claug computes exactly equal as well, and both take the first maximum."""
    w = x.unfold(2, k, k).unfold(3, k, k).reshape(*x.shape[:2], x.shape[2] // k, x.shape[3] // k, k * k)
    top = w.topk(2, dim=-1).values
    gap = top[..., 0] - top[..., 1]
    gap = gap[(top[..., 0] > 0) & (gap > 0)]
    return gap.min().item() if gap.numel() else math.inf


def claug_augmented(claug, data, index):
    """Augmentation 1 (epoch 0) of training image `index` as claug's device kernel draws it."""
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([claug, "augment", "-q", "--data", data, "--seed", str(AUGMENT_SEED), "-i", str(index), "-n", "1",
                        "-o", f"{d}/a.png", "--dump", d] + AUGMENT_FLAGS, check=True)
        with open(f"{d}/aug-1.json") as f:
            meta = json.load(f)
        assert meta["epoch"] == AUGMENT_EPOCH and meta["seed"] == AUGMENT_SEED, meta
        pixels = np.fromfile(f"{d}/aug-1.f32", dtype="<f4")
    return pixels, meta["augmentation"]


def keras_adam(params, grads, m, v, t):
    """One step of Keras' Adam (epsilon outside the bias correction, as claug's adam_step)."""
    b1, b2, eps = 0.9, 0.999, 1e-7
    lr_t = STATE_LR * math.sqrt(1 - b2**t) / (1 - b1**t)
    with torch.no_grad():
        for p, g, mi, vi in zip(params, grads, m, v):
            mi.mul_(b1).add_((1 - b1) * g)
            vi.mul_(b2).add_((1 - b2) * g * g)
            p.sub_(lr_t * mi / (vi.sqrt() + eps))


def seeded_model(seed):
    m = model("seed").double()
    state_weights(m, seed)
    return m


def kink_distance(m, x):
    """How near the forward of x comes to a kink: the smallest |pre-activation| of a ReLU and the
    smallest gap of a pooling window. claug computes in float32, so a value nearer a kink than its
    rounding (about 1e-8 on PoCL) could switch a mask, and a gradient term with it; the margins of
    test_reference assume none is within KINK_MARGIN."""
    near = []
    hooks = [layer.register_forward_hook(lambda mod, inp, out: near.append(inp[0].abs().min().item()))
             for layer in m if isinstance(layer, nn.ReLU)]
    hooks += [layer.register_forward_hook(lambda mod, inp, out: near.append(pool_gap(inp[0], mod.kernel_size)))
              for layer in m if isinstance(layer, nn.MaxPool2d)]
    with torch.no_grad():
        m(x)
    for h in hooks:
        h.remove()
    return min(near)


def state_batch(x, y, seed):
    """The seed model from the generator's weights on batch (x, y): logits, every gradient (the
    800 x 128 dense kernel's as its two factors), and the loss before each of the Adam steps."""
    m = seeded_model(seed)
    names = tensor_names(m)
    dense = next(layer for layer in m if isinstance(layer, nn.Linear))
    seen = {}
    dense.register_forward_hook(lambda mod, inp, out: seen.update(x=inp[0], z=out) or out.retain_grad())
    params = [t for _, t in names]
    moments = [[torch.zeros_like(p) for p in params] for _ in range(2)]
    losses, first = [], None
    for t in range(1, STATE_STEPS + 1):
        out = m(x)
        loss = F.cross_entropy(out, y)
        for p in params:
            p.grad = None
        loss.backward()
        losses.append(loss.item())
        if first is None:
            grads = {}
            for name, p in names:
                if p is dense.weight:
                    dz, xin = seen["z"].grad, seen["x"].detach()
                    assert torch.allclose(dz.t() @ xin, p.grad, rtol=1e-12, atol=1e-15)
                    grads[name] = ("factors", dz.numpy(), xin.numpy())
                else:
                    grads[name] = ("full", p.grad.numpy().copy())
            first = (out.detach().numpy().copy(), grads)
        keras_adam(params, [p.grad for p in params], moments[0], moments[1], t)
    return first[0], first[1], losses, [n for n, _ in names]


def write_state(path, claug, data):
    images = load(f"{data}/train-images-idx3-ubyte.gz", 0x803, 16).reshape(-1, 28 * 28)
    ys = torch.from_numpy(load(f"{data}/train-labels-idx1-ubyte.gz", 0x801, 8).astype(np.int64))
    inputs = []
    for name, index in (("plain", PLAIN_INDEX), ("augmented", AUGMENTED_INDEX)):
        if name == "plain":  # claug's scaling: times the float nearest 1/255, in float32
            pixels = images[index].astype(np.float32) * np.float32(1 / 255)
            augmentation = ""
        else:
            drawn = [claug_augmented(claug, data, i) for i in index]
            pixels, augmentation = np.stack([p for p, _ in drawn]), drawn[0][1]
        x = torch.from_numpy(pixels.astype(np.float64)).view(len(index), 1, 28, 28)
        inputs.append((name, augmentation, index, pixels, x, ys[index]))
    seed = STATE_SEED_FROM
    while (near := min(kink_distance(seeded_model(seed), x) for *_, x, _ in inputs)) <= KINK_MARGIN:
        seed += 1
        assert seed < STATE_SEED_FROM + 1000, "no seed keeps clear of kinks: lower KINK_MARGIN or B"
    print(f"weights' seed {seed}: nothing nearer a kink than {near:.3g}")
    batches = []
    for name, augmentation, index, pixels, x, y in inputs:
        logits, grads, losses, names = state_batch(x, y, seed)
        batches.append((name, augmentation, index, y.numpy(), pixels, logits, losses, names, grads))
        print(f"{name}: loss {losses[0]:.6f}, after {STATE_STEPS} steps {losses[-1]:.6f}")

    u32 = lambda *v: struct.pack(f"<{len(v)}I", *v)
    text = lambda s: u32(len(s.encode())) + s.encode()
    f32 = lambda a: np.asarray(a, dtype="<f4").tobytes()
    out = [STATE_MAGIC, u32(STATE_VERSION, 4, 1, 28, 28, 10, STATE_STEPS, seed), struct.pack("<d", STATE_LR),
           text(MODEL_SEED), u32(len(batches))]
    for name, augmentation, index, labels, pixels, logits, losses, names, grads in batches:
        out += [text(name), text(augmentation), u32(AUGMENT_SEED, AUGMENT_EPOCH), u32(*index), u32(*labels),
                f32(pixels), f32(logits), f32(losses), u32(len(names))]
        for tname in names:
            g = grads[tname]
            out.append(text(tname))
            if g[0] == "full":
                out += [u32(0, g[1].size), f32(g[1])]
            else:
                out += [u32(1, g[1].shape[1], g[2].shape[1]), f32(g[1]), f32(g[2])]
    blob = b"".join(out)
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(blob)
    os.replace(tmp, path)
    print(f"wrote {path}: {len(blob)} bytes")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--model", default="seed", choices=["seed", "seed-dropout"])
    p.add_argument("--rotation-range", type=float, default=0)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-size", type=int, default=0)
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    p.add_argument("--write-state", metavar="FILE", help="write the reference state of tests/test_reference.c")
    p.add_argument("--claug", default="build/claug", help="the claug binary whose augmentation --write-state uses")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    if a.write_state:
        write_state(a.write_state, a.claug, a.data)
        return
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

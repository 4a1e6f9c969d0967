#!/usr/bin/python3
"""The forward pass of an .npz from `claug export` in NumPy, on the Fashion-MNIST test set, as
Keras computes it: NHWC activations, kernels in Keras' layouts ((kh, kw, in, out) convolutions,
(in, units) dense layers after Flatten over (h, w, c)), the model built from the file's 'model'
string. Nothing of claug's layouts is used, so a layout claug got wrong shows as a wrong accuracy.

    npz_forward.py MODEL.npz DATA_DIR EVAL_OUTPUT [COMPRESSED.npz]

Compares the accuracy and the confusion matrix with those `claug eval` printed (EVAL_OUTPUT, its
stdout) and exits 1 if they differ; with COMPRESSED.npz also writes the same arrays through
np.savez_compressed (deflated members, zip64 local headers), for claug to read back.
Needs only Debian's python3-numpy."""
import gzip
import os
import re
import sys

import numpy as np


def idx(path):
    """An IDX file (gzip or plain): its array of uint8."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def test_set(data_dir):
    def find(name):
        for n in (name + ".gz", name):
            if os.path.exists(os.path.join(data_dir, n)):
                return os.path.join(data_dir, n)
        sys.exit(f"npz_forward: {name}(.gz) not in {data_dir}")
    return idx(find("t10k-images-idx3-ubyte")), idx(find("t10k-labels-idx1-ubyte"))


def conv_valid(x, k):
    """Keras' Conv2D, padding 'valid', stride 1: x (n, h, w, c), k (kh, kw, c, o)."""
    kh, kw = k.shape[:2]
    oh, ow = x.shape[1] - kh + 1, x.shape[2] - kw + 1
    y = np.zeros((x.shape[0], oh, ow, k.shape[3]), np.float32)
    for dy in range(kh):
        for dx in range(kw):
            y += x[:, dy:dy + oh, dx:dx + ow, :] @ k[dy, dx]
    return y


def forward(f, x):
    """Logits of the batch x (n, h, w, c) through the layers of f's model string."""
    count = {}
    for token in str(f["model"]).split(","):
        kind = re.match(r"[a-z]+", token).group()
        arg = token[len(kind):]
        if kind in ("conv", "dense"):
            keras = "conv2d" if kind == "conv" else "dense"
            name = keras if keras not in count else f"{keras}_{count[keras]}"
            count[keras] = count.get(keras, 0) + 1
            kernel, bias = f[name + "/kernel"], f[name + "/bias"]
            if kind == "conv":
                x = conv_valid(x, kernel) + bias
            else:
                x = x.reshape(x.shape[0], -1) @ kernel + bias  # Keras' Flatten first, if it was not there
        elif kind == "relu":
            x = np.maximum(x, 0)
        elif kind == "maxpool":
            s = int(arg)
            n, h, w, c = x.shape
            x = x[:, :h // s * s, :w // s * s, :].reshape(n, h // s, s, w // s, s, c).max(axis=(2, 4))
        elif kind == "flatten":
            x = x.reshape(x.shape[0], -1)
        elif kind in ("dropout", "softmax"):
            pass  # inference: dropout passes through; softmax does not change the argmax
        else:
            sys.exit(f"npz_forward: unknown layer '{token}'")
    return x


def eval_output(path):
    """The accuracy and the confusion matrix `claug eval` printed."""
    text = open(path).read()
    acc = float(re.findall(r"accuracy: ([0-9.]+)", text)[-1])
    rows = re.findall(r"^  \d (.{12})((?: +\d+){10}) +\d+ +[0-9.]+%$", text, re.M)
    return acc, np.array([[int(v) for v in r[1].split()] for r in rows])


def main():
    npz, data_dir, eval_path = sys.argv[1:4]
    f = np.load(npz)
    h, w, c = (int(v) for v in f["input_shape"])
    images, labels = test_set(data_dir)
    # claug scales by the float nearest 1/255 (cl/data.cl)
    x = images.reshape(-1, h, w, c).astype(np.float32) * np.float32(1.0 / 255.0)
    predicted = np.concatenate([forward(f, x[i:i + 500]).argmax(axis=1) for i in range(0, len(x), 500)])
    confusion = np.zeros((10, 10), np.int64)
    np.add.at(confusion, (labels, predicted), 1)
    correct = int((predicted == labels).sum())
    acc, claug = eval_output(eval_path)
    print(f"numpy forward of {npz}: {correct} of {len(labels)} right, accuracy {correct / len(labels):.4f}; "
          f"claug eval: {acc:.4f}")
    ok = round(correct / len(labels), 4) == acc
    if claug.shape != (10, 10) or not (claug == confusion).all():
        print("confusion matrices differ:\nnumpy\n", confusion, "\nclaug eval\n", claug)
        ok = False
    if len(sys.argv) > 4:
        np.savez_compressed(sys.argv[4], **{k: f[k] for k in f.files})
    sys.exit(0 if ok else 1)


main()

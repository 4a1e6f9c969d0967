#!/usr/bin/env python3
"""claug's augmentation against the real Keras: tf-keras' ImageDataGenerator.apply_transform and
.standardize, fed the parameters `claug augment --dump` drew, on the same original image.

Needs tensorflow and tf-keras (not in CI; the ctest keras_affine checks the same against Keras'
code re-typed, with Debian's numpy and scipy). For example:

    python3 -m venv /opt/keras-venv && /opt/keras-venv/bin/pip install tensorflow-cpu tf-keras
    /opt/keras-venv/bin/python tools/keras_augment_check.py build/claug

For each option set it prints the largest difference between claug's pixels and Keras' on [0, 1]
data over IMAGES x DRAWS augmentations. Where claug documents a departure, both are shown:
`wrap` (claug: period n, scipy's 'grid-wrap'; Keras passes scipy's legacy 'wrap', period n - 1)
and brightness (Keras' PIL enhancer works on 8 bits: on 0..255 data it truncates to uint8 before
and after the factor; on [0, 1] data it is meaningless; claug multiplies and clips). Standardized
pixels leave [0, 1], so their difference is divided by the gain of standardize's linear map
(1 / the divisors, the row sums of |W| for ZCA). datagen.fit's statistics are compared too.
"""

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
from tf_keras.preprocessing.image import ImageDataGenerator  # noqa: E402

KEYS = ("theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal", "flip_vertical", "channel_shift_intensity",
        "brightness")
GEOMETRY = ["--rotation-range", "45", "--zoom-range", "0.5,1.3", "--width-shift-range", "0.2"]
SETS = [
    ("rotation", ["--rotation-range", "90"]),
    ("shifts", ["--width-shift-range", "0.2", "--height-shift-range", "4.5"]),
    ("shear", ["--shear-range", "40"]),
    ("zoom", ["--zoom-range", "0.6,1.5"]),
    ("fill nearest", GEOMETRY),
    ("fill constant", GEOMETRY + ["--fill-mode", "constant", "--cval", "0.3"]),
    ("fill reflect", GEOMETRY + ["--fill-mode", "reflect"]),
    ("fill wrap", GEOMETRY + ["--fill-mode", "wrap"]),
    ("flips", ["--rotation-range", "20", "--horizontal-flip", "--vertical-flip"]),
    ("brightness", ["--rotation-range", "20", "--brightness-range", "0.4,1.6"]),
    ("channel shift", ["--rotation-range", "20", "--channel-shift-range", "0.3"]),
    ("nearest interpolation", ["--rotation-range", "30", "--zoom-range", "0.8,1.2", "--interpolation", "nearest"]),
    ("all together", ["--rotation-range", "30", "--width-shift-range", "0.1", "--height-shift-range", "2",
                      "--shear-range", "15", "--zoom-range", "0.8,1.25", "--horizontal-flip", "--vertical-flip",
                      "--channel-shift-range", "0.2", "--fill-mode", "reflect"]),
    ("all + brightness", ["--rotation-range", "30", "--width-shift-range", "0.1", "--height-shift-range", "2",
                          "--shear-range", "15", "--zoom-range", "0.8,1.25", "--horizontal-flip", "--vertical-flip",
                          "--channel-shift-range", "0.2", "--brightness-range", "0.7,1.3", "--fill-mode", "reflect"]),
    ("samplewise", ["--rotation-range", "20", "--samplewise-std-normalization"]),
    ("featurewise", ["--rotation-range", "20", "--featurewise-std-normalization"]),
    ("zca", ["--rotation-range", "20", "--zca-whitening"]),
]


def read_f32(path, shape):
    return np.fromfile(path, dtype="<f4").astype(np.float64).reshape(shape)


def training_images(data):
    path = os.path.join(data, "train-images-idx3-ubyte")
    raw = gzip.open(path + ".gz").read() if os.path.exists(path + ".gz") else open(path, "rb").read()
    n, h, w = (int.from_bytes(raw[4 * i:4 * i + 4], "big") for i in (1, 2, 3))
    return np.frombuffer(raw, np.uint8, n * h * w, 16).reshape(n, h, w, 1)


def generator(meta, fill_mode, scale=1.0):
    s = meta["standardize"]
    g = ImageDataGenerator(fill_mode=fill_mode, cval=meta["cval"] * scale, interpolation_order=meta["interpolation_order"],
                           samplewise_center=s["samplewise_center"],
                           samplewise_std_normalization=s["samplewise_std_normalization"],
                           featurewise_center=s["featurewise_center"],
                           featurewise_std_normalization=s["featurewise_std_normalization"],
                           zca_whitening=s["zca_whitening"], zca_epsilon=s["zca_epsilon"])
    return g


def gain(x, s, zca):
    g = np.ones(x.shape)
    if s["samplewise_std_normalization"]:
        g /= np.std(x) + 1e-6
    if s["featurewise_std_normalization"]:
        g /= s["std"] + 1e-6
    if s["zca_whitening"]:
        g = g * np.abs(zca).sum(axis=1).reshape(x.shape)
    return g


def compare(meta, dump, k, fill_mode, pil_brightness):
    """Largest |claug - Keras| of augmentation k (standardized: over the gain)."""
    h, w = meta["shape"]
    x = read_f32(os.path.join(dump, "original.f32"), (h, w, 1))
    got = read_f32(os.path.join(dump, "aug-%d.f32" % k), (h, w, 1))
    p = {key: meta[key] for key in KEYS}
    s = meta["standardize"]
    if p["brightness"] is not None and pil_brightness:
        # Keras' PIL path works on 0..255 data: everything in those units, then back.
        q = dict(p)
        if q["channel_shift_intensity"] is not None:
            q["channel_shift_intensity"] *= 255
        want = generator(meta, fill_mode, 255.0).apply_transform(x * 255.0, q) / 255.0
    else:
        q = dict(p, brightness=None)
        want = generator(meta, fill_mode).apply_transform(x, q)
        if p["brightness"] is not None:  # Keras' affine, the factor as an exact multiply
            want = np.clip(want * p["brightness"], 0.0, 1.0)
    g = generator(meta, fill_mode)
    zca = None
    if s["featurewise_center"]:
        g.mean = np.float64(s["mean"])
    if s["featurewise_std_normalization"]:
        g.std = np.float64(s["std"])
    if s["zca_whitening"]:
        zca = read_f32(os.path.join(dump, s["zca_whitening_matrix"]), (h * w, h * w))
        g.zca_whitening_matrix = zca
    scale = gain(want, s, zca)
    want = g.standardize(want.copy())
    return float((np.abs(got - want) / scale).max())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("claug", help="the claug binary")
    ap.add_argument("--images", default="0,123,4567", help="training images (default 0,123,4567)")
    ap.add_argument("--draws", type=int, default=20, help="augmentations per image (default 20)")
    ap.add_argument("--data", default=os.environ.get("CLAUG_DATA", "/usr/share/datasets/fashion-mnist"))
    args = ap.parse_args()
    images = [int(i) for i in args.images.split(",")]
    work = tempfile.mkdtemp(prefix="keras-check-")
    print("claug %s against tf-keras ImageDataGenerator, %d images x %d draws per set" % (
        args.claug, len(images), args.draws))
    print("%-22s %-44s %s" % ("option set", "largest |claug - Keras| on [0, 1] data", "as documented"))
    bad = 0
    for name, opts in SETS:
        worst, alt = 0.0, None
        dumps = []
        for index in images:
            dump = os.path.join(work, "%s-%d" % (name.replace(" ", "-"), index))
            subprocess.run([args.claug, "augment", "-q", "-i", str(index), "-n", str(args.draws), "--seed", "11",
                            "-o", os.path.join(work, "p.png"), "--dump", dump] + opts, check=True)
            dumps.append(dump)
        for dump in dumps:
            for k in range(1, args.draws + 1):
                meta = json.load(open(os.path.join(dump, "aug-%d.json" % k)))
                mode = meta["fill_mode"]
                worst = max(worst, compare(meta, dump, k, "grid-wrap" if mode == "wrap" else mode, False))
                if mode == "wrap":
                    alt = max(alt or 0.0, compare(meta, dump, k, "wrap", False))
                elif meta["brightness"] is not None:
                    alt = max(alt or 0.0, compare(meta, dump, k, mode, True))
        note = ""
        if name == "fill wrap":
            note = "Keras' own 'wrap' (scipy period n - 1): %.3g" % alt
        elif alt is not None:
            note = "through Keras' PIL path on 0..255 data: %.3g (uint8 truncation)" % alt
        label = ("grid-wrap: %.2e" % worst) if name == "fill wrap" else (
            "exact multiply: %.2e" % worst if alt is not None else "%.2e" % worst)
        bad += worst > 1e-5
        print("%-22s %-44s %s" % (name, label, note))
        sys.stdout.flush()

    # datagen.fit on the whole training set (float32, as Keras does) against claug's statistics.
    x = training_images(args.data).astype(np.float32) / np.float32(255)
    for name in ("featurewise", "zca"):
        meta = json.load(open(os.path.join(work, "%s-%d" % (name, images[0]), "aug-1.json")))
        s = meta["standardize"]
        g = generator(meta, "nearest")
        g.fit(x)
        line = "datagen.fit %-10s" % name
        if g.mean is not None:
            line += " mean Keras %.8f claug %.8f" % (float(np.ravel(g.mean)[0]), s["mean"])
        if g.std is not None:
            line += " std Keras %.8f claug %.8f" % (float(np.ravel(g.std)[0]), s["std"])
        if s["zca_whitening"]:
            mine = read_f32(os.path.join(work, "%s-%d" % (name, images[0]), "zca.f32"), (784, 784))
            theirs = g.zca_whitening_matrix.astype(np.float64)
            rel = np.linalg.norm(mine - theirs) / np.linalg.norm(theirs)
            # The same transformed image whitened with Keras' matrix and with claug's:
            y = read_f32(os.path.join(work, "%s-%d" % (name, images[0]), "original.f32"), (1, 784)) - s["mean"]
            a, b = y @ theirs, y @ mine
            line += "\n  ZCA matrix: |W_claug - W_Keras| / |W_Keras| = %.3g (Frobenius);" % rel
            line += " an image whitened by each: |difference| / |Keras'| = %.3g" % (
                np.linalg.norm(a - b) / np.linalg.norm(a))
        print(line)
    print("%d set(s) above 1e-5" % bad)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# ctest: labels=e2e timeout=180 (registered in CMakeLists.txt: add_test keras_affine)
"""claug's augmentation against Keras' own code, re-typed here from tf-keras 2.21's
tf_keras/src/preprocessing/image.py (transform_matrix_offset_center, apply_affine_transform,
apply_channel_shift, flip_axis, ImageDataGenerator.apply_transform, .standardize and .fit),
not imported, and run with Debian's numpy and scipy (python3-numpy, python3-scipy).

`claug augment --dump` writes the parameters it drew (get_random_transform's dictionary), the
original image and the pixels it made; this applies Keras' transform to the original with those
parameters and compares the pixels: within 1e-5 on [0, 1] data for every option set, and for
nearest interpolation equal but where Keras' own coordinate lies within rounding of a half
pixel. Standardized pixels leave [0, 1]: their difference is divided by the gain of standardize's
linear map (1 / the divisors; the row sums of |W| for ZCA), i.e. measured on [0, 1] pixels. Two documented departures, both applied here as claug documents them: `wrap` has period n
(scipy's 'grid-wrap'; Keras passes 'wrap', scipy's legacy period n - 1), and brightness is a
plain multiply clipped to [0, 1] (Keras goes through PIL's 8-bit enhancer). The featurewise
statistics claug dumps are checked against Keras' fit on the training set.

Usage: test_keras_affine.py CLAUG WORKDIR   (the data: $CLAUG_DATA, as claug reads it)"""

import gzip
import json
import os
import shutil
import subprocess
import sys

try:
    import numpy as np
    from scipy import ndimage
except ImportError as e:
    sys.exit("test_keras_affine: %s: install python3-numpy and python3-scipy (tools/install-deps.sh)" % e)


# ---- Keras' code, re-typed (tf_keras/src/preprocessing/image.py) ---------------------------------

def transform_matrix_offset_center(matrix, x, y):
    o_x = float(x) / 2 - 0.5
    o_y = float(y) / 2 - 0.5
    offset_matrix = np.array([[1, 0, o_x], [0, 1, o_y], [0, 0, 1]])
    reset_matrix = np.array([[1, 0, -o_x], [0, 1, -o_y], [0, 0, 1]])
    transform_matrix = np.dot(np.dot(offset_matrix, matrix), reset_matrix)
    return transform_matrix


def affine_matrix(theta, tx, ty, shear, zx, zy, h, w):
    """apply_affine_transform's matrix and offset, after its axis swap (M' = P M P)."""
    transform_matrix = None
    if theta != 0:
        theta = np.deg2rad(theta)
        rotation_matrix = np.array([[np.cos(theta), -np.sin(theta), 0],
                                    [np.sin(theta), np.cos(theta), 0],
                                    [0, 0, 1]])
        transform_matrix = rotation_matrix
    if tx != 0 or ty != 0:
        shift_matrix = np.array([[1, 0, tx], [0, 1, ty], [0, 0, 1]])
        transform_matrix = shift_matrix if transform_matrix is None else np.dot(transform_matrix, shift_matrix)
    if shear != 0:
        shear = np.deg2rad(shear)
        shear_matrix = np.array([[1, -np.sin(shear), 0], [0, np.cos(shear), 0], [0, 0, 1]])
        transform_matrix = shear_matrix if transform_matrix is None else np.dot(transform_matrix, shear_matrix)
    if zx != 1 or zy != 1:
        zoom_matrix = np.array([[zx, 0, 0], [0, zy, 0], [0, 0, 1]])
        transform_matrix = zoom_matrix if transform_matrix is None else np.dot(transform_matrix, zoom_matrix)
    if transform_matrix is None:
        return None
    transform_matrix = transform_matrix_offset_center(transform_matrix, h, w)
    # col_axis > row_axis: swap the x and y axes
    transform_matrix[:, [0, 1]] = transform_matrix[:, [1, 0]]
    transform_matrix[[0, 1]] = transform_matrix[[1, 0]]
    return transform_matrix


def apply_affine_transform(x, theta=0, tx=0, ty=0, shear=0, zx=1, zy=1, row_axis=0, col_axis=1, channel_axis=2,
                           fill_mode="nearest", cval=0.0, order=1):
    h, w = x.shape[row_axis], x.shape[col_axis]
    transform_matrix = affine_matrix(theta, tx, ty, shear, zx, zy, h, w)
    if transform_matrix is not None:
        x = np.rollaxis(x, channel_axis, 0)
        final_affine_matrix = transform_matrix[:2, :2]
        final_offset = transform_matrix[:2, 2]
        channel_images = [ndimage.affine_transform(x_channel, final_affine_matrix, final_offset, order=order,
                                                   mode=fill_mode, cval=cval) for x_channel in x]
        x = np.stack(channel_images, axis=0)
        x = np.rollaxis(x, 0, channel_axis + 1)
    return x


def apply_channel_shift(x, intensity, channel_axis=0):
    x = np.rollaxis(x, channel_axis, 0)
    min_x, max_x = np.min(x), np.max(x)
    channel_images = [np.clip(x_channel + intensity, min_x, max_x) for x_channel in x]
    x = np.stack(channel_images, axis=0)
    x = np.rollaxis(x, 0, channel_axis + 1)
    return x


def flip_axis(x, axis):
    x = np.asarray(x).swapaxes(axis, 0)
    x = x[::-1, ...]
    x = x.swapaxes(0, axis)
    return x


def apply_transform(x, p, fill_mode, cval, order):
    """ImageDataGenerator.apply_transform, channels last; brightness as claug documents it."""
    x = apply_affine_transform(x, p.get("theta", 0), p.get("tx", 0), p.get("ty", 0), p.get("shear", 0),
                               p.get("zx", 1), p.get("zy", 1), row_axis=0, col_axis=1, channel_axis=2,
                               fill_mode=fill_mode, cval=cval, order=order)
    if p.get("channel_shift_intensity") is not None:
        x = apply_channel_shift(x, p["channel_shift_intensity"], 2)
    if p.get("flip_horizontal", False):
        x = flip_axis(x, 1)
    if p.get("flip_vertical", False):
        x = flip_axis(x, 0)
    if p.get("brightness") is not None:
        x = np.clip(x * p["brightness"], 0.0, 1.0)
    return x


def standardize(x, s, zca):
    """ImageDataGenerator.standardize on one image, s the dumped generator settings."""
    if s["samplewise_center"]:
        x -= np.mean(x, keepdims=True)
    if s["samplewise_std_normalization"]:
        x /= np.std(x, keepdims=True) + 1e-6
    if s["featurewise_center"]:
        x -= s["mean"]
    if s["featurewise_std_normalization"]:
        x /= s["std"] + 1e-6
    if s["zca_whitening"]:
        flat_x = x.reshape(-1, np.prod(x.shape[-3:]))
        white_x = flat_x @ zca
        x = np.reshape(white_x, x.shape)
    return x


def fit_mean_std(x, s):
    """ImageDataGenerator.fit's featurewise statistics, x (n, h, w, 1) float32."""
    mean = std = None
    if s["featurewise_center"]:
        mean = np.mean(x, axis=(0, 1, 2))
        x = x - mean
    if s["featurewise_std_normalization"]:
        std = np.std(x, axis=(0, 1, 2))
    return mean, std


# ---- the check -----------------------------------------------------------------------------------

KEYS = ("theta", "tx", "ty", "shear", "zx", "zy", "flip_horizontal", "flip_vertical", "channel_shift_intensity",
        "brightness")

SETS = [
    ("rotation", ["--rotation-range", "90"]),
    ("shifts", ["--width-shift-range", "0.2", "--height-shift-range", "4.5"]),
    ("shear", ["--shear-range", "40"]),
    ("zoom", ["--zoom-range", "0.6,1.5"]),
    ("fill nearest", ["--rotation-range", "45", "--zoom-range", "0.5,1.3", "--width-shift-range", "0.2"]),
    ("fill constant", ["--rotation-range", "45", "--zoom-range", "0.5,1.3", "--width-shift-range", "0.2",
                       "--fill-mode", "constant", "--cval", "0.3"]),
    ("fill reflect", ["--rotation-range", "45", "--zoom-range", "0.5,1.3", "--width-shift-range", "0.2",
                      "--fill-mode", "reflect"]),
    ("fill wrap", ["--rotation-range", "45", "--zoom-range", "0.5,1.3", "--width-shift-range", "0.2",
                   "--fill-mode", "wrap"]),
    ("flips", ["--rotation-range", "20", "--horizontal-flip", "--vertical-flip"]),
    ("brightness", ["--rotation-range", "20", "--brightness-range", "0.4,1.6"]),
    ("channel shift", ["--rotation-range", "20", "--channel-shift-range", "0.3"]),
    ("nearest interpolation", ["--rotation-range", "30", "--zoom-range", "0.8,1.2", "--interpolation", "nearest",
                               "--fill-mode", "reflect"]),
    ("all together", ["--rotation-range", "30", "--width-shift-range", "0.1", "--height-shift-range", "2",
                      "--shear-range", "15", "--zoom-range", "0.8,1.25", "--horizontal-flip", "--vertical-flip",
                      "--channel-shift-range", "0.2", "--brightness-range", "0.7,1.3", "--fill-mode", "reflect"]),
    ("samplewise", ["--rotation-range", "20", "--samplewise-std-normalization"]),
    ("featurewise", ["--rotation-range", "20", "--featurewise-std-normalization"]),
    ("zca", ["--rotation-range", "20", "--zca-whitening"]),
]
IMAGES = (0, 123)
DRAWS = 4
TOL = 1e-5  # on [0, 1] pixels, before standardize (gain() carries it through)


def gain(x, s, zca):
    """How much standardize's linear map (x an image of apply_transform's) can enlarge an error of
    the transformed pixels, per output pixel: 1 / the divisors, times the row sums of |W|."""
    g = np.ones(x.shape)
    if s["samplewise_std_normalization"]:
        g /= np.std(x) + 1e-6
    if s["featurewise_std_normalization"]:
        g /= s["std"] + 1e-6
    if s["zca_whitening"]:
        g = g * np.abs(zca).sum(axis=1).reshape(x.shape)
    return g


def read_f32(path, shape):
    return np.fromfile(path, dtype="<f4").astype(np.float64).reshape(shape)


def training_images():
    d = os.environ.get("CLAUG_DATA") or "/usr/share/datasets/fashion-mnist"
    path = os.path.join(d, "train-images-idx3-ubyte")
    raw = gzip.open(path + ".gz").read() if os.path.exists(path + ".gz") else open(path, "rb").read()
    n, h, w = (int.from_bytes(raw[4 * i:4 * i + 4], "big") for i in (1, 2, 3))
    return np.frombuffer(raw, np.uint8, n * h * w, 16).reshape(n, h, w, 1)


def nearest_ties(meta, p, out_pixels):
    """The output pixels (r, c) whose coordinate in Keras' double-precision matrix lies within 1e-4
    of a half pixel: the only ones where claug's float coordinate may round the other way."""
    h, w = meta["shape"]
    m = affine_matrix(p["theta"], p["tx"], p["ty"], p["shear"], p["zx"], p["zy"], h, w)
    ties = set()
    for r, c in out_pixels:
        coord = m[:2, :2] @ np.array([r, c], float) + m[:2, 2]
        if np.any(np.abs(np.abs(coord - np.floor(coord)) - 0.5) < 1e-4):
            ties.add((r, c))
    return ties


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    claug, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    failures = 0
    train = None
    for name, opts in SETS:
        worst, pixels, untied = 0.0, 0, 0
        for index in IMAGES:
            dump = os.path.join(work, "%s-%d" % (name.replace(" ", "-"), index))
            cmd = [claug, "augment", "-q", "-i", str(index), "-n", str(DRAWS), "--seed", "5",
                   "-o", os.path.join(work, "preview.png"), "--dump", dump] + opts
            run = subprocess.run(cmd, capture_output=True, text=True)
            if run.returncode != 0:
                print("FAIL %s: %s exited %d: %s" % (name, " ".join(cmd), run.returncode, run.stderr))
                failures += 1
                continue
            for k in range(1, DRAWS + 1):
                meta = json.load(open(os.path.join(dump, "aug-%d.json" % k)))
                h, w = meta["shape"]
                x = read_f32(os.path.join(dump, "original.f32"), (h, w, 1))
                got = read_f32(os.path.join(dump, "aug-%d.f32" % k), (h, w, 1))
                p = {key: meta[key] for key in KEYS}
                mode = {"wrap": "grid-wrap"}.get(meta["fill_mode"], meta["fill_mode"])
                want = apply_transform(x, p, mode, meta["cval"], meta["interpolation_order"])
                s = meta["standardize"]
                zca = None
                if s["zca_whitening"]:
                    zca = read_f32(os.path.join(dump, s["zca_whitening_matrix"]), (h * w, h * w))
                scale = gain(want, s, zca)
                want = standardize(want.copy(), s, zca)
                diff = (np.abs(got - want) / scale)[:, :, 0]
                pixels += diff.size
                if meta["interpolation_order"] == 0:
                    off = {tuple(rc) for rc in np.argwhere(diff > TOL)}
                    untied += len(off - nearest_ties(meta, p, off))
                    diff = np.where(diff > TOL, 0.0, diff)
                worst = max(worst, float(diff.max()))
            if s["featurewise_center"] or s["featurewise_std_normalization"]:
                if train is None:
                    train = training_images().astype(np.float32) / np.float32(255)
                mean, std = fit_mean_std(train, s)
                for key, mine, keras in (("mean", s["mean"], mean), ("std", s["std"], std)):
                    if keras is not None and abs(mine - float(keras[0])) > 1e-6:
                        print("FAIL %s: datagen.fit's %s is %.9g, claug's %.9g" % (name, key, keras[0], mine))
                        failures += 1
        ok = worst <= TOL and untied == 0
        failures += not ok
        print("%-22s %6d pixels  largest |claug - Keras| %.2e%s  %s" % (
            name, pixels, worst, "  (%d off a half-pixel tie)" % untied if untied else "", "ok" if ok else "FAILED"))
    print("test_keras_affine: %s" % ("%d check(s) FAILED" % failures if failures else "all checks passed"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""The seed's own stack, for the speed comparison: the tutorial's model trained by Keras (tf-keras
on TensorFlow, CPU), once plain and once with augmentation through the real ImageDataGenerator,
on the same Fashion-MNIST files and with the settings of claug's defaults (DESIGN.md): the seed
model (or seed-dropout), Glorot-uniform kernels and zero biases (Keras' defaults), Adam with
lr 1e-3, beta1 0.9, beta2 0.999, epsilon 1e-7, categorical cross-entropy, batch 32.

Needs tensorflow-cpu and tf-keras from PyPI, in a virtual environment of Debian's python3:

    python3 -m venv /opt/keras-venv
    /opt/keras-venv/bin/pip install tensorflow-cpu tf-keras
    /opt/keras-venv/bin/python tools/keras_reference.py [--epochs 10] [--runs plain,augmented]
        [--rotation-range 10] [--threads 2] [--model seed|seed-dropout] [--train-size N]

Prints a Keras-style line per epoch (seconds, loss, accuracy, val_loss, val_accuracy) and, per
run, the median seconds per epoch; compare with `claug train --epochs N` (plain) and
`claug train --rotation-range 10` on the same machine, side by side (A B A B), medians.
"""

import argparse
import gzip
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras as keras  # noqa: E402
from tf_keras.preprocessing.image import ImageDataGenerator  # noqa: E402

BATCH = 32


def load(path, magic, header):
    with gzip.open(path, "rb") as f:
        data = f.read()
    assert int.from_bytes(data[:4], "big") == magic, path
    return np.frombuffer(data, dtype=np.uint8, offset=header)


def dataset(root):
    """Images (N, 28, 28, 1) in [0, 1], channels last as Keras has them; labels one-hot."""
    image = lambda name: load(f"{root}/{name}", 0x803, 16).reshape(-1, 28, 28, 1).astype(np.float32) / 255.0
    label = lambda name: keras.utils.to_categorical(load(f"{root}/{name}", 0x801, 8), 10)
    return (image("train-images-idx3-ubyte.gz"), label("train-labels-idx1-ubyte.gz"),
            image("t10k-images-idx3-ubyte.gz"), label("t10k-labels-idx1-ubyte.gz"))


def model(name):
    L = keras.layers
    drop = name == "seed-dropout"
    layers = [L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)), L.Conv2D(32, 3, activation="relu"),
              L.MaxPooling2D(2)]
    layers += [L.Dropout(0.25)] if drop else []
    layers += [L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(2)]
    layers += [L.Dropout(0.25)] if drop else []
    layers += [L.Flatten(), L.Dense(128, activation="relu")]
    layers += [L.Dropout(0.5)] if drop else []
    layers += [L.Dense(10, activation="softmax")]
    m = keras.Sequential(layers)  # Glorot-uniform kernels and zero biases: Keras' defaults
    m.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3, beta_1=0.9, beta_2=0.999, epsilon=1e-7),
              loss="categorical_crossentropy", metrics=["accuracy"])
    return m


class EpochLine(keras.callbacks.Callback):
    """Keras' one line per epoch, with the epoch's seconds (training and validation)."""

    def __init__(self, epochs):
        super().__init__()
        self.epochs, self.seconds = epochs, []

    def on_epoch_begin(self, epoch, logs=None):
        self.t0 = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        dt = time.perf_counter() - self.t0
        self.seconds.append(dt)
        print(f"Epoch {epoch + 1}/{self.epochs} - {dt:.1f}s - loss: {logs['loss']:.4f} - accuracy: "
              f"{logs['accuracy']:.4f} - val_loss: {logs['val_loss']:.4f} - val_accuracy: "
              f"{logs['val_accuracy']:.4f}", flush=True)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--runs", default="plain,augmented", help="plain, augmented or both (comma-separated)")
    p.add_argument("--rotation-range", type=float, default=10, help="the augmented run's (default 10, as claug run)")
    p.add_argument("--model", default="seed", choices=["seed", "seed-dropout"])
    p.add_argument("--threads", type=int, default=2, help="TensorFlow's threads (intra- and inter-op)")
    p.add_argument("--train-size", type=int, default=0, help="the first N training images only")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    a = p.parse_args()
    runs = a.runs.split(",")
    if not runs or any(r not in ("plain", "augmented") for r in runs):
        p.error(f"--runs: expected plain, augmented or both, got {a.runs!r}")
    tf.config.threading.set_intra_op_parallelism_threads(a.threads)
    tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    xs, ys, xt, yt = dataset(a.data)
    if a.train_size:
        xs, ys = xs[: a.train_size], ys[: a.train_size]
    print(f"TensorFlow {tf.__version__}, tf-keras {keras.__version__}, {a.threads} threads, "
          f"{xs.shape[0]} training images, batch {BATCH}")
    for run in runs:
        keras.utils.set_random_seed(a.seed)  # the same initial weights for both runs
        m = model(a.model)
        line = EpochLine(a.epochs)
        print(f"-- {run}" + (f" (ImageDataGenerator(rotation_range={a.rotation_range:g}))" if run != "plain" else ""))
        if run == "plain":
            m.fit(xs, ys, batch_size=BATCH, epochs=a.epochs, validation_data=(xt, yt), shuffle=True, verbose=0,
                  callbacks=[line])
        else:
            flow = ImageDataGenerator(rotation_range=a.rotation_range).flow(xs, ys, batch_size=BATCH, seed=a.seed)
            m.fit(flow, steps_per_epoch=len(flow), epochs=a.epochs, validation_data=(xt, yt), verbose=0,
                  callbacks=[line])
        med = statistics.median(line.seconds)
        print(f"{run}: median seconds per epoch {med:.2f} ({xs.shape[0] / med:.0f} images/s)", flush=True)


if __name__ == "__main__":
    main()

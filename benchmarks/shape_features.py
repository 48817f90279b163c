#!/usr/bin/env python3
"""The colour benchmark's judge: a small CNN trained on benchmarks/shapes.py drawings, whose 64-d penultimate
layer is the feature space of a Fréchet distance for 64x64 colour images (as the bundled digit network is
for MNIST), and whose shape and colour heads count which of the 5 x 8 attribute cells samples cover.

    python benchmarks/shape_features.py            # trains it, writes benchmarks/shape_features.npz (float16)

Data, all drawn in memory by `shapes.draw` and passed through JPEG quality 90 like the folder's files:
seed 2 (12,000 images) trains it; seed 1 (2,000) is the reference of every score; seed 3 (1,000) gives the
real floor, the score of real held-out images in the same protocol as 1,000 samples. Besides the two
classification heads it regresses the shape's size and centre, so the features see geometry too.
"""
import argparse
import io
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
WEIGHTS = os.path.join(HERE, "shape_features.npz")
sys.path.insert(0, HERE)
import shapes  # noqa: E402

FEATURES = 64
TRAIN_SEED, REFERENCE_SEED, FLOOR_SEED = 2, 1, 3
CONFIDENT = 0.9  # a sample counts for an attribute cell when both heads are this sure
CELL_MIN = 5  # samples a cell needs to count as covered (of 1,000; the data has 25 per cell on average)


def drawn(seed, n, size=64):
    """(uint8 images (n, size, size, 3) after a JPEG q90 round trip, shape ids, colour ids, (size, cx, cy))."""
    from PIL import Image
    images, shape_ids, colour_ids, geometry = [], [], [], []
    for i in range(n):
        image, a = shapes.draw(seed, i, size)
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="JPEG", quality=90)
        images.append(np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("RGB")))
        shape_ids.append(shapes.SHAPES.index(a["shape"]))
        colour_ids.append(shapes.COLOUR_NAMES.index(a["colour"]))
        geometry.append((a["size"], a["cx"], a["cy"]))
    return (np.stack(images), np.array(shape_ids, np.int32), np.array(colour_ids, np.int32),
            np.array(geometry, np.float32))


def build():
    """(trainer with three outputs, features model) sharing layers; inputs (n, 64, 64, 3) in [-1, 1]."""
    import keras
    x = inputs = keras.Input((64, 64, 3), name="images")
    for filters in (24, 32, 48, 64):
        x = keras.layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(x)
    x = keras.layers.Flatten()(x)
    features = keras.layers.Dense(FEATURES, name="features")(x)  # before the ReLU: full-rank covariances
    h = keras.layers.ReLU()(features)
    outputs = {"shape": keras.layers.Dense(len(shapes.SHAPES), name="shape")(h),
               "colour": keras.layers.Dense(len(shapes.COLOURS), name="colour")(h),
               "geometry": keras.layers.Dense(3, name="geometry")(h)}
    return keras.Model(inputs, outputs, name="shape_judge"), keras.Model(inputs, features, name="shape_features")


def unit(images):
    return np.asarray(images, np.float32) / 127.5 - 1.0


def to_side(images, side, method):
    """uint8 RGB `images` resized to `side` x `side` as uint8 (wgan-train shrinks a folder with "area")."""
    import tensorflow as tf
    resized = tf.image.resize(np.asarray(images, np.float32), (side, side), method=method).numpy()
    return np.clip(np.rint(resized), 0, 255).astype(np.uint8)


class ShapeJudge:
    """Scores uint8 or [-1, 1] 64x64 RGB images: FD and KID against the reference, and attribute coverage.

    Smaller uint8 images (a 32x32 run's samples) are scored at 64x64 after bilinear upsampling, against the
    same 64x64 reference; their floor (`floor_at(side)`) is the real floor images shrunk to that side as
    wgan-train shrinks a folder (area averaging) and upsampled the same way, so what resolution alone costs is
    in the floor, not in the multiple.
    """

    def __init__(self, path=WEIGHTS, reference=2000, floor=1000):
        import keras
        self.model, self.features = build()
        with np.load(path) as f:
            self.model.set_weights([f[k].astype(np.float32) for k in sorted(f.files)])
        self.keras, self.scale = keras, 1.0
        reference = self.embed(drawn(REFERENCE_SEED, reference)[0])[0]
        # one scalar for all dimensions, so that KID's cubic kernel sees unit-scale features; FD ratios unchanged
        self.scale = float(reference.std())
        self.reference = reference / self.scale
        self.floor_images = drawn(FLOOR_SEED, floor)[0]
        self.floor = self.score(self.floor_images)
        self.floors = {64: self.floor}

    def floor_at(self, side):
        """The real floor's score at `side` x `side` (64: `self.floor`)."""
        if side not in self.floors:
            self.floors[side] = self.score(to_side(self.floor_images, side, "area"))
        return self.floors[side]

    def embed(self, images):
        if np.asarray(images).dtype == np.uint8 and np.shape(images)[1] != 64:
            images = to_side(images, 64, "bilinear")
        x = unit(images) if np.asarray(images).dtype == np.uint8 else np.asarray(images, np.float32)
        out = self.model.predict(x, batch_size=250, verbose=0)
        features = self.features.predict(x, batch_size=250, verbose=0)
        softmax = self.keras.ops.softmax
        return (np.asarray(features, np.float64) / self.scale, self.keras.ops.convert_to_numpy(softmax(out["shape"])),
                self.keras.ops.convert_to_numpy(softmax(out["colour"])))

    def score(self, images):
        from wgan_keras.evaluation import frechet_distance, kernel_inception_distance
        features, p_shape, p_colour = self.embed(images)
        kid, _ = kernel_inception_distance(features, self.reference, 10, min(500, len(features)), seed=0)
        sure = (p_shape.max(1) >= CONFIDENT) & (p_colour.max(1) >= CONFIDENT)
        cells = np.zeros((len(shapes.SHAPES), len(shapes.COLOURS)), int)
        np.add.at(cells, (p_shape.argmax(1)[sure], p_colour.argmax(1)[sure]), 1)
        return {"fd": float(frechet_distance(features, self.reference)), "kid": float(kid),
                "cells": int((cells >= CELL_MIN).sum()), "confident": float(sure.mean()),
                "shapes": np.bincount(p_shape.argmax(1)[sure], minlength=len(shapes.SHAPES)).tolist(),
                "colours": np.bincount(p_colour.argmax(1)[sure], minlength=len(shapes.COLOURS)).tolist()}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=WEIGHTS)
    p.add_argument("--num", type=int, default=12000)
    p.add_argument("--epochs", type=int, default=12)
    a = p.parse_args()
    import keras
    keras.utils.set_random_seed(0)
    images, shape_ids, colour_ids, geometry = drawn(TRAIN_SEED, a.num)
    val = drawn(REFERENCE_SEED, 2000)
    model, _ = build()
    steps = a.epochs * -(-a.num // 64)
    ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
                  {"shape": ce, "colour": ce, "geometry": "mse"},
                  loss_weights={"shape": 1.0, "colour": 1.0, "geometry": 10.0},
                  metrics={"shape": ["accuracy"], "colour": ["accuracy"]})
    model.fit(unit(images), {"shape": shape_ids, "colour": colour_ids, "geometry": geometry}, batch_size=64,
              epochs=a.epochs, verbose=2)
    result = model.evaluate(unit(val[0]), {"shape": val[1], "colour": val[2], "geometry": val[3]}, verbose=0,
                            return_dict=True)
    np.savez_compressed(a.out, **{f"w{i:02d}": w.astype(np.float16) for i, w in enumerate(model.get_weights())})
    print(f"shape_features: held-out (seed {REFERENCE_SEED}, 2,000) {result}; {os.path.getsize(a.out):,} bytes "
          f"-> {a.out}")


if __name__ == "__main__":
    main()

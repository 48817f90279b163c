"""Trains the bundled digit feature network and writes its weights (digit_features.npz).

    python -m wgan_keras.evaluation.train_features [--out PATH] [--epochs 40] [--seed 0]

3,000 digits of the bundled MNIST subset train it, with small random shifts, rotations
and zooms; the last 100 of each class stay held out (`digits.split_indices`: the reference
set of the built-in Fréchet distance) and give the accuracy printed at the end.
"""
import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main(argv=None):
    from wgan_keras.evaluation.digits import (
        WEIGHTS,
        build_classifier,
        load_bundled_digits,
        split_indices,
        to_unit_range,
    )
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=WEIGHTS)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    import keras
    import numpy as np
    import tensorflow as tf

    keras.utils.set_random_seed(a.seed)
    images, labels = load_bundled_digits()
    train, held_out = split_indices(labels)
    x, y = to_unit_range(images[train]), labels[train].astype(np.int32)
    x_val, y_val = to_unit_range(images[held_out]), labels[held_out].astype(np.int32)
    augment = keras.Sequential([keras.layers.RandomTranslation(0.08, 0.08, fill_value=-1.0, seed=a.seed),
                                keras.layers.RandomRotation(0.03, fill_value=-1.0, seed=a.seed + 1),
                                keras.layers.RandomZoom(0.1, fill_value=-1.0, seed=a.seed + 2)])
    ds = (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=a.seed).batch(64)
          .map(lambda b, t: (augment(b, training=True), t)))
    classifier, _ = build_classifier()
    steps = a.epochs * -(-len(x) // 64)
    classifier.compile(keras.optimizers.Adam(keras.optimizers.schedules.CosineDecay(2e-3, steps)),
                       keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    classifier.fit(ds, epochs=a.epochs, verbose=2)
    _, accuracy = classifier.evaluate(x_val, y_val, verbose=0)
    np.savez(a.out, **{f"w{i:02d}": w.astype(np.float32) for i, w in enumerate(classifier.get_weights())})
    print(f"train_features: held-out accuracy {accuracy:.4f} on the {len(x_val)} held-out digits; "
          f"{os.path.getsize(a.out)} bytes -> {a.out}")
    return accuracy


if __name__ == "__main__":
    main()

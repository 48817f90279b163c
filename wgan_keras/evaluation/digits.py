"""The bundled digit feature network: a compact CNN classifier of the bundled MNIST subset
whose 64-d penultimate layer is the feature space of the built-in Fréchet distance / KID.

Protocol: the bundled file is sorted by class (400 of each digit), so the held-out
reference is the last HELD_OUT_PER_CLASS = 100 digits of each class (1,000 in all,
`reference_images()`); `wgan_keras.evaluation.train_features` trains on the other 3,000.
"""
import os
import zipfile

import keras
import numpy as np

from wgan_edge.cli import first_line

WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digit_features.npz")
HELD_OUT_PER_CLASS = 100  # per digit class: the last 100 of each are the held-out reference
FEATURE_DIM = 64


def build_classifier():
    """(classifier, features): two Keras models sharing layers; inputs (n, 28, 28, 1) in [-1, 1]."""
    x = inputs = keras.Input((28, 28, 1), name="images")
    for filters, stride in ((24, 1), (48, 2), (48, 1), (64, 2)):
        x = keras.layers.Conv2D(filters, 3, strides=stride, padding="same", activation="relu")(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    # Features before the ReLU: no dead (always-zero) dimensions, so full-rank covariances.
    features = keras.layers.Dense(FEATURE_DIM, name="features")(x)
    x = keras.layers.Dropout(0.3)(keras.layers.ReLU()(features))
    logits = keras.layers.Dense(10, name="logits")(x)
    return keras.Model(inputs, logits, name="digit_classifier"), keras.Model(inputs, features, name="digit_features")


def load_bundled_digits():
    """(images uint8 (4000, 28, 28, 1), labels uint8 (4000,)) of the package's mnist_4k.npz."""
    from wgan_keras.data import sources
    with np.load(os.path.join(os.path.dirname(sources.__file__), "mnist_4k.npz")) as f:
        return f["images"][..., None], f["labels"]


def split_indices(labels):
    """(train, held_out) index arrays: the last HELD_OUT_PER_CLASS of each class are held out."""
    labels = np.asarray(labels)
    held = np.sort(np.concatenate([np.flatnonzero(labels == c)[-HELD_OUT_PER_CLASS:] for c in np.unique(labels)]))
    return np.setdiff1d(np.arange(len(labels)), held), held


def to_unit_range(images):
    """uint8 [0, 255] -> float32 [-1, 1], the generator's range."""
    return np.asarray(images, np.float32) / 127.5 - 1.0


def reference_images():
    """The 1,000 held-out bundled digits (100 per class) in [-1, 1]: float32 (1000, 28, 28, 1)."""
    images, labels = load_bundled_digits()
    return to_unit_range(images[split_indices(labels)[1]])


def _trained(path):
    classifier, features = build_classifier()
    try:
        with np.load(path) as f:  # a numpy .npz of the classifier's weights, in order
            classifier.set_weights([f[f"w{i:02d}"] for i in range(len(f.files))])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:  # truncated, edited, not an .npz
        raise ValueError(f"{path} is not the digit feature network's weights ({type(e).__name__}: "
                         f"{first_line(e)[:160]}); reinstall wgan-keras, or pass a readable file") from None
    return classifier, features


def digit_feature_model(path=WEIGHTS):
    """The feature model with the shipped weights (offline)."""
    return _trained(path)[1]


def digit_classifier(path=WEIGHTS):
    """The bundled network's classifier head (logits of the 10 digits), with the shipped weights."""
    return _trained(path)[0]


def class_histogram(images, classifier=None, batch_size=250):
    """How many of `images` ((n, 28, 28, 1) in [-1, 1]) the bundled classifier assigns to each digit:
    int array (10,). A collapsed generator shows as empty or dominant classes."""
    classifier = digit_classifier() if classifier is None else classifier
    images = np.asarray(images, np.float32)
    labels = [np.argmax(keras.ops.convert_to_numpy(classifier(images[i:i + batch_size], training=False)), -1)
              for i in range(0, len(images), batch_size)]
    return np.bincount(np.concatenate(labels), minlength=10)


def reference_labels():
    """The classes of `reference_images()`, in the same order: int32 (1000,)."""
    _, labels = load_bundled_digits()
    return labels[split_indices(labels)[1]].astype(np.int32)


DIGIT_CLASSES = tuple(str(c) for c in range(10))  # class names the bundled network knows (its logit order)

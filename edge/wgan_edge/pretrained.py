"""Generators shipped inside the package, so `wgan-sample --model mnist` draws digits before any training.

Each name maps to an int8 `.tflite` file and its metadata (`<stem>.json`, as `wgan-export` writes them) in
`wgan_edge/weights/`. They are made by `benchmarks/pretrained_mnist.py`, which also writes the Keras
generator to `wgan_keras/weights/` (`wgan_keras.pretrained()`), so the two sides always hold one training run.
numpy and the standard library only, like the rest of wgan_edge.
"""
import os

WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")

#: name -> file stem in `weights/`: a conditional DCGAN digit generator (10 classes, 28x28x1), int8.
NAMES = {"mnist": "mnist_int8"}


def tflite_path(name):
    """The packaged `.tflite` file of `name` (one of `NAMES`).

    Raises:
        KeyError: `name` is not a packaged generator (the message lists the names).
    """
    if name not in NAMES:
        raise KeyError(f"no packaged generator {name!r}; packaged: {', '.join(sorted(NAMES))}")
    return os.path.join(WEIGHTS, NAMES[name] + ".tflite")


def resolve(model):
    """`model` unchanged when it is a path that exists or not a packaged name, else the packaged file.

    A file of the same name in the working folder wins, so a user's own `mnist` file is never shadowed.
    """
    if isinstance(model, str) and model in NAMES and not os.path.exists(model):
        return tflite_path(model)
    return model

"""Generators shipped inside the package: `wk.pretrained("mnist")` samples digits before any training.

Not to be confused with `wgan_keras.presets` (named *training settings*, `wgan-train --preset`). The
Keras generator lives in `wgan_keras/weights/`; its int8 `.tflite` twin, which `wgan-sample --model mnist`
runs without TensorFlow, in `wgan_edge/weights/`. Both come from one run of
`benchmarks/pretrained_mnist.py` (the command that made them is in that script and in docs/pretrained.md).
"""
import os

from wgan_edge.pretrained import NAMES

WEIGHTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")


def pretrained_path(name):
    """The packaged `.keras` file of generator `name` (one of `wgan_edge.pretrained.NAMES`, e.g. "mnist").

    Raises:
        KeyError: `name` is not a packaged generator (the message lists the names).
    """
    if name not in NAMES:
        raise KeyError(f"no packaged generator {name!r}; packaged: {', '.join(sorted(NAMES))}")
    return os.path.join(WEIGHTS, name + ".keras")


def pretrained(name="mnist"):
    """A trained generator shipped with the package, as a `keras.Model`.

    Args:
        name: "mnist": a class-conditional `DCGANGenerator` (latent_dim 100, 28x28x1 images, 10 classes
            "0".."9", width 32), the EMA of a `--preset fast --conditional` run on the bundled digits.

    Returns:
        The generator: `generator([z, labels])` maps z, float32 (n, latent_dim), and labels, int32 (n,),
            to images, float32 (n, 28, 28, 1) in [-1, 1]. Sample it with `wgan_keras.sample`, which draws z
            as `wgan-sample` and the exported web page do.

    Raises:
        KeyError: `name` is not a packaged generator.
    """
    import keras

    import wgan_keras.models  # noqa: F401  (registers the model classes with Keras)
    return keras.saving.load_model(pretrained_path(name), compile=False)


__all__ = ["pretrained", "pretrained_path"]

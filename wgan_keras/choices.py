"""The named choices of every training setting, in one place that needs neither Keras nor TensorFlow.

`TrainConfig` (and with it `wgan-train --help` and every flag error) reads these before TensorFlow
loads, so `--help` answers in a fraction of a second; the modules that act on a choice import it
from here (`from wgan_keras.losses import LIPSCHITZ` keeps working).
"""

BUNDLED = "mnist_4k"  # the offline MNIST subset in wgan_keras/data/mnist_4k.npz
IMAGE_SIZES = (28, 32, 64)  # square sides the DCGAN critic and generator are built for
TOYS = ("ring8", "grid25", "swissroll")  # 2-D toy distributions (wgan_keras/data/toys.py)
LIPSCHITZ = ("clip", "gp", "sn")  # weight clipping (the paper), gradient penalty, spectral normalization
SCHEDULES = ("paper", "reference")  # critic iterations per generator iteration (wgan_keras/schedules.py)
UPSAMPLING = ("transpose", "resize")  # DCGAN generator upsampling (models/dcgan_generator.py)
STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")  # tf.distribute, by name
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16", "auto")  # Keras dtype policies (distribute.py)
# DiffAugment policies (wgan_keras/augment.py: POLICIES, checked against this tuple)
AUGMENT_POLICIES = ("none", "translation", "translation,cutout", "color,translation,cutout")
KERAS_BACKENDS = ("tensorflow", "jax", "torch")  # the backends wgan_keras/backends/ has gradient plumbing for


def check_keras_backend(environ):
    """Raises a one-line ValueError for a KERAS_BACKEND that Keras would fail on while importing (a
    traceback before any command can catch it) or that we have no plumbing for."""
    name = environ.get("KERAS_BACKEND")
    if name is not None and name not in KERAS_BACKENDS:
        raise ValueError(f"KERAS_BACKEND={name!r} is not a backend wgan-keras runs on: use one of "
                         f"{', '.join(KERAS_BACKENDS)}, or unset it (TensorFlow)")

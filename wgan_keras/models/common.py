"""Shape checks and layer recipes shared by the model files."""
import math
import numbers

import keras

from wgan_keras.choices import IMAGE_SIZES as SUPPORTED_SIZES


def check_image_shape(image_shape, arg="image_shape"):
    """Returns `image_shape` as a tuple (H, W, C) or raises a one-line ValueError."""
    try:
        shape = tuple(int(d) for d in image_shape)
    except (TypeError, ValueError):
        raise ValueError(f"{arg} must be (height, width, channels), got {arg}={image_shape!r}") from None
    if len(shape) != 3 or shape[0] != shape[1] or shape[0] not in SUPPORTED_SIZES or shape[2] not in (1, 3):
        raise ValueError(
            f"{arg} must be (S, S, C) with S in {SUPPORTED_SIZES} and C in (1, 3), got {arg}={image_shape!r}"
        )
    return shape


def dcgan_filters(size, base_filters):
    """Per-resolution widths: 4x4 (7x7 for 28) up to `size`, doubling as resolution halves."""
    start = 7 if size == 28 else 4
    n_up = int(math.log2(size // start))
    return start, [base_filters * 2 ** (n_up - 1 - i) for i in range(n_up)]


def check_positive_int(value, arg, maximum=1 << 16):
    # numbers.Integral admits numpy integers (np.int64(64)); returned as a Python int for get_config
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or not 1 <= value <= maximum:
        raise ValueError(f"{arg} must be an integer in [1, {maximum}], got {arg}={value!r}")
    return int(value)


def check_units(units, arg):
    units = tuple(units)
    if not units:
        raise ValueError(f"{arg} must name at least one layer width, got {arg}={units!r}")
    return tuple(check_positive_int(u, arg) for u in units)


def maybe_spectral(layer, spectral_norm):
    return keras.layers.SpectralNormalization(layer) if spectral_norm else layer


class Network(keras.Model):
    """Base of the bundled networks: a functional graph built in `__init__` (the
    keras-hub backbone pattern), so weights exist at construction and the config
    holds only constructor arguments, not the graph."""

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

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


def check_num_classes(num_classes):
    """None (unconditional) or a class count >= 2 (one class is an unconditional model), as a Python int:
    the one check of a class count (the models, `WGAN`, the exports)."""
    if num_classes is None:
        return None
    # numbers.Integral admits numpy integers (a count read from data); bool is an int but no count
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) \
            or not 2 <= num_classes <= 1 << 16:
        raise ValueError(f"num_classes must be None or an integer in [2, {1 << 16}], got num_classes={num_classes!r}")
    return int(num_classes)


def label_input():
    """The class labels of a conditional network: int32 of shape (batch,)."""
    return keras.Input((), dtype="int32", name="labels")


def join_label(z, labels, num_classes):
    """[z, embed(label)]: the conditional generator's input (the label embedding has num_classes
    dimensions, as PyTorch-GAN's cGAN; for 10 classes it can represent a one-hot code exactly).

    The embedding starts N(0, 1), as PyTorch's nn.Embedding (so that cGAN's): on the scale of z's own
    entries, so the label weighs in the first layer like a coordinate of z from the first step. Keras's
    default U(-0.05, 0.05) has a standard deviation of 0.029, 35x smaller than z's."""
    embedded = keras.layers.Embedding(num_classes, num_classes, embeddings_initializer=keras.initializers.RandomNormal(
        stddev=1.0), name="label_embedding")(labels)
    return keras.layers.Concatenate(name="z_and_label")([z, embedded])


def critic_head(features, inputs, num_classes, spectral_norm):
    """(inputs, scores) of a critic: a Dense(1) on the features, or with `num_classes` the projection head
    (`projection_scores`) and a label input after `inputs`."""
    if num_classes is None:
        return inputs, maybe_spectral(keras.layers.Dense(1, dtype="float32"), spectral_norm)(features)
    labels = label_input()
    return [inputs, labels], projection_scores(features, labels, num_classes, spectral_norm)


def projection_scores(features, labels, num_classes, spectral_norm):
    """The projection critic's head (Miyato & Koyama 2018): f(x, y) = psi(phi(x)) + <embed(y), phi(x)>.

    `features` is phi(x); psi is a Dense(1). The embedding is an ordinary critic weight, so weight
    clipping bounds it like the others, and with `spectral_norm` it is normalized as in the paper's code.
    Scores are float32 even under a mixed-precision policy."""
    psi = maybe_spectral(keras.layers.Dense(1, dtype="float32"), spectral_norm)(features)
    embedding = keras.layers.Embedding(num_classes, features.shape[-1], name="class_embedding")
    embedded = (SpectralNormalizedEmbedding(embedding) if spectral_norm else embedding)(labels)
    projected = keras.layers.Dot(axes=1, dtype="float32", name="projection")([embedded, features])
    return keras.layers.Add(dtype="float32", name="scores")([psi, projected])


@keras.saving.register_keras_serializable(package="wgan_keras")
class SpectralNormalizedEmbedding(keras.layers.SpectralNormalization):
    """`keras.layers.SpectralNormalization` around an `Embedding`, as the projection critic's paper
    normalizes its class embedding. Keras 3.15's wrapper casts the wrapped layer's output to the dtype
    of its *input*: for an embedding that is the int32 labels, which truncates the vectors and leaves
    the embedding without a gradient. This one returns the embedding's output as it is."""

    def call(self, inputs, training=False):
        if training:  # as keras.layers.SpectralNormalization.call
            new_vector_u, new_kernel = keras.ops.cond(
                keras.ops.all(keras.ops.equal(self.kernel.value, 0)),
                lambda: (self.vector_u.value, self.kernel.value),
                self.normalized_weights,
            )
            self.vector_u.assign(new_vector_u)
            self.kernel.assign(new_kernel)
        return self.layer(inputs)

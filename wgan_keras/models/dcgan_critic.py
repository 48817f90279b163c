"""DCGAN discriminator without the sigmoid: the WGAN critic."""
import keras

from wgan_keras.models.common import (
    Network,
    check_image_shape,
    check_num_classes,
    check_positive_int,
    critic_head,
    dcgan_filters,
    maybe_spectral,
)

NORMALIZATIONS = (None, "layer")
SLOPE = 0.2  # LeakyReLU's negative slope in the DCGAN critic


def leaky_relu(x):
    """LeakyReLU(0.2) as max(x, 0.2 x): the same values (slope 0.2 below 0), and not keras' LeakyReLU op,
    because under oneDNN (TensorFlow's CPU default) grappler's remapper fuses Conv2D + BiasAdd + LeakyRelu
    and then fails on the gradient ("remapper failed: ... LeakyReluGrad exist for missing node"), an
    error line in every training run (TF 2.21; tests/docs_examples_test.py checks the quick start)."""
    return keras.ops.maximum(x, SLOPE * x)


@keras.saving.register_keras_serializable(package="wgan_keras")
class DCGANCritic(Network):
    """[Conv2D(4x4, stride 2) -> LeakyReLU(0.2)]* -> Dense(1), a linear score.

    No BatchNorm by default: it couples the examples of a batch, which breaks
    the per-example gradient penalty and the critic's role as a function of
    one sample. `normalization="layer"` is the WGAN-GP paper's substitute.
    The score is float32 even under a mixed-precision policy.

    Args:
        image_shape: (S, S, C) with S in (28, 32, 64) and C in (1, 3).
        base_filters: width of the first conv; each later conv doubles it.
        normalization: None or "layer".
        spectral_norm: wrap every Conv/Dense in `keras.layers.SpectralNormalization`
            (for `WGAN(lipschitz="sn")`).
        num_classes: None (unconditional: `critic(images)`), or the class count of a projection
            critic (Miyato & Koyama 2018), called as `critic([images, labels])` with int labels (batch,).

    Call: `critic(images)` or `critic([images, labels])` with images (batch, S, S, C) in [-1, 1] ->
    scores, float32 (batch, 1), no sigmoid.

    Raises:
        ValueError: an image shape it cannot build, a bad `normalization`, width or `num_classes`.
    """

    def __init__(self, image_shape=(28, 28, 1), base_filters=64, normalization=None, spectral_norm=False,
                 num_classes=None, **kwargs):
        num_classes = check_num_classes(num_classes)
        image_shape = check_image_shape(image_shape)
        base_filters = check_positive_int(base_filters, "base_filters", 4096)
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got normalization={normalization!r}")
        _, filters = dcgan_filters(image_shape[0], base_filters)

        images = keras.Input(image_shape, name="images")
        x = images
        for i, f in enumerate(reversed(filters)):
            x = maybe_spectral(keras.layers.Conv2D(f, 4, strides=2, padding="same"), spectral_norm)(x)
            if normalization == "layer" and i > 0:
                x = keras.layers.LayerNormalization(axis=[1, 2, 3])(x)
            x = keras.layers.Activation(leaky_relu)(x)
        x = keras.layers.Flatten()(x)
        inputs, scores = critic_head(x, images, num_classes, spectral_norm)
        super().__init__(inputs=inputs, outputs=scores, **kwargs)

        self.image_shape = image_shape
        self.base_filters = base_filters
        self.normalization = normalization
        self.spectral_norm = spectral_norm
        self.num_classes = num_classes

    def get_config(self):
        config = super().get_config()
        config.update(
            image_shape=list(self.image_shape),
            base_filters=self.base_filters,
            normalization=self.normalization,
            spectral_norm=self.spectral_norm,
            num_classes=self.num_classes,
        )
        return config

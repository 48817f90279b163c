"""WGAN-GP's residual critic (Gulrajani et al. 2017)."""
import keras

from wgan_keras.models.common import (
    Network,
    check_image_shape,
    check_num_classes,
    check_positive_int,
    critic_head,
    maybe_spectral,
)
from wgan_keras.models.resnet_blocks import down_block, resnet_widths

NORMALIZATIONS = (None, "layer")


@keras.saving.register_keras_serializable(package="wgan_keras")
class ResNetCritic(Network):
    """Conv3x3 -> [residual down-block]* -> ReLU -> global mean -> Dense(1), a linear score.

    Each down-block (`resnet_blocks.down_block`) halves the side with two pre-activation 3x3 convolutions
    and a 2x mean-pool, beside a 1x1 + mean-pool shortcut. No BatchNorm (it couples the examples of a
    batch and breaks the per-example gradient penalty); `normalization="layer"` is the paper's
    substitute. 64x64 with `base_filters=d`: d, then blocks of 2d, 4d, 8d, 8d down to 4x4, as the paper's
    `gan_64x64.py` ResNet critic; its head flattens, this one averages the 4x4 map (as its CIFAR critic).
    The score is float32 even under a mixed-precision policy.

    Args:
        image_shape: (S, S, C) with S in (28, 32, 64) and C in (1, 3).
        base_filters: width of the first conv; each block doubles it, up to 8x at 64x64.
        normalization: None or "layer".
        spectral_norm: wrap every Conv/Dense in `keras.layers.SpectralNormalization` (`lipschitz="sn"`).
        num_classes: None (unconditional: `critic(images)`), or the class count of a projection critic
            (Miyato & Koyama 2018), called as `critic([images, labels])` with int labels (batch,).
    """

    def __init__(self, image_shape=(64, 64, 3), base_filters=64, normalization=None, spectral_norm=False,
                 num_classes=None, **kwargs):
        num_classes = check_num_classes(num_classes)
        image_shape = check_image_shape(image_shape)
        base_filters = check_positive_int(base_filters, "base_filters", 4096)
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"normalization must be one of {NORMALIZATIONS}, got normalization={normalization!r}")
        _, filters = resnet_widths(image_shape[0], base_filters)
        widths = filters[::-1][1:] + filters[:1]  # 64x64: 2d, 4d, 8d, 8d

        images = keras.Input(image_shape, name="images")
        x = maybe_spectral(keras.layers.Conv2D(filters[-1], 3, padding="same"), spectral_norm)(images)
        for f in widths:
            x = down_block(x, f, normalization, spectral_norm)
        x = keras.layers.GlobalAveragePooling2D()(keras.layers.ReLU()(x))
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

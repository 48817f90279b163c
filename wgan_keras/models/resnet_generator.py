"""WGAN-GP's residual generator (Gulrajani et al. 2017)."""
import keras

from wgan_keras.models.common import (
    Network,
    check_image_shape,
    check_num_classes,
    check_positive_int,
    join_label,
    label_input,
)
from wgan_keras.models.resnet_blocks import resnet_widths, up_block


@keras.saving.register_keras_serializable(package="wgan_keras")
class ResNetGenerator(Network):
    """z -> Dense -> [residual up-block]* -> BN -> ReLU -> Conv3x3 -> tanh.

    Each up-block (`resnet_blocks.up_block`) doubles the side with nearest 2x upsampling and two 3x3
    convolutions with BatchNorm, beside a 1x1 shortcut. 64x64 with `base_filters=d` is the paper's
    `gan_64x64.py` ResNet generator: 4x4x8d, blocks of 8d, 4d, 2d, d. 32x32 has blocks of 4d, 2d, d and
    28x28 starts at 7x7. Outputs lie in [-1, 1].

    Args:
        latent_dim: size of z ~ N(0, I).
        image_shape: (S, S, C) with S in (28, 32, 64) and C in (1, 3).
        base_filters: width of the last block; earlier blocks double it.
        batch_norm: BatchNorm in the blocks (the paper's generator has it).
        num_classes: None (unconditional: `generator(z)`), or the class count of a conditional generator,
            called as `generator([z, labels])` with int labels (batch,): an embedding of the label is
            joined to z before the Dense.
    """

    def __init__(self, latent_dim=128, image_shape=(64, 64, 3), base_filters=64, batch_norm=True,
                 num_classes=None, **kwargs):
        num_classes = check_num_classes(num_classes)
        latent_dim = check_positive_int(latent_dim, "latent_dim")
        image_shape = check_image_shape(image_shape)
        base_filters = check_positive_int(base_filters, "base_filters", 4096)
        start, filters = resnet_widths(image_shape[0], base_filters)
        # synchronized on TensorFlow only, as DCGANGenerator (statistics over the global batch)
        synchronized = keras.backend.backend() == "tensorflow"
        norm = (lambda: keras.layers.BatchNormalization(synchronized=synchronized)) if batch_norm else \
            keras.layers.Identity

        z = keras.Input((latent_dim,), name="z")
        labels = label_input() if num_classes else None
        x = z if labels is None else join_label(z, labels, num_classes)
        x = keras.layers.Dense(start * start * filters[0])(x)
        x = keras.layers.Reshape((start, start, filters[0]))(x)
        for f in filters:
            x = up_block(x, f, norm)
        x = keras.layers.ReLU()(norm()(x))
        x = keras.layers.Conv2D(image_shape[-1], 3, padding="same")(x)
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs=z if labels is None else [z, labels], outputs=images, **kwargs)

        self.latent_dim = latent_dim
        self.image_shape = image_shape
        self.base_filters = base_filters
        self.batch_norm = batch_norm
        self.num_classes = num_classes

    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            image_shape=list(self.image_shape),
            base_filters=self.base_filters,
            batch_norm=self.batch_norm,
            num_classes=self.num_classes,
        )
        return config

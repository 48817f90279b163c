"""DCGAN generator (Radford et al. 2016) as used by the WGAN paper."""
import keras

from wgan_keras.choices import UPSAMPLING
from wgan_keras.models.common import (
    Network,
    check_image_shape,
    check_num_classes,
    check_positive_int,
    dcgan_filters,
    join_label,
    label_input,
)


def upsample_stage(x, filters, mode, use_bias):
    """One 2x upsampling stage. "transpose": Conv2DTranspose(4x4, stride 2), the paper's. "resize":
    nearest-neighbour 2x then Conv2D(3x3), for Edge TPUs and NPUs that reject stride-2 transposed
    convolutions. Resizing, not UpSampling2D: Keras lowers UpSampling2D(nearest) to TILE, which neither
    TFLite Micro nor the Edge TPU has; Resizing lowers to RESIZE_NEAREST_NEIGHBOR (both have it)."""
    if mode == "transpose":
        return keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=use_bias)(x)
    x = keras.layers.Resizing(2 * x.shape[1], 2 * x.shape[2], interpolation="nearest")(x)
    return keras.layers.Conv2D(filters, 3, padding="same", use_bias=use_bias)(x)


@keras.saving.register_keras_serializable(package="wgan_keras")
class DCGANGenerator(Network):
    """z -> Dense -> BN -> ReLU -> [Conv2DTranspose(4x4, stride 2) -> BN -> ReLU]* -> tanh.

    For 32x32 with `base_filters=64` this is the benchmark's "DCGAN-32":
    Dense 4*4*256 -> ConvT 128 -> ConvT 64 -> ConvT C. 28x28 starts at 7x7 and
    64x64 adds a 512-wide stage. Outputs lie in [-1, 1].

    Args:
        latent_dim: size of z ~ N(0, I).
        image_shape: (S, S, C) with S in (28, 32, 64) and C in (1, 3).
        base_filters: width of the last hidden stage; earlier stages double it.
        batch_norm: BatchNorm after each hidden layer (the paper's generator has it).
        upsample: "transpose" (the paper's) or "resize" (nearest 2x + Conv2D 3x3; converts full-integer
            with RESIZE_NEAREST_NEIGHBOR + CONV_2D, no TRANSPOSE_CONV: see `upsample_stage`).
        num_classes: None (unconditional: `generator(z)`), or the class count of a conditional
            generator, called as `generator([z, labels])` with int labels (batch,): an embedding of the
            label is joined to z before the first Dense.

    Call: `generator(z)` or `generator([z, labels])` with z float32 (batch, latent_dim) -> images
    (batch, S, S, C) in [-1, 1] (float32, or the dtype policy's compute dtype).

    Raises:
        ValueError: an image shape or width it cannot build, a bad `upsample` or `num_classes`.
    """

    def __init__(self, latent_dim=128, image_shape=(28, 28, 1), base_filters=64, batch_norm=True,
                 upsample="transpose", num_classes=None, **kwargs):
        num_classes = check_num_classes(num_classes)
        latent_dim = check_positive_int(latent_dim, "latent_dim")
        image_shape = check_image_shape(image_shape)
        base_filters = check_positive_int(base_filters, "base_filters", 4096)
        if upsample not in UPSAMPLING:
            raise ValueError(f"upsample must be one of {UPSAMPLING}, got upsample={upsample!r}")
        start, filters = dcgan_filters(image_shape[0], base_filters)
        # synchronized: under tf.distribute the statistics cover the global batch, as on one device. Keras
        # allows it on TensorFlow only; under JAX's DataParallel jit sees the global batch, so they cover it there.
        synchronized = keras.backend.backend() == "tensorflow"
        norm = (lambda: keras.layers.BatchNormalization(synchronized=synchronized)) if batch_norm else \
            keras.layers.Identity

        z = keras.Input((latent_dim,), name="z")
        labels = label_input() if num_classes else None
        x = z if labels is None else join_label(z, labels, num_classes)
        x = keras.layers.Dense(start * start * filters[0], use_bias=not batch_norm)(x)
        x = keras.layers.Reshape((start, start, filters[0]))(x)
        x = keras.layers.ReLU()(norm()(x))
        for f in filters[1:]:
            x = upsample_stage(x, f, upsample, use_bias=not batch_norm)
            x = keras.layers.ReLU()(norm()(x))
        x = upsample_stage(x, image_shape[-1], upsample, use_bias=True)
        # tanh in float32 so mixed-precision samples keep their full [-1, 1] resolution.
        images = keras.layers.Activation("tanh", dtype="float32", name="images")(x)
        super().__init__(inputs=z if labels is None else [z, labels], outputs=images, **kwargs)

        self.latent_dim = latent_dim
        self.image_shape = image_shape
        self.base_filters = base_filters
        self.batch_norm = batch_norm
        self.upsample = upsample
        self.num_classes = num_classes

    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            image_shape=list(self.image_shape),
            base_filters=self.base_filters,
            batch_norm=self.batch_norm,
            upsample=self.upsample,
            num_classes=self.num_classes,
        )
        return config

"""The residual blocks of WGAN-GP's ResNets (Gulrajani et al. 2017, `gan_64x64.py` / `gan_cifar_resnet.py`),
shared by `ResNetGenerator` and `ResNetCritic`."""
import keras

from wgan_keras.models.common import dcgan_filters, maybe_spectral


def resnet_widths(size, base_filters):
    """(start side, block widths): 4x4 (7x7 for 28) doubling to `size`, widths halving as resolution
    doubles down to `base_filters` at the last block; 64x64 gives the paper's 8d, 4d, 2d, d."""
    return dcgan_filters(size, base_filters)


def upsample(x):
    """Nearest 2x as a Resizing layer: RESIZE_NEAREST_NEIGHBOR in TFLite, which TFLite Micro has (Keras
    lowers UpSampling2D to TILE, which it has not)."""
    return keras.layers.Resizing(2 * x.shape[1], 2 * x.shape[2], interpolation="nearest")(x)


def up_block(x, filters, norm):
    """Generator block: BN -> ReLU -> up 2x -> Conv3x3 -> BN -> ReLU -> Conv3x3, plus up 2x -> Conv1x1."""
    shortcut = keras.layers.Conv2D(filters, 1)(upsample(x))
    h = keras.layers.ReLU()(norm()(x))
    h = keras.layers.Conv2D(filters, 3, padding="same")(upsample(h))
    h = keras.layers.ReLU()(norm()(h))
    h = keras.layers.Conv2D(filters, 3, padding="same")(h)
    return keras.layers.Add()([shortcut, h])


def down_block(x, filters, normalization, spectral_norm):
    """Critic block, pre-activation: [LN] -> ReLU -> Conv3x3 -> [LN] -> ReLU -> Conv3x3 -> mean-pool 2x,
    plus Conv1x1 -> mean-pool 2x (the paper's ConvMeanPool shortcut; pooling first also made TensorFlow's
    oneDNN remapper fail on Conv1x1 + BiasAdd + Add, an error line in every run). No BatchNorm: the
    gradient penalty is per example."""
    def conv(f, k):
        return maybe_spectral(keras.layers.Conv2D(f, k, padding="same"), spectral_norm)

    def pre(h):
        if normalization == "layer":
            h = keras.layers.LayerNormalization(axis=[1, 2, 3])(h)
        return keras.layers.ReLU()(h)

    shortcut = keras.layers.AveragePooling2D(2)(conv(filters, 1)(x))
    h = conv(x.shape[-1], 3)(pre(x))
    h = keras.layers.AveragePooling2D(2)(conv(filters, 3)(pre(h)))
    return keras.layers.Add()([shortcut, h])

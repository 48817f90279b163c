"""MLP critic for 2-D toys and the paper's MLP experiments."""
import keras

from wgan_keras.models.common import (
    Network,
    check_num_classes,
    check_units,
    critic_head,
    maybe_spectral,
)


@keras.saving.register_keras_serializable(package="wgan_keras")
class MLPCritic(Network):
    """flatten -> [Dense -> ReLU]* -> Dense(1), a linear (no sigmoid) float32 score.

    Args:
        input_shape: shape of one sample, e.g. (2,) or (28, 28, 1).
        hidden_units: widths of the hidden layers.
        spectral_norm: wrap every Dense in `keras.layers.SpectralNormalization`.
        num_classes: None, or the class count of a projection critic, called as `critic([samples, labels])`
            (see `DCGANCritic`).
    """

    def __init__(self, input_shape=(2,), hidden_units=(512, 512, 512), spectral_norm=False, num_classes=None,
                 **kwargs):
        num_classes = check_num_classes(num_classes)
        input_shape = check_units(input_shape, "input_shape")
        hidden_units = check_units(hidden_units, "hidden_units")

        samples = keras.Input(input_shape, name="samples")
        x = keras.layers.Flatten()(samples)
        for units in hidden_units:
            x = maybe_spectral(keras.layers.Dense(units), spectral_norm)(x)
            x = keras.layers.ReLU()(x)
        inputs, scores = critic_head(x, samples, num_classes, spectral_norm)
        super().__init__(inputs=inputs, outputs=scores, **kwargs)

        self.sample_shape = input_shape
        self.image_shape = input_shape  # WGAN matches it against the generator's output.
        self.hidden_units = hidden_units
        self.spectral_norm = spectral_norm
        self.num_classes = num_classes

    def get_config(self):
        config = super().get_config()
        config.update(input_shape=list(self.sample_shape), hidden_units=list(self.hidden_units),
                      spectral_norm=self.spectral_norm, num_classes=self.num_classes)
        return config

"""MLP generator for 2-D toys and the paper's MLP experiments."""
import keras

from wgan_keras.models.common import (
    Network,
    check_num_classes,
    check_positive_int,
    check_units,
    join_label,
    label_input,
)


@keras.saving.register_keras_serializable(package="wgan_keras")
class MLPGenerator(Network):
    """z -> [Dense -> ReLU]* -> Dense -> reshape to `output_shape`.

    Args:
        latent_dim: size of z ~ N(0, I).
        output_shape: shape of one sample, e.g. (2,) for toys or (28, 28, 1).
        hidden_units: widths of the hidden layers (the paper: 4 x 512).
        output_activation: None for unbounded data (toys), "tanh" for images in [-1, 1].
        num_classes: None, or the class count of a conditional generator, called as `generator([z, labels])`
            (see `DCGANGenerator`).
    """

    def __init__(self, latent_dim=2, output_shape=(2,), hidden_units=(512, 512, 512), output_activation=None,
                 num_classes=None, **kwargs):
        num_classes = check_num_classes(num_classes)
        latent_dim = check_positive_int(latent_dim, "latent_dim")
        output_shape = check_units(output_shape, "output_shape")
        hidden_units = check_units(hidden_units, "hidden_units")
        if output_activation not in (None, "tanh"):
            raise ValueError(f"output_activation must be None or 'tanh', got output_activation={output_activation!r}")
        size = 1
        for d in output_shape:
            size *= d

        z = keras.Input((latent_dim,), name="z")
        labels = label_input() if num_classes else None
        x = z if labels is None else join_label(z, labels, num_classes)
        for units in hidden_units:
            x = keras.layers.Dense(units, activation="relu")(x)
        x = keras.layers.Dense(size)(x)
        x = keras.layers.Reshape(output_shape)(x)
        samples = keras.layers.Activation(output_activation or "linear", dtype="float32", name="samples")(x)
        super().__init__(inputs=z if labels is None else [z, labels], outputs=samples, **kwargs)

        self.latent_dim = latent_dim
        self.sample_shape = output_shape
        self.image_shape = output_shape  # WGAN matches it against the critic's input.
        self.hidden_units = hidden_units
        self.output_activation = output_activation
        self.num_classes = num_classes

    def get_config(self):
        config = super().get_config()
        config.update(
            latent_dim=self.latent_dim,
            output_shape=list(self.sample_shape),
            hidden_units=list(self.hidden_units),
            output_activation=self.output_activation,
            num_classes=self.num_classes,
        )
        return config

"""The paper's Lipschitz constraint: clip every critic parameter to [-c, c]."""
import keras
from keras import ops


@keras.saving.register_keras_serializable(package="wgan_keras")
class WeightClip(keras.constraints.Constraint):
    """Clips a weight to `[-clip_value, clip_value]` (Algorithm 1, line 8).

    `WGAN` applies it to every trainable critic variable after every critic
    update -- kernels, biases and normalization gamma/beta alike -- so a user
    critic needs no constraints of its own.

    Args:
        clip_value: positive float `c`; the paper uses 0.01.
    """

    def __init__(self, clip_value=0.01):
        clip_value = float(clip_value)
        if not clip_value > 0:  # also rejects NaN
            raise ValueError(f"clip_value must be > 0, got clip_value={clip_value}")
        self.clip_value = clip_value

    def __call__(self, w):
        return ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self):
        return {"clip_value": self.clip_value}

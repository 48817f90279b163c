"""wgan-keras: Wasserstein GANs as ordinary Keras 3 models on TensorFlow.

Importing this package changes nothing in the process (no environment variable, no stream) and, when
Keras is not loaded yet, loads neither Keras nor TensorFlow: the public names below load on first use
(PEP 562), so `wgan-train --help` and its flag errors answer before TensorFlow starts. Using any of them
(`wk.WGAN`, `wk.DCGANCritic`, ...) imports the whole core, which registers every model class with Keras
for `keras.saving.load_model`; when Keras is already loaded (`import keras, wgan_keras`), that happens at
once. The subpackages `wk.data` and `wk.evaluation` load when first touched.
"""
import importlib
import sys

__version__ = "0.3.0"

# public name -> the module that defines it
_NAMES = {
    "WeightClip": "wgan_keras.constraints",
    "save_image_grid": "wgan_keras.images",
    "to_uint8": "wgan_keras.images",
    "gradient_penalty": "wgan_keras.losses",
    "wasserstein_critic_loss": "wgan_keras.losses",
    "wasserstein_distance_estimate": "wgan_keras.losses",
    "wasserstein_generator_loss": "wgan_keras.losses",
    "DCGANCritic": "wgan_keras.models",
    "DCGANGenerator": "wgan_keras.models",
    "MLPCritic": "wgan_keras.models",
    "MLPGenerator": "wgan_keras.models",
    "pretrained": "wgan_keras.packaged",
    "sample": "wgan_keras.sampling",
    "ResNetCritic": "wgan_keras.models",
    "ResNetGenerator": "wgan_keras.models",
    "critic_iterations_for": "wgan_keras.schedules",
    "WGAN": "wgan_keras.wgan",
}
_SUBPACKAGES = ("data", "evaluation")
__all__ = [*_NAMES, *_SUBPACKAGES]


def __getattr__(name):
    if name in _SUBPACKAGES:
        return importlib.import_module(f"wgan_keras.{name}")
    if name not in _NAMES:
        raise AttributeError(f"module 'wgan_keras' has no attribute {name!r}")
    for module in sorted(set(_NAMES.values())):  # all at once: every Keras class registered together
        importlib.import_module(module)
    value = getattr(importlib.import_module(_NAMES[name]), name)
    globals().update({n: getattr(importlib.import_module(m), n) for n, m in _NAMES.items()})
    return value


def __dir__():
    return sorted([*globals(), *__all__])


if "keras" in sys.modules:  # Keras (and its backend) is loaded already: nothing to save by waiting, and
    __getattr__("WGAN")     # keras.saving.load_model finds our classes right after `import keras, wgan_keras`

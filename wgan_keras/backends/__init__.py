"""The gradient plumbing of `wgan_keras.algorithm`, one small module per Keras backend.

Keras picks its backend once, at import (KERAS_BACKEND), so `plumbing` is picked
once too. Every module offers the same functions: `run_step(gan, step, *args)` (how
`WGAN.train_step`/`test_step` run an `algorithm` step), `gradients(objective, variables)`,
`input_gradient(fn, x)` (the gradient penalty's), `apply`, `no_grad`, `noise`,
`replicas`, `logs`, and the `compile`/`fit` hooks `default_jit_compile`,
`compiled` and `replicas_in_sync`.
"""
import importlib

import keras

BACKENDS = ("tensorflow", "jax", "torch")


def load(name):
    if name not in BACKENDS:
        raise ValueError(f"WGAN trains on the {', '.join(BACKENDS)} Keras backends, not on {name!r}")
    return importlib.import_module(f"wgan_keras.backends.{name}")


plumbing = load(keras.backend.backend())

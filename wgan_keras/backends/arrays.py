"""WGAN.fit's input where TensorFlow (so tf.data) is not installed: JAX or PyTorch on a GPU machine
that has no TensorFlow. With TensorFlow present, the tf.data path (`wgan_keras.data`) is used on every
backend."""
import random

import keras
import numpy as np


def tensorflow_or_none():
    """TensorFlow, or None where it is not installed (JAX and PyTorch train without it)."""
    try:
        import tensorflow as tf
    except ImportError:
        return None
    return tf


class ArrayGroups(keras.utils.PyDataset):
    """An array of samples -> groups of n_critic batches of m, shuffled each epoch: WGAN.fit's input
    where TensorFlow (so tf.data) is absent. Numpy's shuffle, so not the tf.data path's batches.
    `x` may be an (images, labels) pair (a conditional WGAN): groups are then pairs too."""

    def __init__(self, x, m, n_critic, shuffle=True, seed=None):
        super().__init__()
        x, self.labels = (x[0], np.asarray(x[1], "int32").reshape(-1)) if isinstance(x, (tuple, list)) else (x, None)
        self.x, self.size, self.shuffle = np.asarray(x, "float32"), int(m) * n_critic, shuffle
        if not np.isfinite(self.x).all():
            raise ValueError("x: holds NaN/Inf values")
        self.rng = np.random.default_rng(random.randint(0, 2**31 - 1) if seed is None else seed)
        self.order = np.arange(len(self.x))
        self.on_epoch_end()

    def __len__(self):
        return len(self.x) // self.size

    def __getitem__(self, index):
        rows = self.order[index * self.size:(index + 1) * self.size]
        return self.x[rows] if self.labels is None else (self.x[rows], self.labels[rows])

    def on_epoch_end(self):
        if self.shuffle:
            self.rng.shuffle(self.order)

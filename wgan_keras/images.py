"""Sample images: batched generation, uint8 conversion, grids and PNG files.

The pixel rule, the grid and the PNG encoder are the edge package's (numpy only), so a grid
written during training and one written by wgan-sample agree pixel for pixel.
"""
import keras
import numpy as np

from wgan_edge.atomic import write_bytes
from wgan_edge.contract import to_uint8
from wgan_edge.png import encode_png, image_grid


def generate_images(generator, z, batch_size=256, labels=None):
    """g(z) (or g(z, labels) for a conditional generator) in inference mode, `batch_size` latents at a
    time -> float32 numpy array."""
    z = np.asarray(z, np.float32)
    labels = None if labels is None else np.asarray(labels, np.int32)

    def inputs(i):
        return z[i:i + batch_size] if labels is None else [z[i:i + batch_size], labels[i:i + batch_size]]

    return np.concatenate([keras.ops.convert_to_numpy(generator(inputs(i), training=False))
                           for i in range(0, len(z), batch_size)]).astype(np.float32)


def save_image_grid(path, images, columns=None):
    """Writes generator outputs in [-1, 1] (N, H, W, C) as one PNG grid, atomically. Returns `path`."""
    return write_bytes(path, encode_png(image_grid(to_uint8(images), columns)))


__all__ = ["encode_png", "generate_images", "image_grid", "save_image_grid", "to_uint8"]

"""The contract between an exported generator and whatever runs it, stated once.

signature "generate": input  "z"      float32[batch, latent_dim]  (int8 for full-integer models)
                      output "images" float32[batch, H, W, C] in [-1, 1]  (int8 for full_int8: scale 1/127.5)
                      output "pixels" uint8[batch, H, W, C]: `to_uint8(images)`
"""
import numpy as np

SIGNATURE = "generate"
INPUT = "z"
OUTPUTS = ("images", "pixels")
METADATA_FILE = "wgan_export.json"  # beside a SavedModel's files, and as <model>.json beside a .tflite
# wgan-export --quantize, the one list. full_int8: int8 z and images, uint8 pixels (TFLM, Edge TPU, NPUs);
# int16x8: int16 activations, int8 weights, float I/O (closest to float of the integer modes).
QUANTIZATIONS = ("float32", "float16", "dynamic", "int8", "int16x8", "full_int8", "qat")
LATENT_PRIOR = "normal(0, 1)"


def latent_vectors(n, latent_dim, seed=0):
    """`n` latent vectors z ~ N(0, 1), float32, from numpy's PCG64 seeded with `seed` (an int or
    a sequence of ints): the same z on every machine, with or without TensorFlow."""
    return np.random.default_rng(seed).standard_normal((n, latent_dim)).astype(np.float32)


def to_uint8(images):
    """Generator outputs in [-1, 1] -> uint8 pixels: floor(images * 127.5 + 128) clipped to [0, 255],
    i.e. (images + 1) * 127.5 rounded half up. The exported `pixels` output computes the same."""
    images = np.asarray(images, dtype=np.float32)
    return np.clip(np.floor(images * np.float32(127.5) + np.float32(128.0)), 0, 255).astype(np.uint8)

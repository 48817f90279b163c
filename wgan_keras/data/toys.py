"""2-D toy distributions with the published protocols (WGAN / WGAN-GP mixture tests).

ring8:     8 Gaussians centred on the unit circle (angles k*pi/4), sigma 0.01.
grid25:    25 Gaussians on the 5x5 grid {-4, -2, 0, 2, 4}^2, sigma 0.05.
swissroll: sklearn's make_swiss_roll(noise=0.25) in its (x, z) plane, divided
           by 7.5 as in the WGAN-GP code, so it lies roughly in [-2, 2]^2.
"""
import numpy as np

from wgan_keras.choices import TOYS

TOY_SIGMA = {"ring8": 0.01, "grid25": 0.05}
SWISSROLL_NOISE = 0.25
SWISSROLL_SCALE = 7.5


def toy_centers(name):
    """The mixture's mode centres as float32 (k, 2): (8, 2) for ring8, (25, 2) for grid25."""
    if name == "ring8":
        angles = np.arange(8) * (np.pi / 4)
        return np.stack([np.cos(angles), np.sin(angles)], axis=1).astype(np.float32)
    if name == "grid25":
        axis = np.arange(-4, 5, 2, dtype=np.float32)
        xx, yy = np.meshgrid(axis, axis, indexing="ij")
        return np.stack([xx.ravel(), yy.ravel()], axis=1).astype(np.float32)
    if name == "swissroll":
        raise ValueError("name='swissroll' is a continuous manifold and has no mode centres")
    raise ValueError(f"name must be one of {TOYS}, got name={name!r}")


def sample_toy(name, n, seed=0):
    """n samples of toy `name` as float32 (n, 2). The same (name, n, seed) gives the same array."""
    if name not in TOYS:
        raise ValueError(f"name must be one of {TOYS}, got name={name!r}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer, got n={n!r}")
    rng = np.random.default_rng(seed)
    if name == "swissroll":
        # sklearn.datasets.make_swiss_roll, without the third (height) coordinate.
        t = 1.5 * np.pi * (1 + 2 * rng.random(n))
        points = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
        points += SWISSROLL_NOISE * rng.standard_normal((n, 2))
        return (points / SWISSROLL_SCALE).astype(np.float32)
    centers = toy_centers(name).astype(np.float64)
    modes = rng.integers(0, len(centers), size=n)  # uniform mixture weights
    points = centers[modes] + TOY_SIGMA[name] * rng.standard_normal((n, 2))
    return points.astype(np.float32)

"""Distances between two sets of features (numpy/scipy; any backend's features as arrays).

`frechet_distance(a, b)`: ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians
fitted to the rows of a and b -- FID when the features are InceptionV3's pool3.
`kernel_inception_distance(a, b)`: the unbiased MMD^2 estimate with the cubic polynomial kernel
k(x, y) = (x.y / d + 1)^3 (Binkowski et al. 2018), averaged over random subsets: (mean, std).
`spearman(x, y)`: rank correlation (scipy.stats.spearmanr).
"""
import numpy as np
import scipy.linalg
import scipy.stats


def _features(x, name, at_least=2):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or len(x) < at_least:
        raise ValueError(f"{name} must be features of shape (n, d) with n >= {at_least}, got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} holds NaN or Inf")
    return x


def _pair(a, b, at_least=2):
    a, b = _features(a, "feats_a", at_least), _features(b, "feats_b", at_least)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feats_a and feats_b must have the same dimension, got {a.shape[1]} and {b.shape[1]}")
    return a, b


def gaussian_frechet_distance(mu_a, sigma_a, mu_b, sigma_b, eps=1e-6):
    """The Fréchet (2-Wasserstein squared) distance between N(mu_a, sigma_a) and N(mu_b, sigma_b).

    The usual guard (as in the FID reference code): when sqrtm of the product is not finite
    (near-singular covariances), eps*I is added to both; a negligible imaginary part from
    round-off is dropped, a large one raises. Round-off can leave tiny negatives: clamped at 0."""
    mu_a, mu_b = np.atleast_1d(mu_a), np.atleast_1d(mu_b)
    sigma_a, sigma_b = np.atleast_2d(sigma_a), np.atleast_2d(sigma_b)
    covmean = scipy.linalg.sqrtm(sigma_a @ sigma_b)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(sigma_a)) * eps
        covmean = scipy.linalg.sqrtm((sigma_a + offset) @ (sigma_b + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3 * max(1.0, np.abs(covmean).max())):
            raise ValueError(f"frechet_distance: sqrtm has a large imaginary part "
                             f"({np.abs(covmean.imag).max():.3g}); the covariances are ill-conditioned")
        covmean = covmean.real
    diff = mu_a - mu_b
    value = diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2.0 * np.trace(covmean)
    return float(max(value, 0.0))


def frechet_distance(feats_a, feats_b, eps=1e-6):
    """Fréchet distance between Gaussians fitted to two feature sets of shape (n, d), (m, d).

    Biased upwards for small n (the covariance estimates): compare only figures with the same
    sample counts and reference set."""
    a, b = _pair(feats_a, feats_b)
    return gaussian_frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False), eps)


def _mmd2_unbiased(x, y):
    d = x.shape[1]
    kxx = (x @ x.T / d + 1.0) ** 3
    kyy = (y @ y.T / d + 1.0) ** 3
    kxy = (x @ y.T / d + 1.0) ** 3
    m, n = len(x), len(y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
            - 2.0 * kxy.mean())


def kernel_inception_distance(feats_a, feats_b, subsets=100, subset_size=1000, seed=0):
    """Unbiased KID: (mean, std) of the MMD^2 estimate over `subsets` random subsets of
    min(subset_size, n, m) rows of each side (drawn without replacement within a subset).
    0 in expectation when both sets come from one distribution; it can be negative."""
    a, b = _pair(feats_a, feats_b)
    if isinstance(subsets, bool) or int(subsets) < 1:
        raise ValueError(f"subsets must be a positive integer, got subsets={subsets!r}")
    size = min(int(subset_size), len(a), len(b))
    rng = np.random.default_rng(seed)
    values = [_mmd2_unbiased(a[rng.choice(len(a), size, replace=False)], b[rng.choice(len(b), size, replace=False)])
              for _ in range(int(subsets))]
    return float(np.mean(values)), float(np.std(values))


def spearman(x, y):
    """Spearman rank correlation of two equal-length sequences (nan when either is constant)."""
    x, y = np.asarray(x, dtype=np.float64).ravel(), np.asarray(y, dtype=np.float64).ravel()
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"x and y must have the same length >= 2, got {len(x)} and {len(y)}")
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(scipy.stats.spearmanr(x, y).statistic)

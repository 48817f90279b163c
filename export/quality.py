"""Distributional fidelity: a Fréchet distance between the float and the quantized sample sets.

Per-pixel numbers (max |d|, PSNR) say how far each image moved; the Fréchet distance says whether the
*set* of samples moved, which is what a user judges (a uniform shift of 0.01 costs PSNR but not looks;
a texture artefact on a few layers can cost looks at a fine PSNR). `features` is any callable
images (n, H, W, C) in [-1, 1] -> (n, d). The default is the package's digit feature network from
`wgan_keras.evaluation` when present (issue 18), else `fixed_features` below.
"""
import numpy as np


def _conv3x3_relu(x, w):
    n, h, wd, c = x.shape
    p = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    cols = np.concatenate([p[:, i:i + h, j:j + wd, :] for i in range(3) for j in range(3)], axis=-1)
    return np.maximum(cols.reshape(-1, 9 * c) @ w.reshape(9 * c, -1), 0.0).reshape(n, h, wd, -1)


def _pool2(x):
    n, h, w, c = x.shape
    return x[:, :h // 2 * 2, :w // 2 * 2].reshape(n, h // 2, 2, w // 2, 2, c).mean(axis=(2, 4))


def fixed_features(images, widths=(16, 32), seed=0):
    """A fixed random network (numpy, any H, W, C): two 3x3 conv + ReLU stages with 2x2 average pooling,
    each channel's mean and std at both stages, plus a 7x7 thumbnail -> (n, 2*(16+32) + 49*C).

    Random convolutional features are a weak FID backbone for comparing *different* generators, but
    quantization changes texture and contrast locally, which they see; and they need no weights file.
    """
    x = np.asarray(images, np.float32)
    n, h, w, c = x.shape
    rng = np.random.default_rng(seed)
    feats = []
    for k in widths:
        kernel = rng.standard_normal((3, 3, x.shape[-1], k)).astype(np.float32) / np.sqrt(9 * x.shape[-1])
        x = _conv3x3_relu(x, kernel)
        feats += [x.mean(axis=(1, 2)), x.std(axis=(1, 2))]
        x = _pool2(x)
    img = np.asarray(images, np.float32)[:, :h // 7 * 7, :w // 7 * 7]
    thumb = img.reshape(n, 7, h // 7, 7, w // 7, c).mean(axis=(2, 4)).reshape(n, -1)
    return np.concatenate(feats + [thumb], axis=1).astype(np.float64)


def default_features():
    """issue 18's feature network when the core ships one (`wgan_keras.evaluation.features`), else ours."""
    try:
        from wgan_keras import evaluation
    except ImportError:  # pragma: no cover - core always importable next to wgan_export
        return fixed_features
    shipped = getattr(evaluation, "features", None)
    return shipped if callable(shipped) else fixed_features


def frechet_distance(a, b, features=None):
    """||mu_a - mu_b||^2 + Tr(C_a + C_b - 2 (C_a C_b)^1/2) of two image sets in `features` space.

    Tr((C_a C_b)^1/2) = Tr((C_a^1/2 C_b C_a^1/2)^1/2), a symmetric PSD matrix: two eigh calls instead of
    scipy.linalg.sqrtm (its Schur route took 2.5 s on 145x145 here and can return complex noise)."""
    features = features or default_features()
    fa, fb = np.asarray(features(a), np.float64), np.asarray(features(b), np.float64)
    if fa.ndim != 2 or fb.ndim != 2 or fa.shape[1] != fb.shape[1] or min(len(fa), len(fb)) < 2:
        raise ValueError(f"features must map images to (n >= 2, d), got {fa.shape} and {fb.shape}")
    mu = fa.mean(0) - fb.mean(0)
    ca, cb = np.atleast_2d(np.cov(fa, rowvar=False)), np.atleast_2d(np.cov(fb, rowvar=False))
    w, v = np.linalg.eigh(ca)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.sqrt(np.clip(np.linalg.eigvalsh(root_a @ cb @ root_a), 0, None)).sum()
    return float(max(mu @ mu + np.trace(ca) + np.trace(cb) - 2 * cross, 0.0))

"""Differentiable augmentation (DiffAugment, Zhao et al. 2020) of every batch the critic sees.

The critic scores T(x) for real and generated batches alike, T a random translation, cutout and/or
colour change drawn afresh per example and per call; the generator's gradient flows through T. The
WGAN is then trained between the augmented distributions T#P_r and T#P_g, so the critic's Lipschitz
constraint (clip, gradient penalty on interpolates of the augmented batches, or SN) is unchanged, and
a critic that has memorised 4,000 digits sees a new variant of each at every step (the limited-data
regime of the bundled set). Written once in keras.ops: the same code on TensorFlow, JAX and PyTorch.

The random draws come from the backend plumbing's stateless uniforms, indexed by the saved iteration
counters under seeds of their own, so a resumed run augments exactly as an uninterrupted one.
"""
import types

from keras import ops

from wgan_keras.choices import AUGMENT_POLICIES

# The one table of policies: name -> transforms, in the order they apply (DiffAugment's own order).
# translation: shift by up to 1/8 of the side with zero fill; cutout: zero a square of half the side;
# color: brightness +-0.5, saturation x[0, 2], contrast x[0.5, 1.5].
POLICIES = {
    "none": (),
    "translation": ("translation",),
    "translation,cutout": ("translation", "cutout"),
    "color,translation,cutout": ("color", "translation", "cutout"),
}
assert tuple(POLICIES) == AUGMENT_POLICIES, (tuple(POLICIES), AUGMENT_POLICIES)  # the flag's choices
UNIFORMS = {"color": 3, "translation": 2, "cutout": 2}  # uniforms per example each transform draws
# Seeds of the augmentation draws: the training seed plus these, so they share no stream with z or alpha.
CRITIC_SALT, GENERATOR_SALT = 0x5A17, 0x6B28
TRANSLATION_RATIO, CUTOUT_RATIO = 0.125, 0.5


def check_policy(policy):
    """None or "none" -> None; a name in POLICIES, or its transforms as a list or tuple, -> the name; else
    ValueError naming the argument."""
    if isinstance(policy, (list, tuple)) and all(isinstance(t, str) for t in policy):
        policy = ",".join(policy) or "none"  # ['translation', 'cutout'] is the policy "translation,cutout"
    if policy is None or policy == "none":
        return None
    if not isinstance(policy, str) or policy not in POLICIES:
        raise ValueError(f"augment must be None or one of {tuple(POLICIES)}, got augment={policy!r}")
    return policy


def uniforms_needed(policy):
    return sum(UNIFORMS[t] for t in POLICIES[policy or "none"])


def draw(gan, batch, count, salt, counter, plumbing):
    """(batch, count) uniforms in [0, 1) from the backend's stateless noise, under seed gan.seed + salt."""
    seeded = types.SimpleNamespace(seed=(gan.seed + salt) % (2**31 - 1))
    from wgan_keras.noise import GP_ALPHA  # the uniform stream
    return plumbing.noise(seeded, [batch, count], GP_ALPHA, counter)


def diff_augment(x, policy, u):
    """T(x) for images x (batch, H, W, C) and per-example uniforms u (batch, uniforms_needed(policy))."""
    column = 0
    for name in POLICIES[policy or "none"]:
        n = UNIFORMS[name]
        x = TRANSFORMS[name](x, u[:, column:column + n])
        column += n
    return x


def _color(x, u):
    dtype = x.dtype
    u = ops.cast(u, dtype)
    x = x + ops.reshape(u[:, 0] - 0.5, (-1, 1, 1, 1))
    mean = ops.mean(x, axis=3, keepdims=True)
    x = (x - mean) * ops.reshape(u[:, 1] * 2.0, (-1, 1, 1, 1)) + mean
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * ops.reshape(u[:, 2] + 0.5, (-1, 1, 1, 1)) + mean


def _shift_matrix(size, shift):
    """(batch, size, size) one-hot: row i picks source i - shift[b]; rows whose source is outside are 0."""
    i = ops.reshape(ops.arange(size, dtype="int32"), (1, size, 1))
    k = ops.reshape(ops.arange(size, dtype="int32"), (1, 1, size))
    return ops.equal(k, i - ops.reshape(shift, (-1, 1, 1)))


def _offsets(u, low, count):
    """Integers low, ..., low + count - 1 from uniforms in [0, 1)."""
    return ops.minimum(ops.cast(ops.floor(u * count), "int32"), count - 1) + low


def _translation(x, u):
    height, width = int(x.shape[1]), int(x.shape[2])
    sy, sx = int(height * TRANSLATION_RATIO + 0.5), int(width * TRANSLATION_RATIO + 0.5)
    rows = ops.cast(_shift_matrix(height, _offsets(u[:, 0], -sy, 2 * sy + 1)), x.dtype)
    cols = ops.cast(_shift_matrix(width, _offsets(u[:, 1], -sx, 2 * sx + 1)), x.dtype)
    # out[b, i, j] = x[b, i - dy, j - dx]: two batched one-hot matmuls, differentiable on every backend.
    return ops.einsum("bik,bklc,bjl->bijc", rows, x, cols)


def _cutout(x, u):
    height, width = int(x.shape[1]), int(x.shape[2])
    hy, hx = int(height * CUTOUT_RATIO + 0.5), int(width * CUTOUT_RATIO + 0.5)
    # DiffAugment's centres: 0 .. side - (size % 2), the square [centre - size // 2, centre - size // 2 + size).
    top = ops.reshape(_offsets(u[:, 0], 0, height + 1 - hy % 2) - hy // 2, (-1, 1, 1, 1))
    left = ops.reshape(_offsets(u[:, 1], 0, width + 1 - hx % 2) - hx // 2, (-1, 1, 1, 1))
    i = ops.reshape(ops.arange(height, dtype="int32"), (1, height, 1, 1))
    j = ops.reshape(ops.arange(width, dtype="int32"), (1, 1, width, 1))
    inside = ops.logical_and(ops.logical_and(i >= top, i < top + hy), ops.logical_and(j >= left, j < left + hx))
    return x * ops.cast(ops.logical_not(inside), x.dtype)


TRANSFORMS = {"color": _color, "translation": _translation, "cutout": _cutout}

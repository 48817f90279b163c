"""Generator EMA: an exponential moving average of the generator's weights.

After each generator update, every variable e of the average moves towards the
generator's variable w:  e <- d*e + (1-d)*w, with a warm-up d_t = min(decay, (1+t)/(10+t))
(t = generator iterations before the update), so early averages do not carry the
random initialisation for ~1/(1-decay) iterations. Written with keras.ops only.
"""
import hashlib
import numbers

import keras
import numpy as np
from keras import ops

from wgan_edge.contract import latent_vectors
from wgan_keras import classes
from wgan_keras.sampling import latent_dim_of


def clone_generator(generator, name="ema_generator"):
    """A frozen copy of `generator` (same class and config) holding its current weights."""
    config = generator.get_config()
    config["name"] = name
    copy = type(generator).from_config(config)
    if not copy.built:
        copy.build(generator.input_shape if hasattr(generator, "input_shape") else None)
    source, target = generator.weights, copy.weights
    if [tuple(v.shape) for v in source] != [tuple(v.shape) for v in target]:
        raise ValueError(f"ema: cannot copy {type(generator).__name__}: its from_config(get_config()) builds "
                         f"other variables")
    for t, s in zip(target, source):
        t.assign(ops.copy(s))  # its own buffer: JAX's fit donates each state buffer once, and refused a shared one
    copy.trainable = False
    return copy


def decay_at(decay, step):
    """The warm-up schedule: min(decay, (1 + step) / (10 + step)), as a float32 tensor."""
    t = ops.cast(step, "float32")
    return ops.minimum(ops.cast(decay, "float32"), (1.0 + t) / (10.0 + t))


def update(averages, variables, decay):
    """e <- decay*e + (1-decay)*w for each pair (floating-point variables only)."""
    for e, w in zip(averages, variables):
        if not keras.backend.standardize_dtype(e.dtype).startswith("float"):
            e.assign(ops.copy(w))  # counters (none in Keras's BN, but keep them equal), in a buffer of their own
            continue
        d = ops.cast(decay, e.dtype)
        e.assign(d * e + (1.0 - d) * ops.cast(w, e.dtype))


def check_decay(decay):
    """None (no EMA) or a float in (0, 1); raises ValueError otherwise."""
    if decay is None:
        return None
    # numbers.Real also admits numpy scalars (np.float32(0.99)), which are not Python floats
    if isinstance(decay, (bool, np.bool_)) or not isinstance(decay, numbers.Real) or not 0.0 < float(decay) < 1.0:
        raise ValueError(f"ema_decay must be None or a number in (0, 1), got ema_decay={decay!r}")
    return float(decay)


def step(average, generator, decay, before, after):
    """One EMA step of `average` towards `generator` after a generator update that moved the
    iteration counter from `before` to `after`; no change where it did not move (rounds of the
    "reference" critic schedule that restore the generator). `before` must be a value read
    before the update (not the variable itself, which would read the new count)."""
    moved = ops.greater(after, before)
    update(average.weights, generator.weights, ops.where(moved, decay_at(decay, before), 1.0))


def standing_statistics(generator, n=1024, seed=0, batch_size=256):
    """Re-estimates `generator`'s BatchNormalization moving statistics from its own samples ("standing
    statistics", as BigGAN does for its EMA generator); returns the number of layers set.

    An average of weights is not matched by the average of the moving statistics the raw generator
    saw, so the EMA generator normalizes with the wrong mean and variance (measured on 64x64 shapes,
    docs/benchmarks.md §9a). Here every BatchNormalization layer's moving mean and variance become the
    mean, over ceil(n / batch_size) forward passes in training mode, of its batch mean and (biased)
    batch variance, for the z of `latent_vectors(n, latent_dim, seed)` (and the classes in turn when
    conditional): a deterministic function of the weights. Layers are left as they were found otherwise.
    """
    norms = batch_norms(generator)
    if not norms:
        return 0
    z = latent_vectors(n, latent_dim_of(generator), seed)
    labels = classes.sample_labels(getattr(generator, "num_classes", None), None, n)
    kept = [(layer.momentum, layer.trainable) for layer in norms]
    try:
        for k, start in enumerate(range(0, n, batch_size), 1):
            for layer in norms:  # momentum (k-1)/k makes the moving value the running mean of the batches'
                layer.momentum, layer.trainable = (k - 1) / k, True  # frozen BN ignores training=True
            batch = z[start:start + batch_size]
            generator(batch if labels is None else [batch, labels[start:start + batch_size]], training=True)
    finally:
        for layer, (momentum, trainable) in zip(norms, kept):
            layer.momentum, layer.trainable = momentum, trainable
    return len(norms)


def batch_norms(model):
    """The BatchNormalization layers of `model`, at any depth."""
    return [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]


def _fingerprint(model):
    digest = hashlib.blake2b(digest_size=16)
    for v in model.weights:
        digest.update(np.ascontiguousarray(ops.convert_to_numpy(v)).tobytes())
    return digest.digest()


class StandingCopy:
    """What a WGAN samples, evaluates and exports when it keeps an EMA (`WGAN.sampling_generator`): a copy
    of the average with `standing_statistics`, remade only when the average's weights have changed; the
    average itself (checkpoints, resumption) stays as training made it. A generator without
    BatchNormalization is its own standing copy. A plain object, so Keras neither tracks nor saves it."""

    def __init__(self):
        self.copy, self.key = None, None

    def of(self, average):
        if not batch_norms(average):
            return average
        key = _fingerprint(average)
        if key != self.key:
            if self.copy is None:
                self.copy = clone_generator(average, name=average.name)
            else:
                for t, s in zip(self.copy.weights, average.weights):
                    t.assign(ops.copy(s))
            standing_statistics(self.copy)
            self.key = key
        return self.copy

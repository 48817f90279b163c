"""Generator EMA: an exponential moving average of the generator's weights.

After each generator update, every variable e of the average moves towards the
generator's variable w:  e <- d*e + (1-d)*w, with a warm-up d_t = min(decay, (1+t)/(10+t))
(t = generator iterations before the update), so early averages do not carry the
random initialisation for ~1/(1-decay) iterations. Written with keras.ops only.
"""
import numbers

import keras
import numpy as np
from keras import ops


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
        t.assign(s)
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
            e.assign(w)  # counters (none in Keras's BN, but keep them equal)
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

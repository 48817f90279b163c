"""A run's checkpoint.keras: loaded in one line of error, and checked against the run's config.json.

A checkpoint and config.json that disagree (another EMA, other learning rates, other networks) would
resume a run other than the one the user started, so every disagreement is refused in one line.
"""
import re
import warnings

import keras
import numpy as np

from wgan_edge.cli import first_line
from wgan_keras.callbacks import non_finite_weight
from wgan_keras.wgan import WGAN

# Keras lists what it could not restore in its messages and warnings: "'ema_generator/...'", "dense_16".
_MISSING = re.compile(r"(?:at|for) '([\w/.-]+)'")


def load_checkpoint(path):
    """keras.saving.load_model(path), with Keras's per-layer warnings kept off the terminal: ValueError in
    one line for a file that cannot be loaded, or that loads with weights missing (they would be
    silently re-initialised: an EMA generator's, or an optimizer's state)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = keras.saving.load_model(path)
        except Exception as e:  # a truncated zip, an edited file, a foreign model
            missing = _missing(caught)
            if missing:
                raise ValueError(f"{path} cannot be loaded: it lacks the weights of {missing} (saved by another "
                                 f"model, or edited?)") from None
            raise ValueError(f"{path} cannot be loaded ({type(e).__name__}: {first_line(e)[:300]})") from None
    missing = _missing(caught)
    if missing:
        raise ValueError(f"{path} lacks the weights of {missing}; resuming would re-initialise them (saved by "
                         f"another model, or edited?)")
    return model


def _missing(caught):
    """'ema_generator (and N more)' from Keras's skip warnings, or None."""
    names = []
    for warning in caught:
        text = str(warning.message)
        if "Skipping" in text or "could not be loaded" in text:
            match = _MISSING.search(text)
            names.append(match.group(1).split("/")[0] if match else "some layers")
    if not names:
        return None
    first = names[0]
    return first + (f" (and {len(names) - 1} more)" if len(names) > 1 else "")


def _learning_rate(optimizer):
    rate = getattr(optimizer, "learning_rate", None)
    try:
        return float(keras.ops.convert_to_numpy(rate))
    except (TypeError, ValueError):
        return None  # a schedule (lr_decay linear): fixed by the config's lr_decay, checked as a setting


def check_checkpoint(model, expected, optimizers, sample_shape, path):
    """The checkpoint must be the run config.json describes (`expected`: the model the config builds,
    `optimizers`: {"critic_optimizer": ..., "generator_optimizer": ...} it compiles with): same algorithm
    settings, EMA, optimizer settings and networks; its weights finite."""
    if not isinstance(model, WGAN):
        raise ValueError(f"{path} holds a {type(model).__name__}, not a WGAN")
    if tuple(model.sample_shape) != tuple(sample_shape):
        raise ValueError(f"{path} makes samples of shape {model.sample_shape}, the data has {tuple(sample_shape)}")
    for name in ("num_classes", "n_critic", "clip_value", "critic_schedule", "lipschitz", "gp_weight",
                 "latent_dim", "seed", "ema_decay", "augment"):
        if getattr(model, name) != getattr(expected, name):
            raise ValueError(f"{path} was trained with {name}={getattr(model, name)!r}, but the config says "
                             f"{getattr(expected, name)!r}; pick another --workdir")
    for part in ("critic", "generator"):
        theirs, ours = getattr(model, part), getattr(expected, part)
        strip = lambda c: {k: v for k, v in c.items() if k not in ("name", "trainable", "dtype")}  # noqa: E731
        if type(theirs) is not type(ours) or strip(theirs.get_config()) != strip(ours.get_config()):
            raise ValueError(f"{path}: its {part} ({type(theirs).__name__}) differs from the one the config "
                             f"builds ({type(ours).__name__}); pick another --workdir")
    _check_optimizers(model, optimizers, path)
    bad = non_finite_weight(model)
    if bad is not None:
        raise ValueError(f"{path} holds NaN/Inf in {bad}; it cannot be resumed (start a new --workdir)")


def _check_optimizers(model, optimizers, path):
    for part, ours in optimizers.items():
        theirs = getattr(model, part, None)
        if theirs is None or ours is None:
            continue
        pairs = [("optimizer", type(theirs).__name__, type(ours).__name__),
                 ("learning_rate", _learning_rate(theirs), _learning_rate(ours))]
        if hasattr(ours, "beta_1"):
            pairs.append(("beta_1", float(getattr(theirs, "beta_1", -1)), float(ours.beta_1)))
        for name, a, b in pairs:
            if a is not None and b is not None and (a != b if isinstance(a, str) else not np.isclose(a, b)):
                raise ValueError(f"{path}: its {part} has {name}={a!r}, but the config says {b!r}; pick another "
                                 f"--workdir")

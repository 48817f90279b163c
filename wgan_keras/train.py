"""`train(config, workdir)`: the library behind `wgan-train`, callable from a notebook.

A run flows one way: config (validated) -> workdir (checked, nothing written) -> data (`data.source`)
-> models (`build`: built, or the checkpoint loaded and checked) -> the run's files (config.json ...) ->
fit (`fit`, with `run_callbacks`) -> outputs (the last checkpoint and samples, the W plot, the summary).

Re-running with the same workdir resumes: the position in the data comes from
the checkpoint's `critic_iterations` (one epoch = steps_per_epoch * n_critic of
them) and the data order of each epoch from a stateless (seed, epoch) shuffle,
so a killed and restarted run ends with the weights of an uninterrupted one.
"""
import os

import keras

from wgan_keras import run_callbacks
from wgan_keras import workdir as wd
from wgan_keras.build import finished, load_or_build
from wgan_keras.callbacks import counter, plot_w_estimate
from wgan_keras.data import steps_per_epoch
from wgan_keras.data.files import check_changed, record
from wgan_keras.data.source import load_run_data
from wgan_keras.data.stream import bad_files
from wgan_keras.distribute import make_strategy, set_precision
from wgan_keras.fit import fit_run
from wgan_keras.memory import check_training_fits


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training, after the run's state was saved: `message` says where it stands."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def train(config, workdir, callbacks=(), verbose="auto"):
    """Trains (or resumes) the run `config` in `workdir`; returns the `WGAN`.

    Raises ValueError/OSError for bad settings, data or workdirs (before writing
    anything), FloatingPointError when the losses diverge (the last good
    checkpoint is kept) and `Interrupted` on Ctrl-C (after saving a checkpoint).
    A run that is already complete is left as it is. `callbacks` are extra Keras callbacks.
    """
    config = config.validate()
    wd.check(workdir, config)  # before abspath: an empty --workdir must not become the current folder
    workdir = os.path.abspath(workdir)
    data, labels, classes = load_run_data(config, print if verbose else None)
    wd.check_classes(workdir, classes)  # a renamed class folder reorders the labels
    spe = steps_per_epoch(len(data), config.batch_size, config.n_critic)
    run_callbacks.check_quality(config, data)
    checkpoint = os.path.join(workdir, wd.CHECKPOINT)
    changed = check_changed(workdir, len(data), os.path.exists(checkpoint)) if config.images else None
    if changed and verbose:
        print(changed, flush=True)
    keras.utils.set_random_seed(config.seed)
    set_precision(config.mixed_precision)
    with wd.claimed(workdir), make_strategy(config.strategy).scope():
        model, target = load_or_build(config, tuple(data.shape[1:]), checkpoint, spe,
                                      None if classes is None else len(classes))
        start = counter(model, "generator_iterations")
        if finished(model, config, target):
            if verbose:
                print(f"wgan-train: {workdir} is already at {start} generator iterations; nothing to do (raise "
                      f"--generator_iters or --epochs to train on)")
            return model
        itemsize = 4 if keras.config.dtype_policy().compute_dtype == "float32" else 2  # bf16 activations
        check_training_fits(model, config.batch_size, itemsize)  # before a step that TensorFlow cannot survive
        wd.write_run(workdir, config, classes, start)
        if config.images:
            record(workdir, len(data))
        planned = config.generator_iters or target
        made = run_callbacks.make_callbacks(config, workdir, model, data, verbose, planned, classes)
        if verbose and start:
            print(f"wgan-train: resuming {workdir} from generator iteration {start} ({wd.CHECKPOINT})", flush=True)
        bad = bad_files[0]
        interrupted = fit_run(model, data, config, spe, target, made, callbacks, labels)
        return _outputs(model, workdir, made, verbose, interrupted, bad_files[0] - bad)


def _outputs(model, workdir, made, verbose, interrupted, unreadable):
    """The end of a run: the W-estimate plot, then Interrupted or FloatingPointError, or the last checkpoint
    and sample grid and the summary line."""
    _, guard, saver, sampler, quality, _ = made
    # An interrupted run gets its W-estimate plot too: the curve so far is what a user checks first.
    plot = plot_w_estimate(os.path.join(workdir, wd.METRICS), os.path.join(workdir, "w_estimate.png"))
    if interrupted:
        raise Interrupted(interrupted)
    if guard.tripped:
        gi, name, value = guard.tripped
        kept = f"kept the last good {wd.CHECKPOINT}" if os.path.exists(os.path.join(workdir, wd.CHECKPOINT)) \
            else "no checkpoint was written yet"
        raise FloatingPointError(f"training diverged: {name}={value} at generator iteration {gi}; stopped and {kept}"
                                 f" (try a lower --learning_rate)")
    saver.save()
    if saver.bad:  # the losses stayed finite, so NaNGuard saw nothing; without this the run "succeeded"
        gi, weight = saver.bad
        raise FloatingPointError(f"{weight} became NaN/Inf at generator iteration {gi} (the losses stayed finite); "
                                 f"stopped and kept the last good {wd.CHECKPOINT}, which is not at {gi}")
    gi = counter(model, "generator_iterations")
    if sampler.last != gi:
        sampler.write(gi)
    if verbose and unreadable:
        print(f"images: {unreadable} files could not be read while training (changed or removed since "
              f"the start?); each was replaced by another image of its batch")
    if verbose:
        written = [name for name in (wd.CHECKPOINT, "samples/", wd.METRICS, plot and "w_estimate.png", "tensorboard/")
                   if name and os.path.exists(os.path.join(workdir, name.rstrip("/")))]
        fd = f"; Fréchet distance {quality.history[-1]['frechet_distance']:.4g}" if quality and quality.history \
            else ""
        print(f"wgan-train: {gi} generator iterations in {workdir}: {', '.join(written)}{fd}")
    return model

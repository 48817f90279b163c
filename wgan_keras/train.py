"""`train(config, workdir)`: the library behind `wgan-train`, callable from a notebook.

Re-running with the same workdir resumes: the position in the data comes from
the checkpoint's `critic_iterations` (one epoch = steps_per_epoch * n_critic of
them) and the data order of each epoch from a stateless (seed, epoch) shuffle,
so a killed and restarted run ends with the weights of an uninterrupted one.
"""
import math
import os
import signal
import threading
import warnings

import keras
import numpy as np
import tensorflow as tf

from wgan_edge.contract import latent_vectors
from wgan_keras import workdir as wd
from wgan_keras.callbacks import Checkpointer, MetricsLogger, NaNGuard, Sampler, counter, plot_w_estimate
from wgan_keras.checkpoint import check_checkpoint, load_checkpoint
from wgan_keras.data import check_array, epoch_dataset, epochs_dataset, load_data, load_labeled_data, steps_per_epoch
from wgan_keras.data.files import check_changed, record
from wgan_keras.data.source import Streamed, open_data
from wgan_keras.data.stream import bad_files
from wgan_keras.distribute import make_strategy, set_precision
from wgan_keras.memory import check_training_fits
from wgan_keras.models import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator, ResNetCritic, ResNetGenerator
from wgan_keras.optimizers import make_optimizer
from wgan_keras.progress import Progress
from wgan_keras.wgan import WGAN

DEFAULT_EPOCHS = 20
NUM_SAMPLES = 64  # images in each sample grid (8 x 8); toys plot 1024 points
ROW_SAMPLES = 8  # conditional grids: one row of 8 per class


class Interrupted(KeyboardInterrupt):
    """Ctrl-C during training, after the run's state was saved: `message` says where it stands."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


def build_model(config, sample_shape, num_classes=None):
    """Critic and generator for one sample's shape (conditional on `num_classes` classes when given),
    wrapped in a compiled-ready WGAN."""
    sn = config.lipschitz == "sn"
    if config.resolved_architecture == "dcgan":
        critic = DCGANCritic(sample_shape, base_filters=config.base_filters, spectral_norm=sn,
                             num_classes=num_classes)
        generator = DCGANGenerator(config.latent_dim, sample_shape, base_filters=config.base_filters,
                                   upsample=config.upsample, num_classes=num_classes)
    elif config.resolved_architecture == "resnet":
        critic = ResNetCritic(sample_shape, base_filters=config.base_filters, spectral_norm=sn,
                              num_classes=num_classes)
        generator = ResNetGenerator(config.latent_dim, sample_shape, base_filters=config.base_filters,
                                    num_classes=num_classes)
    else:
        units = (config.mlp_units,) * 3
        critic = MLPCritic(sample_shape, units, spectral_norm=sn, num_classes=num_classes)
        generator = MLPGenerator(config.latent_dim, sample_shape, units,
                                 output_activation=None if config.is_toy else "tanh", num_classes=num_classes)
    return WGAN(critic, generator, n_critic=config.n_critic, clip_value=config.clip_value,
                critic_schedule=config.critic_schedule, lipschitz=config.lipschitz, gp_weight=config.gp_weight,
                seed=config.seed, ema_decay=config.ema_decay,
                augment=None if config.augment == "none" else config.augment)


def optimizer(config, steps, learning_rate=None):
    """The run's optimizer; with lr_decay="linear" its rate falls linearly to 0 over `steps` updates."""
    return make_optimizer(config.lipschitz, learning_rate or config.learning_rate, config.adam_beta1,
                          steps if config.lr_decay == "linear" else None)


def target_steps(config, spe):
    """Fit steps (n_critic critic iterations each) the whole run asks for."""
    if config.generator_iters is None:
        return (config.epochs or DEFAULT_EPOCHS) * spe
    if config.critic_schedule == "paper":
        return config.generator_iters
    return config.generator_iters * math.ceil(100 / config.n_critic)  # bound; `_StopAt` ends it


def _optimizers(config, spe):
    target = target_steps(config, spe)
    return {"critic_optimizer": optimizer(config, target * config.n_critic),
            "generator_optimizer": optimizer(config, config.generator_iters or target,
                                             config.generator_learning_rate)}


def load_or_build(config, data, checkpoint, spe, num_classes=None):
    if os.path.exists(checkpoint):
        model = load_checkpoint(checkpoint)
        check_checkpoint(model, build_model(config, data.shape[1:], num_classes), _optimizers(config, spe),
                         data.shape[1:], checkpoint)
        return model
    model = build_model(config, tuple(data.shape[1:]), num_classes)
    model.compile(**_optimizers(config, spe))
    return model


class _StopOnCtrlC(keras.callbacks.Callback):
    """The first Ctrl-C (or SIGTERM) ends training after the step in flight and its callbacks (its metrics row
    included), so the checkpoint saved then continues the log without a gap; a second one stops at once."""

    def __init__(self, model):
        super().__init__()
        self.gan, self.requested, self.previous = model, False, None

    def on_train_batch_end(self, batch, logs=None):
        if self.requested:  # also after a Ctrl-C between two fit calls (fit resets stop_training)
            self.model.stop_training = True

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = self.gan.stop_training = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            # SIGTERM too (a scheduler's preemption, `kill`): it saves and says how to resume, like Ctrl-C,
            # instead of ending the process with up to --checkpoint_every iterations unsaved.
            self.previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc):
        for s, handler in (self.previous or {}).items():
            signal.signal(s, handler)


class _StopAt(keras.callbacks.Callback):
    def __init__(self, generator_iters):
        super().__init__()
        self.generator_iters = generator_iters

    def on_train_batch_end(self, batch, logs=None):
        if counter(self.model, "generator_iterations") >= self.generator_iters:
            self.model.stop_training = True


def sample_inputs(config, num_classes=None):
    """The fixed z of the sample grids, and for a conditional model their labels: one row of
    ROW_SAMPLES per class (class i in row i)."""
    if num_classes is None:
        return latent_vectors(1024 if config.is_toy else NUM_SAMPLES, config.latent_dim, config.seed, stream=1), None
    z = latent_vectors(num_classes * ROW_SAMPLES, config.latent_dim, config.seed, stream=1)
    return z, np.repeat(np.arange(num_classes, dtype=np.int32), ROW_SAMPLES)


def _callbacks(config, workdir, model, data, verbose, planned, classes):
    """The run's callbacks; each continues from the checkpoint's generator iteration."""
    start = counter(model, "generator_iterations")
    writer = tf.summary.create_file_writer(os.path.join(workdir, "tensorboard"))
    z, labels = sample_inputs(config, model.num_classes)
    guard = NaNGuard()
    saver = Checkpointer(os.path.join(workdir, wd.CHECKPOINT), config.checkpoint_every, guard)
    sampler = Sampler(os.path.join(workdir, "samples"), config.sample_every, z, writer, guard,
                      data[:4096] if config.is_toy else None, labels)
    quality = _quality(config, writer, planned, workdir, classes, data)
    logger = MetricsLogger(os.path.join(workdir, wd.METRICS), config.log_every, writer, quality)
    for callback in (saver, sampler, logger, *quality_list(quality)):
        callback.last = start  # what was written at the checkpoint's iteration stays
    extra = [_StopAt(config.generator_iters)] if config.generator_iters and config.critic_schedule != "paper" else []
    if verbose:
        extra.append(Progress(planned, quality=quality))
    return writer, guard, saver, sampler, quality, [guard, saver, sampler, *quality_list(quality), logger, *extra]


def quality_list(quality):
    return [quality] if quality is not None else []


def _check_quality(config, data):
    """--eval_every needs images, and off the digit network an InceptionV3 weights file: checked before
    anything is written."""
    if config.eval_every is not None and (config.is_toy or data.ndim != 4):
        raise ValueError(f"eval_every: the built-in Fréchet distance scores images, the data has "
                         f"samples of shape {tuple(data.shape[1:])}; for other data pass "
                         f"wgan_keras.evaluation.QualityEvaluator(extractor=...) in train(callbacks=...)")
    if config.eval_every is not None:
        from wgan_keras.evaluation import inception
        if not inception.digit_scored(data):
            inception.weights_path(config.inception_weights)


def _quality(config, writer, last, workdir, classes=None, data=None):
    """The --eval_every evaluator: the bundled digit network against the held-out bundled digits (grey
    28/32-pixel images), else InceptionV3 against the run's own images, every eval_every generator
    iterations and at the run's `last` one (the score a run ends with); for a conditional model over the
    digit classes also per class (FD, classifier agreement) in class_quality.csv."""
    if config.eval_every is None:
        return None
    from wgan_keras.evaluation import ClassQualityEvaluator, QualityEvaluator, inception, knows_classes
    if data is not None and not inception.digit_scored(data):
        return inception.evaluator(config, data, workdir, writer, (last,))
    if knows_classes(classes):
        return ClassQualityEvaluator(config.eval_every, os.path.join(workdir, wd.CLASS_QUALITY), writer=writer,
                                     at=(last,))
    return QualityEvaluator(config.eval_every, writer=writer, at=(last,))


def _fit_all(model, data, config, spe, callbacks, ctrl_c, labels=None):
    """Trains to the run's target: whole epochs in one `fit` call, a partial epoch (a resumed run's
    first, a run's last) in its own; every epoch in `epoch_dataset`'s order either way."""
    target = target_steps(config, spe)
    done = counter(model, "critic_iterations") // config.n_critic
    while done < target and not model.stop_training and not ctrl_c.requested:
        epoch, first = divmod(done, spe)
        if first or target - done < spe:
            steps = min(spe - first, target - done)
            ds = epoch_dataset(data, config.batch_size, config.n_critic, config.seed, epoch, first, steps, labels)
            epochs = 1
        else:  # with steps_per_epoch set, Keras keeps one iterator across these epochs
            steps, epochs = spe, (target - done) // spe
            ds = epochs_dataset(data, config.batch_size, config.n_critic, config.seed, epoch, epochs, labels)
        model.fit(ds, epochs=epoch + epochs, initial_epoch=epoch, steps_per_epoch=steps,
                  callbacks=[*callbacks, ctrl_c], shuffle=False, verbose=0)
        done = counter(model, "critic_iterations") // config.n_critic


def _finished(model, config, spe):
    gi = counter(model, "generator_iterations")
    if config.generator_iters is not None:
        return gi >= config.generator_iters
    return counter(model, "critic_iterations") // config.n_critic >= target_steps(config, spe)


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
    data, labels, classes = _load(config, print if verbose else None)
    wd.check_classes(workdir, classes)  # a renamed class folder reorders the labels
    spe = steps_per_epoch(len(data), config.batch_size, config.n_critic)
    _check_quality(config, data)
    checkpoint = os.path.join(workdir, wd.CHECKPOINT)
    changed = check_changed(workdir, len(data), os.path.exists(checkpoint)) if config.images else None
    if changed and verbose:
        print(changed, flush=True)
    keras.utils.set_random_seed(config.seed)
    set_precision(config.mixed_precision)
    with wd.claimed(workdir), make_strategy(config.strategy).scope():
        model = load_or_build(config, data, checkpoint, spe, None if classes is None else len(classes))
        if _finished(model, config, spe):
            if verbose:
                print(f"wgan-train: {workdir} is already at {counter(model, 'generator_iterations')} generator "
                      f"iterations; nothing to do (raise --generator_iters or --epochs to train on)")
            return model
        itemsize = 4 if keras.config.dtype_policy().compute_dtype == "float32" else 2  # bf16 activations
        check_training_fits(model, config.batch_size, itemsize)  # before a step that TensorFlow cannot survive
        wd.write_config(workdir, config)
        if config.images:
            record(workdir, len(data))
        if classes is not None:
            wd.write_classes(workdir, classes)
        return _run(model, config, workdir, (data, labels, classes), spe, callbacks, verbose)


def _load(config, log=None):
    """(images, labels, class names) of the run; labels and names are None unless --conditional. A folder or
    TFDS dataset too large for memory comes as a `Streamed` source, read as training goes."""
    where = "dataset" if config.images is None else "images"
    opened = open_data(config, log)
    if opened is not None:
        data, labels, classes = opened
        return (data if isinstance(data, Streamed) else check_array(data, where)), labels, classes
    if not config.conditional:
        return check_array(load_data(config), where), None, None
    images, labels, classes = load_labeled_data(config)
    return check_array(images, where), labels, classes


def _run(model, config, workdir, labeled, spe, callbacks, verbose):
    data, labels, classes = labeled
    start = counter(model, "generator_iterations")
    wd.keep_rows_until(os.path.join(workdir, wd.METRICS), start)
    if classes is not None:
        from wgan_keras.evaluation.classes import CLASS_COLUMNS
        wd.keep_rows_until(os.path.join(workdir, wd.CLASS_QUALITY), start, CLASS_COLUMNS)
    planned = config.generator_iters or target_steps(config, spe)
    writer, guard, saver, sampler, quality, ours = _callbacks(config, workdir, model, data, verbose, planned, classes)
    if verbose and start:
        print(f"wgan-train: resuming {workdir} from generator iteration {start} ({wd.CHECKPOINT})", flush=True)
    # WGAN.fit does not forward shuffle=False; our epochs are shuffled by `epoch_dataset`.
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
    interrupted, bad = None, bad_files[0]
    try:
        with _StopOnCtrlC(model) as ctrl_c:
            _fit_all(model, data, config, spe, [*ours, *callbacks], ctrl_c, labels)
        if ctrl_c.requested:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        saved = saver.save()
        interrupted = (f"interrupted at generator iteration {counter(model, 'generator_iterations')}; "
                       + (f"saved {wd.CHECKPOINT}" if saved else "kept the last checkpoint")
                       + "; run the same command again to resume")
    finally:
        writer.flush()
        for callback in ours:
            getattr(callback, "close", lambda: None)()
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
    if verbose and bad_files[0] > bad:
        print(f"images: {bad_files[0] - bad} files could not be read while training (changed or removed since "
              f"the start?); each was replaced by another image of its batch")
    if verbose:
        written = [name for name in (wd.CHECKPOINT, "samples/", wd.METRICS, plot and "w_estimate.png", "tensorboard/")
                   if name and os.path.exists(os.path.join(workdir, name.rstrip("/")))]
        fd = f"; Fréchet distance {quality.history[-1]['frechet_distance']:.4g}" if quality and quality.history \
            else ""
        print(f"wgan-train: {gi} generator iterations in {workdir}: {', '.join(written)}{fd}")
    return model

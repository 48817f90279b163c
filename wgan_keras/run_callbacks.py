"""The callbacks of one `train` run, made from its config: checkpoints, sample grids, metrics rows, the
--eval_every evaluator, the stop at --generator_iters and the console progress line. Each continues from
the checkpoint's generator iteration."""
import os

import numpy as np
import tensorflow as tf

from wgan_edge.contract import latent_vectors
from wgan_keras import workdir as wd
from wgan_keras.callbacks import Checkpointer, MetricsLogger, NaNGuard, Sampler, counter
from wgan_keras.fit import StopAt
from wgan_keras.progress import Progress

NUM_SAMPLES = 64  # images in each sample grid (8 x 8); toys plot 1024 points
ROW_SAMPLES = 8  # conditional grids: one row of 8 per class


def sample_inputs(config, num_classes=None):
    """The fixed z of the sample grids, and for a conditional model their labels: one row of
    ROW_SAMPLES per class (class i in row i)."""
    if num_classes is None:
        return latent_vectors(1024 if config.is_toy else NUM_SAMPLES, config.latent_dim, config.seed, stream=1), None
    z = latent_vectors(num_classes * ROW_SAMPLES, config.latent_dim, config.seed, stream=1)
    return z, np.repeat(np.arange(num_classes, dtype=np.int32), ROW_SAMPLES)


def check_quality(config, data):
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


def make_callbacks(config, workdir, model, data, verbose, planned, classes):
    """(writer, guard, saver, sampler, quality, every callback of the run in the order they act)."""
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
    extra = [StopAt(config.generator_iters)] if config.generator_iters and config.critic_schedule != "paper" else []
    if verbose:
        extra.append(Progress(planned, quality=quality))
    return writer, guard, saver, sampler, quality, [guard, saver, sampler, *quality_list(quality), logger, *extra]


def quality_list(quality):
    return [quality] if quality is not None else []


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

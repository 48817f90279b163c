"""`train(config, workdir)`: the library behind `wgan-train`, callable from a notebook.

Re-running with the same workdir resumes: the position in the data comes from
the checkpoint's `critic_iterations` (one epoch = steps_per_epoch * n_critic of
them) and the data order of each epoch from a stateless (seed, epoch) shuffle,
so a killed and restarted run ends with the weights of an uninterrupted one.
"""
import csv
import json
import math
import os
import shutil
import warnings

import keras
import numpy as np
import tensorflow as tf

from export.atomic import atomic_path, write_bytes
from wgan_keras.callbacks import COLUMNS, Checkpointer, MetricsLogger, NaNGuard, Sampler, plot_w_estimate
from wgan_keras.config import TrainConfig
from wgan_keras.data import check_array, epoch_dataset, load_data, steps_per_epoch
from wgan_keras.distribute import make_strategy, set_precision
from wgan_keras.models import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator
from wgan_keras.wgan import WGAN

CHECKPOINT = "checkpoint.keras"
OURS = (CHECKPOINT, "metrics.csv", "w_estimate.png", "samples", "tensorboard")
DEFAULT_EPOCHS = 20
NUM_SAMPLES = 64  # images in each sample grid (8 x 8); toys plot 1024 points


def build_model(config, sample_shape):
    """Critic and generator for one sample's shape, wrapped in a compiled-ready WGAN."""
    sn = config.lipschitz == "sn"
    if config.resolved_architecture == "dcgan":
        critic = DCGANCritic(sample_shape, base_filters=config.base_filters, spectral_norm=sn)
        generator = DCGANGenerator(config.latent_dim, sample_shape, base_filters=config.base_filters)
    else:
        units = (config.mlp_units,) * 3
        critic = MLPCritic(sample_shape, units, spectral_norm=sn)
        generator = MLPGenerator(config.latent_dim, sample_shape, units,
                                 output_activation=None if config.is_toy else "tanh")
    return WGAN(critic, generator, n_critic=config.n_critic, clip_value=config.clip_value,
                critic_schedule=config.critic_schedule, lipschitz=config.lipschitz, gp_weight=config.gp_weight,
                seed=config.seed)


def optimizer(config, steps):
    """The run's optimizer; with lr_decay="linear" its rate falls linearly to 0 over `steps` updates
    (WGAN-GP's recipe; the schedule reads optimizer.iterations, which checkpoints keep)."""
    lr = config.resolved_learning_rate
    if config.lr_decay == "linear":
        lr = keras.optimizers.schedules.PolynomialDecay(lr, max(1, steps), end_learning_rate=0.0)
    if config.lipschitz == "clip":
        return keras.optimizers.RMSprop(lr, rho=0.99, epsilon=1e-8)
    return keras.optimizers.Adam(lr, beta_1=config.adam_beta1, beta_2=0.9)


def check_workdir(workdir, config):
    """Refuses a workdir that holds another run or files we did not write; proves it writable."""
    config_path = os.path.join(workdir, "config.json")
    if os.path.exists(config_path):
        try:
            with open(config_path) as f:
                previous = TrainConfig.from_dict(json.load(f))
        except (ValueError, TypeError) as e:
            raise ValueError(f"workdir {workdir}: config.json is not a wgan-train config ({e})") from None
        diff = config.differences(previous)
        if diff:
            field, theirs, ours = diff[0]
            raise ValueError(f"workdir {workdir} holds a run with a different config: {field} {theirs!r} vs {ours!r}")
    elif os.path.isdir(workdir):
        foreign = [name for name in OURS if os.path.exists(os.path.join(workdir, name))]
        if foreign:
            raise ValueError(f"workdir {workdir} holds {foreign[0]} but no config.json, so not a wgan-train run; "
                             f"pick another --workdir")
    for folder in (workdir, os.path.join(workdir, "samples")):  # leftovers of writes a kill interrupted
        for name in os.listdir(folder) if os.path.isdir(folder) else ():
            if name.startswith(".tmp-"):
                shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
    os.makedirs(workdir, exist_ok=True)  # nothing else yet: a run that fails to load its data can be retried here
    write_bytes(os.path.join(workdir, ".write_test"), b"")  # fails now, not after an hour of training
    os.remove(os.path.join(workdir, ".write_test"))


def _keep_rows_until(csv_path, generator_iterations):
    """Drops metrics.csv rows logged after the checkpoint we resume from (they will be redone)."""
    if not os.path.exists(csv_path):
        return
    with open(csv_path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if int(r["generator_iterations"]) <= generator_iterations]
    with atomic_path(csv_path) as tmp, open(tmp, "w", newline="") as f:
        out = csv.DictWriter(f, COLUMNS)
        out.writeheader()
        out.writerows(rows)


def _target_steps(config, spe):
    """Fit steps (n_critic critic iterations each) the whole run asks for."""
    if config.generator_iters is None:
        return (config.epochs or DEFAULT_EPOCHS) * spe
    if config.critic_schedule == "paper":
        return config.generator_iters
    return config.generator_iters * math.ceil(100 / config.n_critic)  # bound; `_StopAt` ends it


class _StopAt(keras.callbacks.Callback):
    def __init__(self, generator_iters):
        super().__init__()
        self.generator_iters = generator_iters

    def on_train_batch_end(self, batch, logs=None):
        if int(keras.ops.convert_to_numpy(self.model.generator_iterations)) >= self.generator_iters:
            self.model.stop_training = True


def train(config, workdir, callbacks=(), verbose="auto"):
    """Trains (or resumes) the run `config` in `workdir`; returns the `WGAN`.

    Raises ValueError/OSError for bad settings, data or workdirs (before writing
    anything), and FloatingPointError when the losses diverge (the last good
    checkpoint is kept). `callbacks` are extra Keras callbacks.
    """
    config = config.validate()
    workdir = os.path.abspath(workdir)
    check_workdir(workdir, config)
    data = check_array(load_data(config), "dataset" if config.images is None else "images")
    spe = steps_per_epoch(len(data), config.batch_size, config.n_critic)
    checkpoint = os.path.join(workdir, CHECKPOINT)
    keras.utils.set_random_seed(config.seed)
    set_precision(config.mixed_precision)
    strategy = make_strategy(config.strategy)
    with strategy.scope():
        if os.path.exists(checkpoint):
            try:
                model = keras.saving.load_model(checkpoint)
            except Exception as e:
                raise ValueError(f"workdir {workdir}: {CHECKPOINT} cannot be loaded ({type(e).__name__}: "
                                 f"{str(e).splitlines()[0] if str(e) else ''})") from None
            if not isinstance(model, WGAN):
                raise ValueError(f"workdir {workdir}: {CHECKPOINT} holds a {type(model).__name__}, not a WGAN")
            if tuple(model.sample_shape) != tuple(data.shape[1:]):
                raise ValueError(f"workdir {workdir}: {CHECKPOINT} makes samples of shape {model.sample_shape}, "
                                 f"the data has {tuple(data.shape[1:])}")
        else:
            model = build_model(config, tuple(data.shape[1:]))
            target = _target_steps(config, spe)
            model.compile(critic_optimizer=optimizer(config, target * config.n_critic),
                          generator_optimizer=optimizer(config, config.generator_iters or target))
    with atomic_path(os.path.join(workdir, "config.json")) as tmp, open(tmp, "w") as f:
        json.dump(config.to_dict(), f, indent=2)

    csv_path = os.path.join(workdir, "metrics.csv")
    start_gi = int(keras.ops.convert_to_numpy(model.generator_iterations))
    _keep_rows_until(csv_path, start_gi)
    writer = tf.summary.create_file_writer(os.path.join(workdir, "tensorboard"))
    z = np.random.default_rng([config.seed, 1]).standard_normal(
        (1024 if config.is_toy else NUM_SAMPLES, config.latent_dim)).astype(np.float32)
    guard = NaNGuard()
    saver = Checkpointer(checkpoint, config.checkpoint_every, guard)
    sampler = Sampler(os.path.join(workdir, "samples"), config.sample_every, z, writer, guard,
                      data[:4096] if config.is_toy else None)
    logger = MetricsLogger(csv_path, config.log_every, writer)
    for callback in (saver, sampler, logger):
        callback.last = start_gi  # what was written at the checkpoint's iteration stays
    stoppers = [_StopAt(config.generator_iters)] if config.generator_iters and config.critic_schedule != "paper" else []
    all_callbacks = [guard, saver, sampler, logger, *stoppers, *callbacks]

    # WGAN.fit does not forward shuffle=False; our epochs are shuffled by `epoch_dataset`.
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
    target = _target_steps(config, spe)
    done = int(keras.ops.convert_to_numpy(model.critic_iterations)) // config.n_critic
    while done < target and not model.stop_training:
        epoch, first = divmod(done, spe)
        steps = min(spe - first, target - done)
        ds = epoch_dataset(data, config.batch_size, config.n_critic, config.seed, epoch, first, steps)
        model.fit(ds, epochs=epoch + 1, initial_epoch=epoch, steps_per_epoch=steps, callbacks=all_callbacks,
                  shuffle=False, verbose=verbose)
        done = int(keras.ops.convert_to_numpy(model.critic_iterations)) // config.n_critic
    writer.flush()
    plot = plot_w_estimate(csv_path, os.path.join(workdir, "w_estimate.png"))
    if guard.tripped:
        gi, name, value = guard.tripped
        kept = f"kept the last good {checkpoint}" if os.path.exists(checkpoint) else "no checkpoint was written yet"
        raise FloatingPointError(f"training diverged: {name}={value} at generator iteration {gi}; stopped and {kept}"
                                 f" (try a lower --learning_rate)")
    saver.save()
    gi = int(keras.ops.convert_to_numpy(model.generator_iterations))
    if sampler.last != gi:
        sampler.write(gi)
    print(f"wgan-train: {gi} generator iterations in {workdir}: checkpoint {CHECKPOINT}, samples/, metrics.csv, "
          f"{os.path.basename(plot) if plot else 'no w_estimate.png'}, tensorboard/")
    return model


if __name__ == "__main__":
    from wgan_keras.main import run
    run()

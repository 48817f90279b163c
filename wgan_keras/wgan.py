"""`WGAN`: the paper's Algorithm 1 as a Keras 3 model that trains with `model.fit`.

How `fit` maps onto Algorithm 1: **one fit step is one generator iteration**.
The dataset keeps the user's batch size m; `fit` groups n_critic consecutive
batches into one step, whose compiled program runs n_critic critic iterations
(each on its own fresh real batch) and then one generator update, with no
control flow around the optimizers (tf.distribute needs that). An epoch is one
pass over the data: len(data) // (m * n_critic) generator iterations.

The algorithm itself is `wgan_keras.algorithm`, in keras.ops; `wgan_keras.backends`
holds the gradient plumbing of TensorFlow, JAX and PyTorch (KERAS_BACKEND). The data
pipeline is tf.data on every backend (Keras iterates it as numpy on JAX and PyTorch); where
TensorFlow is not installed at all, JAX and PyTorch train from arrays (`ArrayGroups`).
"""
import random

import keras
import numpy as np

from wgan_edge.contract import latent_vectors
from wgan_keras import algorithm, classes, cpu, ema, pair
from wgan_keras.backends import plumbing
from wgan_keras.backends.arrays import ArrayGroups, tensorflow_or_none
from wgan_keras.callbacks import NaNGuard
from wgan_keras.constraints import WeightClip
from wgan_keras.images import generate_images
from wgan_keras.losses import LIPSCHITZ
from wgan_keras.memory import check_generate_fits
from wgan_keras.optimizers import default_optimizer, with_loss_scaling
from wgan_keras.schedules import SCHEDULES

OPTIMIZERS = ("critic_optimizer", "generator_optimizer")


def _python_number(value):
    value = np.asarray(value)
    return value.item() if value.size == 1 else value


@keras.saving.register_keras_serializable(package="wgan_keras")
class WGAN(keras.Model):
    """Wasserstein GAN (Arjovsky, Chintala, Bottou 2017).

    Metrics (each a `keras.metrics.Mean` over the epoch's steps):
        w_distance: E[f(x)] - E[f(g(z))] on each critic step, before its update --
            the critic's estimate of the Wasserstein-1 distance (times the critic's
            Lipschitz constant). It should fall as the samples improve.
        critic_loss: what the critic minimises, -w_distance (+ lambda * penalty for "gp").
        generator_loss: what the generator minimises, -E[f(g(z))], on generator steps.
        gradient_penalty: E[(||grad f(x_hat)|| - 1)^2], with lipschitz="gp" only.
        val_w_distance: w_distance on `validation_data` real batches, no updates.

    Args:
        critic: model mapping a batch of samples to scores of shape (batch, 1), no sigmoid.
        generator: model mapping z of shape (batch, latent_dim) to samples.
        n_critic: critic iterations per generator iteration (paper: 5).
        clip_value: c for `lipschitz="clip"` (paper: 0.01).
        critic_schedule: "paper" (always n_critic) or "reference" (100 critic
            iterations for the first 25 generator iterations and every 500th, as
            in the authors' code).
        lipschitz: "clip" (weight clipping), "gp" (gradient penalty) or "sn"
            (the critic must contain `keras.layers.SpectralNormalization` layers).
        gp_weight: lambda of the gradient penalty (10).
        latent_dim: size of z; read from `generator.latent_dim` or its input when None.
        seed: seed of the training noise. None draws one from Python's `random`,
            which `keras.utils.set_random_seed` seeds.
        ema_decay: None, or keep `ema_generator`, an exponential moving average of the
            generator's weights with this decay (e.g. 0.999; see `wgan_keras.ema`), updated
            after each generator update and saved in .keras files; `generate()` and exports
            then use it, with BatchNormalization statistics of its own (`sampling_generator`).
        augment: None, or a DiffAugment policy of `wgan_keras.augment.POLICIES` (e.g.
            "translation,cutout"): the critic scores T(x) and T(g(z)) for a random
            differentiable T per example and step (images only; see `wgan_keras.augment`).
        num_classes: None (read `generator.num_classes`; absent or None: unconditional) or the class
            count of a conditional WGAN: `generator([z, labels])`, `critic([x, labels])` (a projection
            critic, e.g. `DCGANCritic(num_classes=10)`), trained on (images, labels) batches.
    """

    def __init__(self, critic, generator, n_critic=5, clip_value=0.01, critic_schedule="paper", lipschitz="clip",
                 gp_weight=10.0, latent_dim=None, seed=None, ema_decay=None, augment=None, num_classes=None,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(n_critic, bool) or not isinstance(n_critic, (int, np.integer)) or n_critic < 1:
            raise ValueError(f"n_critic must be an integer >= 1, got n_critic={n_critic!r}")
        if lipschitz not in LIPSCHITZ:
            raise ValueError(f"lipschitz must be one of {LIPSCHITZ}, got lipschitz={lipschitz!r}")
        if critic_schedule not in SCHEDULES:
            raise ValueError(f"critic_schedule must be one of {SCHEDULES}, got critic_schedule={critic_schedule!r}")
        if not float(gp_weight) >= 0:
            raise ValueError(f"gp_weight must be >= 0, got gp_weight={gp_weight!r}")
        self.critic = critic
        self.generator = generator
        self.n_critic = int(n_critic)
        self.clip_value = float(clip_value)
        self.clip = WeightClip(clip_value) if lipschitz == "clip" else None  # validates clip_value
        self.critic_schedule = critic_schedule
        self.lipschitz = lipschitz
        self.gp_weight = float(gp_weight)
        self.latent_dim = pair.find_latent_dim(generator, latent_dim)
        self.num_classes = classes.find_num_classes(generator, critic, num_classes)
        self.seed = int(seed) if seed is not None else random.randint(0, 2**31 - 2)
        self.sample_seed_generator = keras.random.SeedGenerator(self.seed)
        self.sample_shape = pair.sample_shape(self)
        self.augment = pair.check_augment(augment, self.sample_shape)
        self.ema_decay = ema.check_decay(ema_decay)
        self.ema_generator = ema.clone_generator(generator) if self.ema_decay is not None else None
        self._standing = ema.StandingCopy()  # sampling_generator's; a plain object: not tracked, not saved
        pair.check_spectral(critic, lipschitz)
        if self.clip is not None:  # the optimizer applies it right after each critic update
            for variable in critic.trainable_variables:
                variable.constraint = self.clip

        # Model state, saved in .keras files: where Algorithm 1 stands.
        def counter(name):
            return self.add_weight(shape=(), dtype="int64", initializer="zeros", trainable=False, name=name,
                                   aggregation="only_first_replica")

        self.generator_iterations = counter("generator_iterations")
        self.critic_iterations = counter("critic_iterations")
        self.critic_iterations_this_round = counter("critic_iterations_this_round")
        self.w_distance_tracker = keras.metrics.Mean(name="w_distance")
        self.critic_loss_tracker = keras.metrics.Mean(name="critic_loss")
        self.generator_loss_tracker = keras.metrics.Mean(name="generator_loss")
        self.gradient_penalty_tracker = keras.metrics.Mean(name="gradient_penalty")
        self.built = True

    # ----------------------------------------------------------------- compile

    def compile(self, critic_optimizer=None, generator_optimizer=None, **kwargs):
        """Sets the two optimizers (defaults: see `default_optimizer`); other kwargs
        (`jit_compile`, `steps_per_execution`, ...) go to `keras.Model.compile`."""
        critic_optimizer = keras.optimizers.get(critic_optimizer or default_optimizer(self.lipschitz))
        generator_optimizer = keras.optimizers.get(generator_optimizer or default_optimizer(self.lipschitz))
        if critic_optimizer is generator_optimizer:
            raise ValueError("generator_optimizer must be a different object from critic_optimizer")
        self.critic_optimizer = with_loss_scaling(critic_optimizer)
        self.generator_optimizer = with_loss_scaling(generator_optimizer)
        kwargs.setdefault("jit_compile", plumbing.default_jit_compile())
        # optimizer=None: Keras's default "rmsprop" would be a third, unused optimizer in every checkpoint.
        super().compile(optimizer=None, **kwargs)
        # Built now so their variables exist before tracing, for .keras loading and inside tf.cond.
        self.critic_optimizer.build(self.critic.trainable_variables)
        if self.generator.trainable_variables:
            self.generator_optimizer.build(self.generator.trainable_variables)
        plumbing.compiled(self)  # JAX: the trainer's view of the two optimizers

    def get_compile_config(self):
        if not self.compiled:
            return {}
        return {**{key: keras.optimizers.serialize(getattr(self, key)) for key in OPTIMIZERS},
                "steps_per_execution": self.steps_per_execution, "jit_compile": self.jit_compile}

    def compile_from_config(self, config):
        self.compile(**{key: keras.optimizers.deserialize(v) if key in OPTIMIZERS else v for key, v in config.items()})

    @property
    def metrics(self):
        trackers = [self.w_distance_tracker, self.critic_loss_tracker, self.generator_loss_tracker]
        return trackers + ([self.gradient_penalty_tracker] if self.lipschitz == "gp" else [])

    # ------------------------------------------------------------- algorithm

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None, validation_data=None,
            shuffle=True, initial_epoch=0, steps_per_epoch=None, validation_steps=None, validation_freq=1, **kwargs):
        """`keras.Model.fit` over real batches of the user's size m.

        `x` is a `tf.data.Dataset` of batches (images or (images, labels)), or an
        array of samples with `batch_size` = m. Each fit step consumes n_critic
        consecutive batches -- one per critic iteration -- and runs one generator
        iteration, so `steps_per_epoch` counts generator iterations. A final
        partial batch or group is dropped. A conditional WGAN takes (images, labels) batches, or
        arrays `x` (images) and `y` (int class labels); an unconditional one ignores labels.

        Returns:
            keras.callbacks.History: per epoch, the metrics of the class docstring.

        Raises:
            ValueError: `y` for an unconditional WGAN, non-finite values in array data, data too short for
                one generator iteration, or a batch that cannot fit in memory.
            FloatingPointError: a metric turns NaN or Inf during training (NaNGuard).
        """
        if y is not None and self.num_classes is None:
            raise ValueError("y: a WGAN learns from images alone; pass x only (or build a conditional WGAN "
                             "with num_classes=... to use labels)")
        callbacks = list(callbacks or [])
        if not any(isinstance(c, NaNGuard) for c in callbacks):  # else NaN metrics train on without a word
            callbacks.append(NaNGuard(raise_error=True))
        cpu.tell_if_onednn_off(self)  # a script's plain x86 CPU may run at half speed
        if tensorflow_or_none() is None:  # JAX or PyTorch on a machine without TensorFlow (GPU benchmarks): arrays only
            x, validation_data = ArrayGroups(x if y is None else (x, y), batch_size or 64, self.n_critic,
                                             shuffle), None
        else:
            from wgan_keras.data.grouping import fit_batches
            x, validation_data = fit_batches(self, x, y, batch_size, shuffle, validation_data)
        return super().fit(x, epochs=epochs, verbose=verbose, callbacks=callbacks, validation_data=validation_data,
                           shuffle=False,  # x is a dataset by now, shuffled upstream
                           initial_epoch=initial_epoch, steps_per_epoch=steps_per_epoch,
                           validation_steps=validation_steps, validation_freq=validation_freq, **kwargs)

    def evaluate(self, *args, **kwargs):
        """`keras.Model.evaluate`, with Python floats as results: Keras 3.6 to 3.10 at least return
        the step's tensors when `test_step` logs fewer metrics than `self.metrics` (it does)."""
        result = super().evaluate(*args, **kwargs)
        if isinstance(result, dict):
            return {name: _python_number(value) for name, value in result.items()}
        if isinstance(result, (list, tuple)):
            return [_python_number(value) for value in result]
        return _python_number(result)

    def train_step(self, *args):
        """One generator iteration of Algorithm 1 (`wgan_keras.algorithm.train_step`) through the
        backend's plumbing: (data) on TensorFlow and PyTorch, (state, data) -> (logs, state) on JAX."""
        return plumbing.run_step(self, algorithm.train_step, *args)

    def test_step(self, *args):
        """val_w_distance: E[f(x_val)] - E[f(g(z))] with the current critic, no update."""
        return plumbing.run_step(self, algorithm.test_step, *args)

    def call(self, z, training=False):
        """`gan(z)` is `gan.generator(z)`; conditional: `gan([z, labels])`."""
        return self.generator(z, training=training)

    @property
    def sampling_generator(self):
        """What samples, evaluation and exports use: `generator`, or `ema_generator` (when kept) with BatchNorm
        statistics re-estimated from its own samples (`ema.StandingCopy`), not the raw generator's averaged."""
        return self._standing.of(self.ema_generator) if self.ema_generator is not None else self.generator

    def generate(self, n, seed=None, batch_size=256, labels=None):
        """`n` samples of `sampling_generator` as a float32 numpy array in its range ([-1, 1] for images).

        `seed` (int in [0, 2^64)) makes the draw reproducible: z is `wgan_edge.contract.latent_vectors(n,
        latent_dim, seed)`, the z that `wgan-sample --seed` and the exported web page draw. None advances the
        model's SeedGenerator (a different z at each call).
        `labels` (conditional WGANs only): one class for all n, or n classes; None: the classes in
        turn (0, 1, ..., num_classes - 1, 0, ...), so every class is drawn equally often.

        Returns:
            numpy.ndarray: float32 (n, *sample_shape), e.g. (n, 28, 28, 1) in [-1, 1].

        Raises:
            ValueError: `n` or `batch_size` not a positive integer, bad `labels`, a `seed` outside
                [0, 2^64), or n samples that cannot fit in the memory left to the process.
        """
        for name, value in (("n", n), ("batch_size", batch_size)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {name}={value!r}")
        check_generate_fits(int(n), self.latent_dim, self.sample_shape)
        seed = int(seed) if isinstance(seed, np.integer) else seed  # Keras takes Python ints only
        labels = self.check_labels(labels, int(n))
        if seed is None:
            z = keras.random.normal((int(n), self.latent_dim), seed=self.sample_seed_generator)
        else:  # the portable rule, so wgan-sample --seed and the web page draw this very z
            z = latent_vectors(int(n), self.latent_dim, seed)
        return generate_images(self.sampling_generator, keras.ops.convert_to_numpy(z), batch_size, labels)

    def check_labels(self, labels, n):
        """`generate`'s labels as int32 (n,), or None for an unconditional WGAN (`classes.sample_labels`)."""
        return classes.sample_labels(self.num_classes, labels, n)

    # --------------------------------------------------------- serialization

    def __dir__(self):  # Keras's saving walks dir(); sampling_generator's copy is derived, never saved or loaded
        return [name for name in super().__dir__() if name != "sampling_generator"]

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["sample_seed_generator"] = self.sample_seed_generator.state

    def load_own_variables(self, store):
        values = {key: store[key] for key in store.keys()}
        if "sample_seed_generator" in values:
            self.sample_seed_generator.state.assign(values.pop("sample_seed_generator"))
        super().load_own_variables(values)

    def get_config(self):
        config = super().get_config()
        config.update(
            critic=keras.saving.serialize_keras_object(self.critic),
            generator=keras.saving.serialize_keras_object(self.generator),
            n_critic=self.n_critic,
            clip_value=self.clip_value,
            critic_schedule=self.critic_schedule,
            lipschitz=self.lipschitz,
            gp_weight=self.gp_weight,
            latent_dim=self.latent_dim,
            seed=self.seed,
            ema_decay=self.ema_decay,
            augment=self.augment,
            num_classes=self.num_classes,
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("critic", "generator"):
            config[key] = keras.saving.deserialize_keras_object(config[key])
        return cls(**config)

"""`TrainConfig`: every setting of a training run, each with its meaning, choices and bounds.

The `wgan-train` flags, their `--help`, their validation and the table in docs/flags.md are
generated from these fields (`wgan_edge.cli`); `train(config, workdir)` takes the same object.
"""
import dataclasses
from typing import Optional

# Standard library only: wgan-train parses and validates its flags before Keras and TensorFlow load.
from wgan_edge.cli import ConfigError, check_fields, option
from wgan_keras import presets
from wgan_keras.choices import (
    AUGMENT_POLICIES,
    BUNDLED,
    IMAGE_SIZES,
    LIPSCHITZ,
    PRECISIONS,
    SCHEDULES,
    STRATEGIES,
    TOYS,
    UPSAMPLING,
)

ARCHITECTURES = ("dcgan", "mlp", "resnet")
LR_DECAYS = ("none", "linear")
# Fields a rerun in the same workdir may change: how long to train and how to
# report, not what is trained. Any other difference is refused (see `differences`).
MUTABLE = ("epochs", "generator_iters", "sample_every", "checkpoint_every", "log_every", "eval_every", "strategy",
           "download", "inception_weights",
           "data_dir")
BIG = 1 << 40  # "practically unbounded" for counts of iterations


def _is_tfds(c):
    return c.images is None and not c.is_toy and c.resolved_dataset != BUNDLED


# Settings that act on some runs only: field -> (where it acts, does it act on run c?, what run c is).
# A value other than the default (or a preset's) on a run where it does not act is refused by
# `validate`: it would be accepted and ignored. Validation, docs/reliability.md and the tests read this table.
APPLIES = {
    "image_size": ("image data", lambda c: not c.is_toy, lambda c: f"the 2-D toy {c.dataset!r}"),
    "channels": ("image data", lambda c: not c.is_toy, lambda c: f"the 2-D toy {c.dataset!r}"),
    "upsample": ("the dcgan architecture (images)", lambda c: c.resolved_architecture == "dcgan",
                 lambda c: f"the 2-D toy {c.dataset!r}" if c.is_toy else f"--architecture {c.resolved_architecture}"),
    "base_filters": ("the dcgan and resnet architectures (images)",
                     lambda c: c.resolved_architecture in ("dcgan", "resnet"),
                     lambda c: f"the 2-D toy {c.dataset!r}" if c.is_toy else "--architecture mlp"),
    "mlp_units": ("the mlp architecture (toys, or --architecture mlp)", lambda c: c.resolved_architecture == "mlp",
                  lambda c: f"the {c.resolved_architecture} architecture"),
    "data_dir": ("TFDS datasets", _is_tfds, lambda c: "--images" if c.images else f"dataset {c.resolved_dataset!r}"),
    "download": ("TFDS datasets", _is_tfds, lambda c: "--images" if c.images else f"dataset {c.resolved_dataset!r}"),
    "augment": ("image data", lambda c: not c.is_toy, lambda c: f"the 2-D toy {c.dataset!r}"),
    "inception_weights": ("--eval_every", lambda c: c.eval_every is not None, lambda c: "a run without --eval_every"),
    "clip_value": ("--lipschitz clip", lambda c: c.lipschitz == "clip", lambda c: f"--lipschitz {c.lipschitz}"),
    "gp_weight": ("--lipschitz gp", lambda c: c.lipschitz == "gp", lambda c: f"--lipschitz {c.lipschitz}"),
    "adam_beta1": ("--lipschitz gp or sn (Adam)", lambda c: c.lipschitz != "clip", lambda c: "--lipschitz clip "
                                                                                             "(RMSProp)"),
}


@dataclasses.dataclass
class TrainConfig:
    """Settings of a training run (wgan-train)."""
    dataset: Optional[str] = option(None, f"Training data: the bundled '{BUNDLED}' (4,000 MNIST digits, offline), "
                                          f"a 2-D toy ({', '.join(TOYS)}) or a TFDS dataset name.",
                                    default_help=BUNDLED)
    images: Optional[str] = option(None, "A folder of PNG/JPEG files to train on, instead of --dataset.",
                                   default_help="none (use --dataset)")
    data_dir: Optional[str] = option(None, "TFDS data_dir holding prepared TFDS data.",
                                     default_help="TFDS's own (~/tensorflow_datasets)")
    download: bool = option(False, "Let TFDS download the dataset (needs network).")
    conditional: bool = option(False, "Train a class-conditional model on the data's labels (bundled digits, a "
                                      "TFDS 'label' feature, or one subfolder per class under --images); samples "
                                      "and evaluations then cover every class.")
    image_size: Optional[int] = option(None, "Square image side the models are built for.", choices=IMAGE_SIZES,
                                       default_help="the data's own (folders: 64)")
    channels: Optional[int] = option(None, "Image channels.", choices=(1, 3),
                                     default_help="the data's own (folders: 3)")
    architecture: Optional[str] = option(None, "Critic and generator family: dcgan, mlp, or resnet (WGAN-GP's "
                                                "residual networks, for colour images).", choices=ARCHITECTURES,
                                         default_help="dcgan for images, mlp for toys")
    base_filters: int = option(64, "DCGAN width: filters of the widest critic layer; ResNet: of the "
                                           "critic's first conv and the last generator block (d in WGAN-GP's "
                                           "code).", low=1, high=1024)
    upsample: str = option("transpose", "DCGAN generator upsampling: stride-2 transposed convolutions (the "
                                        "paper's) or nearest 2x + 3x3 convolution, which Edge TPUs and NPUs run "
                                        "full-integer.", choices=UPSAMPLING)
    mlp_units: int = option(512, "MLP hidden width (3 hidden layers).", low=1, high=65536)
    lipschitz: str = option("clip", "How the critic is kept Lipschitz: weight clipping (the paper), gradient "
                                    "penalty or spectral normalization.", choices=LIPSCHITZ)
    critic_schedule: str = option("paper", "paper: n_critic critic iterations per generator iteration; "
                                           "reference: 100 for the first 25 and every 500th (the authors' "
                                           "code).", choices=SCHEDULES)
    n_critic: int = option(5, "Critic iterations per generator iteration.", low=1, high=1000)
    clip_value: float = option(0.01, "c: critic weights are clipped to [-c, c] (lipschitz=clip).",
                               low=1e-12, high=10)
    gp_weight: float = option(10.0, "lambda of the gradient penalty (lipschitz=gp).", low=0, high=1e6)
    learning_rate: Optional[float] = option(None, "Learning rate.", low=1e-12, high=10,
                                            default_help="5e-5 (RMSProp, clip) or 1e-4 (Adam, gp/sn)")
    generator_learning_rate: Optional[float] = option(None, "The generator's learning rate, when it should differ "
                                                            "from the critic's (two time-scale updates).",
                                                      low=1e-12, high=10, default_help="--learning_rate")
    adam_beta1: float = option(0.0, "Adam's beta_1 (gp/sn); WGAN-GP uses 0, its toy code 0.5.", low=0, high=0.999)
    lr_decay: str = option("none", "Learning-rate schedule: constant, or linear to 0 at the run's last planned "
                                   "iteration.", choices=LR_DECAYS)
    batch_size: int = option(64, "m: real samples per critic iteration.", low=1, high=1 << 16)
    latent_dim: int = option(100, "Size of the latent vector z ~ N(0, 1).", low=1, high=1 << 16)
    epochs: Optional[int] = option(None, "Passes over the data.", low=1, high=1 << 30,
                                   default_help="20 when --generator_iters is unset")
    generator_iters: Optional[int] = option(None, "Stop after this many generator iterations in total "
                                                  "(instead of --epochs).", low=1, high=BIG,
                                            default_help="none (--epochs decides)")
    seed: int = option(0, "Seed of the weights, the data order and all training noise.", low=0, high=2**31 - 2)
    sample_every: int = option(100, "Generator iterations between sample grids (samples/).", low=1, high=BIG)
    checkpoint_every: int = option(100, "Generator iterations between checkpoints; Ctrl-C also saves.",
                                   low=1, high=BIG)
    log_every: int = option(10, "Generator iterations between metrics.csv rows and TensorBoard scalars.",
                            low=1, high=BIG)
    eval_every: Optional[int] = option(None, "Generator iterations between Fréchet distance and KID evaluations "
                                             "(1,000 samples; grey images: against the 1,000 held-out bundled "
                                             "digits in the bundled digit network's features; colour images: "
                                             "FID/KID against 2,000 of the run's own images in InceptionV3 pool "
                                             "features, docs/images.md), and at the run's last iteration, on the "
                                             "console, in metrics.csv and TensorBoard.", low=1, high=BIG,
                                       default_help="none (no evaluation)")
    inception_weights: Optional[str] = option(None, "A local InceptionV3 (include_top=False) weights file for "
                                                    "--eval_every's FID on colour images.",
                                              default_help="$WGAN_INCEPTION_WEIGHTS, else Keras's ImageNet file, "
                                                           "fetched once to ~/.keras/models")
    ema_decay: Optional[float] = option(None, "Keep an exponential moving average of the generator's weights "
                                              "with this decay (e.g. 0.999), for samples, evaluation and export.",
                                        low=1e-6, high=1 - 1e-9, default_help="none (no EMA)")
    augment: str = option("none", "Differentiable augmentation (DiffAugment) of the real and generated images "
                                  "the critic sees: random translation (1/8 of the side), cutout (half the side) "
                                  "and/or brightness/saturation/contrast, per example and step; images only.",
                          choices=tuple(AUGMENT_POLICIES))
    strategy: str = option("default", "tf.distribute strategy.", choices=STRATEGIES)
    mixed_precision: str = option("float32", "Keras dtype policy; mixed_bfloat16 is 1.5-1.8x faster on CPUs "
                                             "with AVX512-BF16/AMX (and slower on others: bf16 is emulated there); "
                                             "auto picks mixed_bfloat16 where the CPU or GPU computes bf16 in "
                                             "hardware (on a CPU: AMX or AVX512-BF16, with TensorFlow's oneDNN on; "
                                             "docs/training.md has the measured table), else float32.",
                                      choices=PRECISIONS)

    def __post_init__(self):
        for f in dataclasses.fields(self):  # numpy scalars (np.float32(0.99), np.int64(5)) are numbers too
            value = getattr(self, f.name)
            # numpy's scalar types, recognised without importing numpy (flags are parsed before it loads)
            if type(value).__module__ == "numpy" and getattr(value, "ndim", None) == 0:
                setattr(self, f.name, value.item())

    @property
    def resolved_dataset(self):
        return self.dataset or BUNDLED

    @property
    def is_toy(self):
        return self.images is None and self.resolved_dataset in TOYS

    @property
    def resolved_architecture(self):
        return self.architecture or ("mlp" if self.is_toy else "dcgan")

    @property
    def resolved_image_size(self):
        return self.image_size or 64

    @property
    def resolved_channels(self):
        return self.channels or 3

    def validate(self):
        """Raises ConfigError (a ValueError) naming the first bad field and its value; returns self."""
        check_fields(self)

        def bad(field, why):
            raise ConfigError(field, why, getattr(self, field))

        if self.images is not None and self.dataset is not None:
            bad("images", f"cannot be combined with dataset={self.dataset!r} (pick one source)")
        if self.epochs is not None and self.generator_iters is not None:
            bad("generator_iters", "cannot be combined with epochs (pick one stopping rule)")
        if self.is_toy and self.resolved_architecture != "mlp":
            bad("architecture", f"must be mlp for the 2-D toy dataset={self.dataset!r}")
        if self.is_toy and self.conditional:
            bad("conditional", f"needs class labels, and the 2-D toy dataset={self.dataset!r} has none; drop it")
        for field, (where, acts, this_run) in APPLIES.items():
            if not acts(self) and getattr(self, field) not in presets.unset_values(field, _default(field)):
                bad(field, f"does not apply to {this_run(self)}, only to {where}: it would be ignored; drop it")
        return self

    @classmethod
    def unknown_fields(cls, values):
        """The keys of a config dict (a config.json) that are not fields of this version."""
        names = {f.name for f in dataclasses.fields(cls)}
        return [k for k in values if k not in names]

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_preset(cls, name, **overrides):
        """The settings of preset `name` (`wgan_keras.presets`), then `overrides` on top."""
        return cls(**{**presets.settings(name), **overrides})

    @classmethod
    def from_dict(cls, values):
        if not isinstance(values, dict):
            raise TypeError(f"expected a JSON object, got {type(values).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def differences(self, other):
        """Fields other than MUTABLE where `other` differs: [(field, other's value, ours)].
        With lr_decay the run's length is fixed too: the checkpoint's schedule ends where it ends."""
        theirs, ours = other.to_dict(), self.to_dict()
        theirs["dataset"], ours["dataset"] = other.resolved_dataset, self.resolved_dataset  # 0.1.0 wrote mnist_4k
        mutable = MUTABLE if self.lr_decay == "none" else tuple(m for m in MUTABLE if m not in (
            "epochs", "generator_iters"))
        return [(k, theirs.get(k), v) for k, v in ours.items() if k not in mutable and theirs.get(k) != v]


def _default(field):
    return next(f.default for f in dataclasses.fields(TrainConfig) if f.name == field)

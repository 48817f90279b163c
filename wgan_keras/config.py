"""`TrainConfig`: every setting of a training run. The `wgan-train` flags mirror its fields."""
import dataclasses
import math
from typing import Optional

from wgan_keras.data.sources import BUNDLED, IMAGE_SIZES
from wgan_keras.data.toys import TOYS
from wgan_keras.distribute import PRECISIONS, STRATEGIES
from wgan_keras.schedules import SCHEDULES
from wgan_keras.wgan import LIPSCHITZ

ARCHITECTURES = ("dcgan", "mlp")
LR_DECAYS = ("none", "linear")
# Fields a rerun in the same workdir may change: how long to train and how to
# report, not what is trained. Any other difference is refused (see `differences`).
MUTABLE = ("epochs", "generator_iters", "sample_every", "checkpoint_every", "log_every", "strategy", "download",
           "data_dir")


@dataclasses.dataclass
class TrainConfig:
    dataset: str = BUNDLED          # mnist_4k | a TFDS name | ring8 | grid25 | swissroll
    images: Optional[str] = None    # a folder of PNG/JPEG files, instead of --dataset
    data_dir: Optional[str] = None  # TFDS data_dir
    download: bool = False          # let TFDS download (needs network)
    image_size: Optional[int] = None  # 28 | 32 | 64; None: the data's own (folders: 64)
    channels: Optional[int] = None    # 1 | 3; None: the data's own (folders: 3)
    architecture: Optional[str] = None  # dcgan | mlp; None: dcgan for images, mlp for toys
    base_filters: int = 64          # DCGAN width
    mlp_units: int = 512            # MLP hidden width (3 hidden layers)
    lipschitz: str = "clip"         # clip | gp | sn
    critic_schedule: str = "paper"  # paper | reference
    n_critic: int = 5
    clip_value: float = 0.01
    gp_weight: float = 10.0         # lambda of the gradient penalty (lipschitz=gp)
    learning_rate: Optional[float] = None  # None: 5e-5 (RMSProp, clip) or 1e-4 (Adam, gp/sn)
    adam_beta1: float = 0.0         # Adam's beta_1 (gp/sn); WGAN-GP uses 0, its toy code 0.5
    lr_decay: str = "none"          # none | linear (to 0 at the run's last planned iteration)
    batch_size: int = 64            # m
    latent_dim: int = 100
    epochs: Optional[int] = None    # passes over the data; None with no generator_iters: 20
    generator_iters: Optional[int] = None  # stop after this many generator iterations instead
    seed: int = 0
    sample_every: int = 100         # generator iterations between sample grids
    checkpoint_every: int = 100     # generator iterations between checkpoints
    log_every: int = 10             # generator iterations between metrics.csv rows
    strategy: str = "default"       # default | mirrored | multi_worker | tpu
    mixed_precision: str = "float32"

    @property
    def is_toy(self):
        return self.images is None and self.dataset in TOYS

    @property
    def resolved_architecture(self):
        return self.architecture or ("mlp" if self.is_toy else "dcgan")

    @property
    def resolved_image_size(self):
        return self.image_size or 64

    @property
    def resolved_channels(self):
        return self.channels or 3

    @property
    def resolved_learning_rate(self):
        return self.learning_rate or (5e-5 if self.lipschitz == "clip" else 1e-4)

    def validate(self):
        """Raises ValueError naming the first bad field and its value; returns self."""
        def bad(field, why):
            raise ValueError(f"{field} {why}, got {field}={getattr(self, field)!r}")

        def integer(field, low, high, optional=False):
            value = getattr(self, field)
            if optional and value is None:
                return
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                bad(field, f"must be an integer in [{low}, {high}]")

        def choice(field, options, optional=False):
            if not (optional and getattr(self, field) is None) and getattr(self, field) not in options:
                bad(field, f"must be one of {options}")

        if not isinstance(self.dataset, str) or not self.dataset.strip():
            bad("dataset", "must name a dataset")
        if self.images is not None and (not isinstance(self.images, str) or not self.images):
            bad("images", "must be a folder path")
        if self.image_size is not None and self.image_size not in IMAGE_SIZES:
            bad("image_size", f"must be one of {IMAGE_SIZES}")
        choice("channels", (1, 3), optional=True)
        choice("architecture", ARCHITECTURES, optional=True)
        choice("lipschitz", LIPSCHITZ)
        choice("critic_schedule", SCHEDULES)
        choice("strategy", STRATEGIES)
        choice("mixed_precision", PRECISIONS)
        choice("lr_decay", LR_DECAYS)
        integer("base_filters", 1, 1024)
        integer("mlp_units", 1, 65536)
        integer("n_critic", 1, 1000)
        integer("batch_size", 1, 1 << 16)
        integer("latent_dim", 1, 1 << 16)
        integer("epochs", 1, 1 << 30, optional=True)
        integer("generator_iters", 1, 1 << 40, optional=True)
        integer("seed", 0, 2**31 - 2)
        integer("sample_every", 1, 1 << 40)
        integer("checkpoint_every", 1, 1 << 40)
        integer("log_every", 1, 1 << 40)
        for field in ("clip_value", "learning_rate"):
            value = getattr(self, field)
            if field == "learning_rate" and value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or not 0 < value <= 10:
                bad(field, "must be a finite number in (0, 10]")
        for field, low, high in (("gp_weight", 0, 1e6), ("adam_beta1", 0, 0.999)):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
                bad(field, f"must be a number in [{low}, {high}]")
        if self.epochs is not None and self.generator_iters is not None:
            bad("generator_iters", "cannot be combined with epochs (pick one stopping rule)")
        if self.is_toy and self.resolved_architecture != "mlp":
            bad("architecture", f"must be mlp for the 2-D toy dataset={self.dataset!r}")
        if self.is_toy and (self.image_size or self.channels):
            bad("image_size" if self.image_size else "channels", f"does not apply to the 2-D toy {self.dataset!r}")
        return self

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        if not isinstance(values, dict):
            raise TypeError(f"expected a JSON object, got {type(values).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    def differences(self, other):
        """Fields other than MUTABLE where `other` differs: [(field, other's value, ours)].
        With lr_decay the run's length is fixed too: the checkpoint's schedule ends where it ends."""
        theirs = other.to_dict()
        mutable = MUTABLE if self.lr_decay == "none" else tuple(m for m in MUTABLE if m not in (
            "epochs", "generator_iters"))
        return [(k, theirs.get(k), v) for k, v in self.to_dict().items() if k not in mutable and theirs.get(k) != v]

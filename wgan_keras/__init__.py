"""wgan-keras: Wasserstein GANs as ordinary Keras 3 models on TensorFlow."""
import os
import sys

if "tensorflow" not in sys.modules:  # only read when TensorFlow first loads
    # TF 2.21's CPU wheels leave oneDNN off; on, the DCGAN-32 train step runs 1.3x faster on 2 cores
    # (benchmarks/train_throughput.py). TF_ENABLE_ONEDNN_OPTS=0 keeps TensorFlow's own kernels.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
    _argv = getattr(sys, "orig_argv", sys.argv)  # `python -m wgan_keras.main` shows as "-m" in sys.argv here
    if os.path.basename(sys.argv[0]) in ("wgan-train", "wgan-export") or \
            any(a in ("wgan_keras.main", "wgan_export.main") and b == "-m" for b, a in zip(_argv, _argv[1:])):
        # A command: keep TensorFlow's C++ log lines off the terminal (see `quiet_libraries`). This
        # package is imported before the command's own module runs, and TensorFlow with it.
        from wgan_edge.cli import quiet_libraries
        quiet_libraries()

from wgan_keras.constraints import WeightClip
from wgan_keras.images import save_image_grid, to_uint8
from wgan_keras.losses import (
    gradient_penalty,
    wasserstein_critic_loss,
    wasserstein_distance_estimate,
    wasserstein_generator_loss,
)
from wgan_keras.models import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator
from wgan_keras.schedules import critic_iterations_for
from wgan_keras.wgan import WGAN

__version__ = "0.2.0"

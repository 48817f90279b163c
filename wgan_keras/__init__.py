"""wgan-keras: Wasserstein GANs as ordinary Keras 3 models on TensorFlow."""
import os
import sys

if "tensorflow" not in sys.modules:  # only read when TensorFlow first loads
    # TF 2.21's CPU wheels leave oneDNN off; on, the DCGAN-32 train step runs 1.3x faster on 2 cores
    # (benchmarks/train_throughput.py). TF_ENABLE_ONEDNN_OPTS=0 keeps TensorFlow's own kernels.
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

from wgan_keras.constraints import WeightClip
from wgan_keras.images import save_image_grid, to_uint8
from wgan_keras.losses import gradient_penalty, wasserstein_critic_loss, wasserstein_distance_estimate, \
    wasserstein_generator_loss
from wgan_keras.models import DCGANCritic, DCGANGenerator, MLPCritic, MLPGenerator
from wgan_keras.schedules import critic_iterations_for
from wgan_keras.wgan import WGAN

__version__ = "0.1.0"

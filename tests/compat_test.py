"""What 0.1.0 wrote still works: its .keras checkpoint loads, generates what it generated, exports,
and a workdir it left resumes under the current wgan-train."""
import os
import shutil

import keras
import numpy as np

from wgan_export.convert import convert
from wgan_keras import WGAN
from wgan_keras.config import TrainConfig
from wgan_keras.train import train

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
CHECKPOINT = os.path.join(FIXTURES, "checkpoint_v0_1_0.keras")


def counters(gan):
    return [int(keras.ops.convert_to_numpy(v)) for v in (gan.generator_iterations, gan.critic_iterations)]


def test_a_0_1_0_checkpoint_loads_and_generates_the_same_images():
    gan = keras.saving.load_model(CHECKPOINT)
    expected = np.load(os.path.join(FIXTURES, "checkpoint_v0_1_0_expected.npz"))
    assert isinstance(gan, WGAN)
    assert counters(gan) == [int(expected["generator_iterations"]), int(expected["critic_iterations"])] == [2, 4]
    images = keras.ops.convert_to_numpy(gan.generator(expected["z"], training=False))
    np.testing.assert_allclose(images, expected["images"], atol=1e-5)
    assert len(convert(gan.generator, "float32", batch_size=1)) > 1000


def test_a_0_1_0_workdir_resumes(tmp_path):
    work = tmp_path / "run"
    work.mkdir()
    shutil.copy(CHECKPOINT, work / "checkpoint.keras")
    shutil.copy(os.path.join(FIXTURES, "config_v0_1_0.json"), work / "config.json")
    config = TrainConfig(base_filters=4, latent_dim=4, batch_size=400, n_critic=2, generator_iters=3,
                         sample_every=2, checkpoint_every=2, log_every=1)  # --dataset left at its default
    gan = train(config, str(work), verbose=0)
    assert counters(gan) == [3, 6]

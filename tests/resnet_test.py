"""The WGAN-GP residual networks: shapes, the paper's layout, serialization, training under each Lipschitz
method and mixed precision, every Keras backend, and --architecture resnet."""
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from harness import max_abs, run_model_saving_test, run_serialization_test

import wgan_keras as wk
from wgan_keras.config import TrainConfig
from wgan_keras.distribute import set_precision

SHAPE = (32, 32, 3)


def tiny(lipschitz="clip", num_classes=None, shape=SHAPE, **critic_kwargs):
    critic = wk.ResNetCritic(shape, base_filters=4, spectral_norm=lipschitz == "sn", num_classes=num_classes,
                             **critic_kwargs)
    generator = wk.ResNetGenerator(8, shape, base_filters=4, num_classes=num_classes)
    return wk.WGAN(critic, generator, lipschitz=lipschitz, n_critic=2, seed=1)


def data(n=64, num_classes=None, shape=SHAPE):
    x = np.random.RandomState(0).uniform(-1, 1, (n,) + shape).astype("float32")
    if num_classes is None:
        return tf.data.Dataset.from_tensor_slices(x).batch(8, drop_remainder=True)
    y = np.random.RandomState(1).randint(0, num_classes, n).astype("int32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(8, drop_remainder=True)


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_shapes_and_range(size, channels):
    generator = wk.ResNetGenerator(8, (size, size, channels), base_filters=4)
    critic = wk.ResNetCritic((size, size, channels), base_filters=4)
    images = generator(np.random.normal(size=(3, 8)).astype("float32") * 5)
    assert images.shape == (3, size, size, channels) and np.all(np.abs(np.asarray(images)) <= 1.0)
    assert critic(images).shape == (3, 1)


def test_64_is_the_papers_layout():
    d = 8
    generator = wk.ResNetGenerator(128, (64, 64, 3), base_filters=d)
    critic = wk.ResNetCritic((64, 64, 3), base_filters=d)
    assert generator.layers[1].units == 4 * 4 * 8 * d
    shortcuts = [l for l in generator.layers if isinstance(l, keras.layers.Conv2D) and l.kernel_size == (1, 1)]
    assert [l.filters for l in shortcuts] == [8 * d, 4 * d, 2 * d, d]  # one 1x1 shortcut per up-block
    assert sum(isinstance(l, keras.layers.BatchNormalization) for l in generator.layers) == 2 * 4 + 1
    shortcuts = [l for l in critic.layers if isinstance(l, keras.layers.Conv2D) and l.kernel_size == (1, 1)]
    assert [l.filters for l in shortcuts] == [2 * d, 4 * d, 8 * d, 8 * d]
    assert critic.layers[1].filters == d
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in critic.layers)
    assert sum(isinstance(l, keras.layers.Add) for l in critic.layers) == 4  # residual, 64 -> 4
    layered = wk.ResNetCritic((64, 64, 3), base_filters=d, normalization="layer")
    assert sum(isinstance(l, keras.layers.LayerNormalization) for l in layered.layers) == 8


@pytest.mark.parametrize("make,inputs", [
    (lambda: wk.ResNetGenerator(8, (32, 32, 3), base_filters=4), np.ones((2, 8), "float32")),
    (lambda: wk.ResNetGenerator(8, (64, 64, 1), base_filters=2, batch_norm=False), np.ones((2, 8), "float32")),
    (lambda: wk.ResNetCritic((32, 32, 3), base_filters=4, normalization="layer"), np.ones((2, 32, 32, 3), "float32")),
    (lambda: wk.ResNetCritic((28, 28, 1), base_filters=4, spectral_norm=True), np.ones((2, 28, 28, 1), "float32")),
    (lambda: wk.ResNetGenerator(8, (32, 32, 3), base_filters=4, num_classes=5),
     [np.ones((2, 8), "float32"), np.array([3, 4], "int32")]),
    (lambda: wk.ResNetCritic((32, 32, 3), base_filters=4, spectral_norm=True, num_classes=5),
     [np.ones((2, 32, 32, 3), "float32"), np.array([3, 4], "int32")]),
])
def test_serialization_and_saving(make, inputs, tmp_path):
    model = make()
    run_serialization_test(model)
    run_model_saving_test(model, inputs, tmp_path)


@pytest.mark.parametrize("make,arg", [
    (lambda: wk.ResNetGenerator(8, (48, 48, 3)), "image_shape"),
    (lambda: wk.ResNetGenerator(0, (32, 32, 3)), "latent_dim"),
    (lambda: wk.ResNetCritic((64, 64, 3), base_filters=0), "base_filters"),
    (lambda: wk.ResNetCritic((64, 64, 3), normalization="batch"), "normalization"),
    (lambda: wk.ResNetCritic((64, 64, 3), num_classes=1), "num_classes"),
])
def test_bad_arguments_name_the_argument(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


def test_clip_keeps_every_critic_weight_in_bounds():
    gan = tiny("clip", normalization="layer")
    gan.compile(critic_optimizer=keras.optimizers.RMSprop(1e-2))
    gan.fit(data(), epochs=1, verbose=0)
    assert max_abs(gan.critic.trainable_variables) <= 0.01 + 1e-7
    assert max_abs(gan.generator.trainable_variables) > 0.01


def test_gp_and_sn_train():
    gp = tiny("gp")
    gp.compile()
    history = gp.fit(data(), epochs=1, verbose=0).history
    assert history["gradient_penalty"][0] > 0 and np.isfinite(history["w_distance"][0])
    sn = tiny("sn")
    sn.compile()
    sn.fit(data(), epochs=1, verbose=0)
    dense = [l for l in sn.critic.layers if isinstance(l, keras.layers.SpectralNormalization)][-1].layer
    assert np.linalg.svd(np.asarray(dense.kernel), compute_uv=False)[0] <= 1.05


def test_conditional_projection_trains_with_gp():
    gan = tiny("gp", num_classes=5)
    gan.compile()
    history = gan.fit(data(num_classes=5), epochs=1, verbose=0).history
    assert np.isfinite(history["w_distance"][0])
    assert gan.generate(5, seed=0, labels=np.arange(5)).shape == (5,) + SHAPE


def test_mixed_bfloat16_trains_with_float32_scores_and_images():
    set_precision("mixed_bfloat16")
    gan = tiny("gp")
    gan.compile()
    history = gan.fit(data(), epochs=1, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values())
    assert gan.critic.output.dtype == "float32" and gan.generator.output.dtype == "float32"
    assert all(v.dtype == "float32" for v in gan.critic.trainable_variables)
    assert gan.generate(2, seed=0).dtype == np.float32


WORKER = """
import sys, numpy as np, keras, tensorflow as tf
sys.path.insert(0, {tests!r})
from resnet_test import tiny, SHAPE
gan = tiny("gp")
gan.compile()
x = np.random.RandomState(0).uniform(-1, 1, (32,) + SHAPE).astype("float32")
history = gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(8, drop_remainder=True), epochs=1, verbose=0).history
assert np.isfinite(history["w_distance"][0]) and history["gradient_penalty"][0] > 0
gan.save({path!r})
z = np.random.RandomState(3).normal(size=(4, 8)).astype("float32")
np.save({images!r}, keras.ops.convert_to_numpy(gan.generator(z, training=False)))
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_trains_on_other_backends_and_reloads_in_tensorflow(backend, tmp_path):
    path, images = str(tmp_path / "gan.keras"), str(tmp_path / "images.npy")
    code = WORKER.format(tests=os.path.dirname(__file__), path=path, images=images)
    proc = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, KERAS_BACKEND=backend),
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    gan = keras.saving.load_model(path)
    assert isinstance(gan.generator, wk.ResNetGenerator) and isinstance(gan.critic, wk.ResNetCritic)
    z = np.random.RandomState(3).normal(size=(4, 8)).astype("float32")  # each backend's own RNG draws other z
    np.testing.assert_allclose(keras.ops.convert_to_numpy(gan.generator(z, training=False)), np.load(images),
                               atol=1e-4)


def test_architecture_resnet_builds_the_residual_pair():
    from wgan_keras.build import build_model
    config = TrainConfig(images="unused", architecture="resnet", base_filters=4, latent_dim=8).validate()
    gan = build_model(config, SHAPE)
    assert isinstance(gan.critic, wk.ResNetCritic) and isinstance(gan.generator, wk.ResNetGenerator)
    assert gan.critic.base_filters == gan.generator.base_filters == 4


def test_upsample_does_not_apply_to_resnet():
    with pytest.raises(ValueError, match="upsample.*--architecture resnet"):
        TrainConfig(images="unused", architecture="resnet", upsample="resize").validate()

"""WGAN on JAX and PyTorch against TensorFlow, one process per backend (Keras picks it at import).

This TensorFlow process writes initial weights, data and its own results; tests/backend_worker.py
trains the same configs under KERAS_BACKEND=jax / =torch from those weights and writes its results
back. Measured on the 2-core Intel Xeon CI machine (see docs/backends.md):

* noise: `wgan_keras.philox` reproduces tf.random.stateless_* on JAX and PyTorch: uniforms
  bitwise, normals within 1.9e-6 (sin/cos/log round differently per backend);
* weights and logs after 2 fit steps (n_critic=2: 4 critic and 2 generator iterations), gp, sn,
  the reference schedule, DCGAN with clipping and a conditional MLP (3 classes, projection critic, gp):
  max |w - w_tf| 1.8e-7 on both backends (bound 1e-6; the conditional case 7.5e-9 on JAX);
* a .keras trained on either loads under TensorFlow and exports within the export tests' float32
  bounds; TensorFlow's checkpoint resumes on either within the same 1e-6;
* JAX DataParallel over 2 logical CPUs equals 1 device within the same 1e-6.

Skipped, with the reason, where jax or torch is not installed.
"""
import importlib.util
import os
import subprocess
import sys

import backend_worker as worker
import keras
import numpy as np
import pytest
import tensorflow as tf

from wgan_edge.runner import TFLiteGenerator
from wgan_export import convert, endpoint, measure
from wgan_keras.images import generate_images
from wgan_keras.noise import CRITIC_Z, GP_ALPHA, counter_noise, replica_noise

ATOL = 1e-6
HERE = os.path.dirname(os.path.abspath(__file__))


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """TensorFlow's side: initial weights, 2 fit steps of each config, checkpoints."""
    folder = tmp_path_factory.mktemp("backends")
    for name in worker.CONFIGS:
        keras.utils.set_random_seed(0)
        gan = worker.build(name)
        worker.save(folder / f"init_{name}.npz", gan)
        history = gan.fit(worker.dataset(worker.data(name)), epochs=1, verbose=0).history
        worker.save(folder / f"tensorflow_{name}.npz", gan, history)
        gan.save(folder / f"tensorflow_{name}.keras")
        if name.endswith("_ema"):
            np.save(folder / "tensorflow_ema_samples.npy", gan.generate(8, seed=3))
    resumed = keras.saving.load_model(folder / "tensorflow_mlp_reference.keras")
    resumed.fit(worker.dataset(worker.data("mlp_reference", 1)), epochs=1, verbose=0)
    worker.save(folder / "tensorflow_resumed.npz", resumed)
    return folder


def run_worker(backend, folder):
    """tests/backend_worker.py under `backend`; its files land in `folder`."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed: pip install -e '.[test,backends]' brings JAX and PyTorch")
    # Two logical CPUs for DataParallel. Optimization level 0: XLA's compile time dominates these tiny
    # programs (2.5x the run time at -O2) and the numbers stay within the bound.
    flags = "--xla_force_host_platform_device_count=2 --xla_backend_optimization_level=0"
    env = dict(os.environ, KERAS_BACKEND=backend, XLA_FLAGS=flags)
    proc = subprocess.run([sys.executable, os.path.join(HERE, "backend_worker.py"), "all", str(folder)], env=env,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]


def assert_close(expected, got, what):
    (w_expected, logs_expected), (w_got, logs_got) = expected, got
    assert len(w_expected) == len(w_got), what
    for i, (a, b) in enumerate(zip(w_expected, w_got)):
        np.testing.assert_allclose(b, a, atol=ATOL, rtol=0, err_msg=f"{what}: weight {i}")
    for key in logs_expected:
        np.testing.assert_allclose(logs_got[key], logs_expected[key], atol=ATOL, rtol=0, err_msg=f"{what}: {key}")


def test_neutral_noise_is_tensorflows_on_tensorflow():
    for stream in (CRITIC_Z, GP_ALPHA):
        for counter in (0, 3, 2**30 + 7):
            expected = replica_noise([16, 8], 5, stream, tf.constant(counter, tf.int64)).numpy()
            got = keras.ops.convert_to_numpy(counter_noise([16, 8], 5, stream, counter))
            np.testing.assert_allclose(got, expected, atol=0 if stream == GP_ALPHA else 2e-6, rtol=0)


# One test per backend, not one per check: pytest-xdist may hand tests of one module to both
# workers, and each would start its own (30-60 s) backend process.
@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_backend_matches_tensorflow(backend, folder, tmp_path):
    run_worker(backend, folder)
    check_noise(backend, folder)
    for config in worker.CONFIGS:
        assert_close(worker.load(folder / f"tensorflow_{config}.npz"), worker.load(folder / f"{backend}_{config}.npz"),
                     f"{backend} {config}")
    check_clip_invariant(backend, folder)  # the EMA's samples: its standing BatchNorm statistics on `backend`
    np.testing.assert_allclose(np.load(folder / f"{backend}_ema_samples.npy"),
                               np.load(folder / "tensorflow_ema_samples.npy"), atol=1e-5)
    check_checkpoint_loads_and_exports(backend, folder, tmp_path)
    assert_close(worker.load(folder / "tensorflow_resumed.npz"), worker.load(folder / f"{backend}_resumed.npz"),
                 f"TF checkpoint resumed on {backend}")
    if backend == "jax":  # keras.distribution is JAX's; tf.distribute: tests/distribute_test.py
        single, parallel = worker.load(folder / "jax_mlp_gp.npz"), worker.load(folder / "jax_parallel.npz")
        assert int(parallel[1].pop("devices")[0]) == 2
        assert_close(single, parallel, "DataParallel on 2 devices vs 1")


def check_noise(backend, folder):
    draws = np.load(folder / f"{backend}_noise.npz")
    for key in draws.files:
        stream, counter = map(int, key.split("_"))
        expected = replica_noise([16, 8], 5, stream, tf.constant(counter, tf.int64)).numpy()
        np.testing.assert_allclose(draws[key], expected, atol=0 if stream == GP_ALPHA else 2e-6, rtol=0, err_msg=key)


def check_clip_invariant(backend, folder):
    for config in ("mlp_reference", "dcgan_clip"):
        gan = worker.build(config)
        weights, _ = worker.load(folder / f"{backend}_{config}.npz")
        critic = {id(v) for v in gan.critic.trainable_variables}
        clipped = [w for v, w in zip(gan.weights, weights) if id(v) in critic]
        assert max(np.abs(w).max() for w in clipped) <= 0.01 + 1e-7, config
        assert np.mean([np.isclose(np.abs(w), 0.01).mean() for w in clipped]) > 0.1, config  # it acted


def check_checkpoint_loads_and_exports(backend, folder, tmp_path):
    gan = keras.saving.load_model(folder / f"{backend}.keras")
    weights, _ = worker.load(folder / f"{backend}_dcgan_clip.npz")
    for variable, value in zip(gan.weights, weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(variable), value, err_msg=variable.path)
    assert int(gan.generator_iterations.numpy()) == worker.STEPS and gan.generator_iterations.dtype == "int64"
    z = np.random.RandomState(2).normal(size=(8, 8)).astype("float32")
    images = generate_images(gan.generator, z)
    np.testing.assert_allclose(images, np.load(folder / f"{backend}_images.npy"), atol=1e-5)  # as on its backend
    # The export tests' float32 bounds, which a TensorFlow-trained generator meets.
    saved = endpoint.run_saved_model(endpoint.write_saved_model(gan.generator, str(tmp_path / "sm")), z)
    np.testing.assert_allclose(saved["images"], images, atol=1e-5)
    lite = TFLiteGenerator(convert.convert(gan.generator, "float32", batch_size=8))(z)
    np.testing.assert_allclose(lite["images"], images, atol=1e-5)
    assert measure.fidelity(images, lite["images"])["psnr_db"] > 90.0

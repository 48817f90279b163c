"""tf.distribute and mixed precision, on CPU: CI has no GPU."""
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from harness import assert_same_weights, max_abs, run_two_workers

import wgan_keras as wk
from wgan_keras.distribute import make_strategy, set_precision

SHAPE = (28, 28, 1)
HERE = os.path.dirname(os.path.abspath(__file__))


def seeded_run(strategy, lipschitz):
    keras.utils.set_random_seed(0)
    with strategy.scope():
        gan = wk.WGAN(wk.DCGANCritic(SHAPE, base_filters=4), wk.DCGANGenerator(8, SHAPE, base_filters=4),
                      lipschitz=lipschitz, seed=3)
        gan.compile()
    x = np.random.RandomState(0).uniform(-1, 1, (16 * 5 * 2,) + SHAPE).astype("float32")
    history = gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(16, drop_remainder=True), epochs=2, verbose=0)
    return gan, history.history


@pytest.mark.parametrize("lipschitz", ["clip", "gp"])
def test_mirrored_over_two_devices_equals_one_device(lipschitz):
    single, single_logs = seeded_run(tf.distribute.get_strategy(), lipschitz)
    mirrored, mirrored_logs = seeded_run(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), lipschitz)
    assert mirrored.distribute_strategy.num_replicas_in_sync == 2
    assert_same_weights(single, mirrored, atol=1e-5)
    for name, values in single_logs.items():  # global-batch metrics, not the first replica's
        np.testing.assert_allclose(mirrored_logs[name], values, rtol=1e-4, atol=1e-6, err_msg=name)
    if lipschitz == "clip":
        assert max_abs(mirrored.critic.trainable_variables) <= 0.01 + 1e-7


def test_multi_worker_two_processes(tmp_path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([os.path.dirname(HERE), os.environ.get("PYTHONPATH", "")]))
    run_two_workers(lambda w: [os.path.join(HERE, "multi_worker_main.py"), str(tmp_path)], timeout=240, env=env)
    chief, other = np.load(tmp_path / "worker0.npz"), np.load(tmp_path / "worker1.npz")
    assert int(chief["generator_iterations"]) == 2
    for key in chief.files:
        np.testing.assert_array_equal(chief[key], other[key], err_msg=key)
    assert (tmp_path / "checkpoint.keras").exists() and not (tmp_path / "worker1" / "checkpoint.keras").exists()
    reloaded = keras.saving.load_model(tmp_path / "checkpoint.keras")
    np.testing.assert_array_equal(np.asarray(reloaded.weights[0]), chief["arr_0"])


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_mixed_precision_trains(policy):
    set_precision(policy)
    gan = wk.WGAN(wk.DCGANCritic(SHAPE, base_filters=4), wk.DCGANGenerator(8, SHAPE, base_filters=4), seed=0)
    gan.compile()
    assert isinstance(gan.critic_optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
    x = np.random.RandomState(0).uniform(-1, 1, (16 * 5,) + SHAPE).astype("float32")
    history = gan.fit(x, batch_size=16, epochs=2, verbose=0).history
    assert all(np.isfinite(v).all() for v in history.values())
    assert all(v.dtype == "float32" for v in gan.critic.trainable_variables)  # clipping happens in float32
    assert max_abs(gan.critic.trainable_variables) <= 0.01 + 1e-7
    samples = gan.generate(4, seed=0)
    assert samples.dtype == np.float32 and np.isfinite(samples).all()
    assert gan.critic.layers[1].compute_dtype == policy.split("_")[1]


def test_bad_strategy_and_precision():
    with pytest.raises(ValueError, match="strategy"):
        make_strategy("horovod")
    env = os.environ.pop("TF_CONFIG", None)
    try:
        with pytest.raises(ValueError, match="TF_CONFIG"):
            make_strategy("multi_worker")
    finally:
        if env is not None:
            os.environ["TF_CONFIG"] = env
    with pytest.raises(ValueError, match="mixed_precision"):
        set_precision("float8")

"""A keras-hub style harness: each model test is one call."""
import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np


def run_serialization_test(instance):
    """get_config -> from_config gives an equal config, and so does a full serialize round trip."""
    config = instance.get_config()
    revived = instance.__class__.from_config(config)
    assert revived.get_config() == config
    serialized = keras.saving.serialize_keras_object(instance)
    again = keras.saving.deserialize_keras_object(serialized)
    assert type(again) is type(instance)
    assert keras.saving.serialize_keras_object(again) == serialized
    return revived


def run_model_saving_test(model, inputs, tmp_path, atol=0.0):
    """.keras save then load (safe_mode) reproduces the outputs; returns the reloaded model."""
    expected = keras.ops.convert_to_numpy(model(inputs, training=False))
    path = os.path.join(str(tmp_path), "model.keras")
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert type(reloaded) is type(model)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(reloaded(inputs, training=False)), expected, atol=atol)
    return reloaded


def max_abs(variables):
    return max(float(np.max(np.abs(keras.ops.convert_to_numpy(v)))) for v in variables)


def weights_of(model):
    return [keras.ops.convert_to_numpy(v) for v in model.weights]


def assert_same_weights(a, b, atol=0.0):
    wa, wb = weights_of(a), weights_of(b)
    assert len(wa) == len(wb)
    for x, y in zip(wa, wb):
        np.testing.assert_allclose(x, y, atol=atol, rtol=0)


def run_resume_test(make, fit, path, check_reloaded=None):
    """`make()` trained straight for 4 epochs, and again for 2, saved to `path` (.keras), reloaded and
    trained for 2 more; `check_reloaded(halves, reloaded)` runs before the second half.
    Returns (straight, resumed) for the caller's comparisons."""
    straight = make()
    fit(straight, 4)
    halves = make()
    fit(halves, 2)
    halves.save(path)
    resumed = keras.saving.load_model(path, safe_mode=True)
    if check_reloaded is not None:
        check_reloaded(halves, resumed)
    fit(resumed, 2)
    return straight, resumed


# A tiny 28x28x1 DCGAN pair and its data, for tests of what train_step does (EMA, augmentation).
TINY_SHAPE = (28, 28, 1)


def tiny_gan(seed=1, **kwargs):
    import wgan_keras as wk
    return wk.WGAN(wk.DCGANCritic(TINY_SHAPE, base_filters=4), wk.DCGANGenerator(8, TINY_SHAPE, base_filters=4),
                   seed=seed, **kwargs)


def tiny_images(n=160, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (n,) + TINY_SHAPE).astype("float32")


def tiny_dataset(x, m=16):
    import tensorflow as tf
    return tf.data.Dataset.from_tensor_slices(x).batch(m, drop_remainder=True)


def trained_batchnorm(model, seed=1):
    """Gives every BatchNormalization layer moving statistics that are not the identity, as after training
    (an export folds them; identity statistics would hide a folding error)."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.3, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2, n).astype("float32"))
    return model


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two_workers(argv_of, timeout, env=None):
    """Runs `argv_of(w)` for w = 0, 1 as the two workers of one MultiWorkerMirroredStrategy cluster on
    loopback ports (TF_CONFIG); each must exit 0. A worker still running when the other fails is killed, so a
    failure never leaves a process waiting for its peer."""
    cluster = {"worker": [f"127.0.0.1:{_free_port()}", f"127.0.0.1:{_free_port()}"]}
    workers = []
    try:
        for w in (0, 1):
            tf_config = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": w}})
            workers.append(subprocess.Popen([sys.executable, *argv_of(w)], env=dict(env or os.environ,
                                            TF_CONFIG=tf_config), stdout=subprocess.PIPE,
                                            stderr=subprocess.STDOUT, text=True))
        for worker in workers:
            output, _ = worker.communicate(timeout=timeout)
            assert worker.returncode == 0, output[-3000:]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()

"""Test setup shared by every test file: quiet TF, two logical CPUs for the
tf.distribute tests (must happen before TensorFlow initialises its devices), and
a clean Keras state around each test.

The suite runs on two pytest-xdist workers (setup.cfg: `-n 2`): most tests wait on
process start-up, tracing and small ops, so two overlap well on a 2-core machine
(measured: 10 min 47 s of tests alone, 5 min 14 s on two workers). `-n 0` runs in one process.
"""
import os

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as wgan-train sets it (wgan_keras.cpu.use_onednn)


def pytest_configure(config):
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return  # the xdist controller only hands out tests: no TensorFlow (and no start-up log lines) there
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.fixture(autouse=True)
def _keras_state():
    yield
    import keras
    keras.config.set_dtype_policy("float32")
    keras.backend.clear_session()

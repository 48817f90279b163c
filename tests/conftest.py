"""Test setup shared by every test file: quiet TF, two logical CPUs for the
tf.distribute tests (must happen before TensorFlow initialises its devices), and
a clean Keras state around each test."""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")  # as `import wgan_keras` sets it; keras is imported first here

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(_cpu, [tf.config.LogicalDeviceConfiguration()] * 2)


@pytest.fixture(autouse=True)
def _keras_state():
    yield
    keras.config.set_dtype_policy("float32")
    keras.backend.clear_session()

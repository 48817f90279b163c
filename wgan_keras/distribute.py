"""TensorFlow's own distribution engine and mixed precision, chosen by name.

Create the models and call `compile` inside `strategy.scope()`; `fit` is unchanged.
"""
import json
import os

import keras
import tensorflow as tf

from wgan_keras import cpu
from wgan_keras.choices import PRECISIONS, STRATEGIES  # noqa: F401  (defined where config.py reads them)


def make_strategy(name="default", tpu=None):
    """A `tf.distribute.Strategy` by name.

    "mirrored": all local GPUs (or the CPU); "multi_worker": reads the cluster from
    the TF_CONFIG environment variable; "tpu": `tpu` names the TPU ("" for a Colab
    or Cloud TPU VM resolver default).
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        try:
            json.loads(os.environ["TF_CONFIG"])
        except (KeyError, ValueError):
            raise ValueError("strategy='multi_worker' needs a JSON TF_CONFIG environment variable naming the "
                             "cluster and this worker's task") from None
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(tpu=tpu or "")
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"strategy must be one of {STRATEGIES}, got strategy={name!r}")


def set_precision(policy="float32"):
    """Sets Keras's global dtype policy. Call before building the models.

    Variables (and so weight clipping) stay float32; `WGAN` keeps scores and losses
    in float32 and wraps its optimizers in `LossScaleOptimizer` under mixed_float16.
    """
    if policy not in PRECISIONS:
        raise ValueError(f"mixed_precision must be one of {PRECISIONS}, got mixed_precision={policy!r}")
    keras.config.set_dtype_policy(resolve_precision(policy))


def resolve_precision(policy, cpu_flags=None, onednn=None):
    """"auto" -> mixed_bfloat16 where bfloat16 is computed in hardware (a GPU of compute capability
    8.0+; on a CPU, the measured table `wgan_keras.cpu.CPU_PRECISION`, with oneDNN on), else float32:
    elsewhere bf16 is emulated and slower than float32. Other policies are returned as they are."""
    if policy != "auto":
        return policy
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        capability = tf.config.experimental.get_device_details(gpus[0]).get("compute_capability", (0, 0))
        return "mixed_bfloat16" if tuple(capability) >= (8, 0) else "float32"
    onednn = cpu.onednn_enabled() if onednn is None else onednn
    return cpu.cpu_precision(cpu.cpu_flags() if cpu_flags is None else cpu_flags, onednn is not False)

"""TensorFlow's own distribution engine and mixed precision, chosen by name.

Create the models and call `compile` inside `strategy.scope()`; `fit` is unchanged.
"""
import json
import os

import keras
import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


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
    keras.config.set_dtype_policy(policy)

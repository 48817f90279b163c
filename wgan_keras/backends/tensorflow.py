"""TensorFlow: GradientTape, tf.distribute replicas (mirrored, multi-worker, TPU), tf.random noise.

The numbers are those of wgan-keras 0.1 bit for bit: the same ops in the same order.
"""
import contextlib
import sys

import tensorflow as tf

from wgan_keras.noise import replica_noise

_plumbing = sys.modules[__name__]


def run_step(gan, step, data):
    """`step(gan, data, plumbing)` (an `algorithm` step) as Keras's trainer calls train_step(data)."""
    # Every update depends on the input: Keras 3.15 runs a step's data-independent
    # ops (counters, optimizer.iterations) once more when an iterator of unknown
    # length runs out at the end of an epoch.
    with tf.control_dependencies(tf.nest.flatten(data)):
        return step(gan, data, _plumbing)


def gradients(objective, variables):
    with tf.GradientTape() as tape:
        loss, aux = objective()
    # An embedding's gradient (conditional models) comes as IndexedSlices with one row per example, so a
    # class appears once per example of it; Keras 3.15's Adam squares such slices row by row (sparse
    # `ops.square`), a second moment of sum(g_i^2) instead of (sum g_i)^2. Dense: the gradient JAX and
    # PyTorch apply (measured: class embeddings 4e-4 apart after 2 steps; within 1e-6 dense).
    grads = tape.gradient(loss, variables)
    return [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads], aux


def input_gradient(fn, x):
    with tf.GradientTape() as tape:
        tape.watch(x)
        scores = fn(x)
    return tape.gradient(scores, x)


def apply(optimizer, grads, variables):
    optimizer.apply(grads, variables)


def no_grad():
    return contextlib.nullcontext()  # nothing is recorded outside a GradientTape


def noise(gan, shape, stream, counter):
    return replica_noise(shape, gan.seed, stream, counter)


def replicas():
    return tf.distribute.get_strategy().num_replicas_in_sync


def replicas_in_sync(gan):
    return gan.distribute_strategy.num_replicas_in_sync


def logs(metrics):
    logs = {m.name: m.result() for m in metrics}
    if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
        # Keras 3.15 reduces multi-worker logs with strategy.reduce(MEAN, axis=0): rank 1 needed.
        logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs


def default_jit_compile():
    # Measured on CPU (benchmarks/train_throughput.py): graph mode with oneDNN beats XLA by 1.15x,
    # and XLA on CPU cannot hold MirroredStrategy's merge_call. On GPUs Keras decides ("auto").
    return "auto" if tf.config.list_physical_devices("GPU") else False


def compiled(gan):
    pass

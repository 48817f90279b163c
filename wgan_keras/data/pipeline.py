"""One input pipeline for every source: check, shuffle per epoch, batch, scale, prefetch.

Exact resumption: the training array stays in memory and epoch e visits it in
the order of a *stateless* permutation keyed by (seed, e). Where a run stands is
therefore a pure function of the checkpoint's `critic_iterations`, and a run
restarted from any checkpoint sees the very batches an uninterrupted run would.
"""
import numpy as np
import tensorflow as tf


def in_memory(dataset):
    """Turns tf.data autotuning off for a pipeline that only gathers from an in-memory tensor.

    There is nothing to tune in a gather, and autotuning costs time: in TF 2.21 destroying an
    autotuned iterator blocks until its model thread wakes from its sleep, and Keras destroys one
    at the end of every `fit` call. Measured with autotuning on: 9-10 s per call on the toys (82 ms a
    step over a 250-step epoch instead of 41-47), 15 % of a wgan-train MNIST run (docs/benchmarks.md, section 4).
    Options flow downstream, so `group_batches` inherits this.
    """
    options = tf.data.Options()
    options.autotune.enabled = False
    return dataset.with_options(options)


def check_array(x, name="x"):
    """Rejects what would silently poison training: empty arrays, wrong ranks, NaN/Inf."""
    x = np.asarray(x)
    if x.ndim not in (2, 4):
        raise ValueError(f"{name}: expected images (N, H, W, C) or points (N, D), got shape {x.shape}")
    if len(x) == 0 or x.size == 0:
        raise ValueError(f"{name}: is empty, shape {x.shape}")
    if x.ndim == 4 and x.shape[-1] not in (1, 3):
        raise ValueError(f"{name}: images need 1 or 3 channels, got shape {x.shape}")
    check_finite(x, name)
    if x.ndim == 4 and x.dtype != np.uint8:
        raise ValueError(f"{name}: images must be uint8 pixels (scaled later), got dtype {x.dtype}")
    return x


def check_finite(x, name="x"):
    """NaN or Inf in training data poisons every weight it touches: refuse it up front."""
    x = x[0] if isinstance(x, (tuple, list)) else x
    if hasattr(x, "dtype") and np.dtype(getattr(x.dtype, "as_numpy_dtype", x.dtype)).kind == "f":
        bad = int(np.size(x) - np.isfinite(np.asarray(x)).sum())
        if bad:
            raise ValueError(f"{name}: holds {bad} NaN/Inf values")
    return x


def scale_images(images):
    """uint8 [0, 255] -> float32 [-1, 1], the range of the generator's tanh."""
    return tf.cast(images, tf.float32) / 127.5 - 1.0


def steps_per_epoch(n, batch_size, n_critic):
    """Generator iterations (fit steps) per pass over n samples: each eats n_critic batches of m."""
    steps = n // (batch_size * n_critic)
    if steps < 1:
        raise ValueError(f"batch_size: {n} samples are fewer than one step's batch_size * n_critic = "
                         f"{batch_size} * {n_critic}; lower them or add data")
    return steps


def epoch_dataset(x, batch_size, n_critic, seed, epoch, first_step=0, num_steps=None, labels=None):
    """Batches of m for steps [first_step, first_step + num_steps) of epoch `epoch`.

    Each step gets exactly n_critic batches, so the n_critic-grouping in
    `WGAN.fit` never straddles an epoch. Images come out scaled to [-1, 1];
    toy points (float32) as they are. With `labels` (int (N,), conditional training) each batch is
    an (images, labels) pair, in the same order.
    """
    per_step = batch_size * n_critic
    total = steps_per_epoch(len(x), batch_size, n_critic)
    num_steps = total - first_step if num_steps is None else num_steps
    if not 0 <= first_step < first_step + num_steps <= total:
        raise ValueError(f"first_step={first_step}, num_steps={num_steps} lie outside an epoch of {total} steps")
    if hasattr(x, "dataset"):  # files streamed from disk (`source.Streamed`), in this very order
        return x.dataset(batch_size, n_critic, seed, epoch, first_step, num_steps)
    x = check_array(x)
    order = _order(len(x), seed, epoch)[first_step * per_step:(first_step + num_steps) * per_step]
    return _batches(x, tf.data.Dataset.from_tensor_slices(order), batch_size, labels)


def epochs_dataset(x, batch_size, n_critic, seed, first_epoch, num_epochs, labels=None):
    """Whole epochs [first_epoch, first_epoch + num_epochs) back to back, each in `epoch_dataset`'s order.

    One `fit` call then trains them all. A call per epoch costs a pipeline to trace and an iterator
    to build and tear down: on the toys' 51-step epochs, 9 % of wgan-train's CPU time (docs/benchmarks.md §5f).
    """
    if hasattr(x, "dataset"):
        return x.dataset(batch_size, n_critic, seed, first_epoch, 0, num_epochs * steps_per_epoch(len(x), batch_size,
                                                                                                 n_critic))
    x = check_array(x)
    used = steps_per_epoch(len(x), batch_size, n_critic) * batch_size * n_critic
    epochs = tf.data.Dataset.range(first_epoch, first_epoch + num_epochs)
    order = epochs.flat_map(lambda e: tf.data.Dataset.from_tensor_slices(_order(len(x), seed, e)[:used]))
    return _batches(x, order, batch_size, labels)


def _order(n, seed, epoch):
    """Epoch `epoch`'s permutation of range(n): stateless, keyed by (seed, epoch), so resumption is exact."""
    key = tf.cast(tf.stack([tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64)]), tf.int32)
    return tf.random.experimental.stateless_shuffle(tf.range(n, dtype=tf.int64), seed=key)


def _batches(x, order, batch_size, labels=None):
    data = tf.constant(x)
    transform = scale_images if x.dtype == np.uint8 else (lambda b: tf.cast(b, tf.float32))
    if labels is None:
        batch = lambda idx: transform(tf.gather(data, idx))  # noqa: E731
    else:
        classes = tf.constant(np.asarray(labels, np.int32))
        batch = lambda idx: (transform(tf.gather(data, idx)), tf.gather(classes, idx))  # noqa: E731
    # Indices are batched first, then one gather per batch: a batch op, not per-example work.
    return in_memory(order.batch(batch_size, drop_remainder=True)
                     .map(batch, num_parallel_calls=tf.data.AUTOTUNE)
                     .prefetch(tf.data.AUTOTUNE))

"""Groups a dataset of real batches into the per-step input of `WGAN.train_step`."""
import random

import tensorflow as tf

from wgan_keras.data.pipeline import in_memory


def array_batches(x, batch_size, shuffle):
    """An array of samples (or an (x, y) tuple) -> a dataset of batches of `batch_size`, dropping the rest."""
    if isinstance(x, (tuple, list)):
        x = x[0]
    if x is None or not hasattr(x, "shape") or len(x) == 0:
        raise ValueError(f"x must be a non-empty array or a tf.data.Dataset, got {type(x).__name__}")
    n, m = len(x), int(batch_size)
    if n < m:
        raise ValueError(f"batch_size={m} is larger than the {n} samples in x")
    x = tf.convert_to_tensor(x)
    if not shuffle:
        return in_memory(tf.data.Dataset.from_tensor_slices(x).batch(m, drop_remainder=True))

    # One vectorised permutation per epoch instead of Dataset.shuffle's sample-by-sample buffer: an
    # epoch of 320k toy points costs 0.6-1.4 s instead of 1.4-2.7 s on one core (no buffer to fill).
    # Dataset.random(rerandomize_each_iteration) hands each epoch a new seed; Python's random (which
    # keras.utils.set_random_seed seeds) seeds it.
    def epoch_batches(seed):
        seed = tf.stack([seed, seed // 2**32])  # stateless ops take an int64 pair
        order = tf.random.experimental.stateless_shuffle(tf.range(n), seed=seed)[:n // m * m]
        return tf.reshape(order, [n // m, m])

    ds = tf.data.Dataset.random(seed=random.randint(0, 2**31 - 1), rerandomize_each_iteration=True).take(1)
    return in_memory(ds.map(epoch_batches).unbatch().map(lambda rows: tf.gather(x, rows)))


def group_batches(dataset, n_critic, replicas=1, sample_shape=None):
    """Batches of m samples -> one element of n_critic * m samples per generator iteration.

    Each group holds n_critic consecutive batches, one per critic iteration. For
    `replicas` > 1 the group is laid out replica-major, so the split that
    tf.distribute makes along axis 0 hands replica r its m / replicas slice of
    every one of the n_critic batches: N replicas see the batches of one device.
    Batches of another size than the first (a final partial one) are dropped. With `sample_shape`
    (the model's) a dataset of single samples, or of other samples, is refused in one line.
    """
    spec = dataset.element_spec
    if isinstance(spec, (tuple, list)):  # (images, labels): a WGAN uses the images
        dataset = dataset.map(lambda *element: element[0])
        spec = spec[0]
    if not isinstance(spec, tf.TensorSpec) or spec.shape.rank is None or spec.shape.rank < 2:
        raise ValueError(f"x: expected a dataset of batches (m, ...), got element_spec={spec}")
    _check_sample_shape(spec.shape, sample_shape)
    if not spec.dtype.is_floating:
        raise ValueError(f"x: images must be floats scaled to the generator's range ([-1, 1]), got dtype "
                         f"{spec.dtype.name}; see wgan_keras.data.scale_images")
    m = spec.shape[0]
    if m is None:  # batched without drop_remainder: read m off the first batch, drop other sizes
        first = next(iter(dataset.take(1)), None)
        if first is None:
            raise ValueError("x: the dataset is empty")
        m = int(first.shape[0])
        dataset = dataset.filter(lambda b: tf.shape(b)[0] == m)
    if m % replicas:
        raise ValueError(f"x: batch size m={m} must divide evenly over {replicas} replicas")
    dataset = dataset.batch(n_critic, drop_remainder=True)

    def replica_major(group):  # (k, m, ...) -> (replicas * k * m/replicas, ...)
        tail = tf.shape(group)[2:]
        group = tf.reshape(group, tf.concat([[n_critic, replicas, m // replicas], tail], 0))
        group = tf.transpose(group, [1, 0] + list(range(2, spec.shape.rank + 2)))
        return tf.reshape(group, tf.concat([[n_critic * m], tail], 0))

    return dataset.map(replica_major, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def _check_sample_shape(shape, sample_shape):
    """An unbatched dataset of (28, 28, 1) images would be read as batches of 28 samples (28, 1)."""
    if sample_shape is None or shape.rank is None:
        return
    dims, sample_shape = tuple(shape.as_list()), tuple(sample_shape)
    if dims == sample_shape:
        raise ValueError(f"x: the dataset yields single samples of shape {dims}, not batches; batch it first, "
                         f"e.g. dataset.batch(64)")
    if None not in dims[1:] and dims[1:] != sample_shape:
        raise ValueError(f"x: the dataset yields batches of samples of shape {dims[1:]}, the generator makes "
                         f"{sample_shape}")

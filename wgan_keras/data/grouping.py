"""Groups a dataset of real batches into the per-step input of `WGAN.train_step`."""
import random

import numpy as np
import tensorflow as tf

from wgan_keras.backends import plumbing
from wgan_keras.data.pipeline import check_finite, in_memory


def fit_batches(gan, x, y, batch_size, shuffle, validation_data):
    """`WGAN.fit`'s (x, validation_data) as grouped batches of n_critic: a dataset as it is, arrays `x`
    (and `y`, labels) batched by `batch_size` (default 64)."""
    if isinstance(x, (tf.data.Dataset, tf.distribute.DistributedDataset)):
        if batch_size is not None:
            raise ValueError("batch_size: a dataset is already batched; batch it with your m")
    else:
        check_finite(x, "x")
        x = array_batches(x if y is None else (x, y), batch_size or 64, shuffle, gan.num_classes)
        if validation_data is not None and not isinstance(validation_data, tf.data.Dataset):
            validation_data = array_batches(validation_data, batch_size or 64, False, gan.num_classes)
    if not isinstance(x, tf.distribute.DistributedDataset):  # else grouped by the worker that made it
        x = group_batches(x, gan.n_critic, plumbing.replicas_in_sync(gan), gan.num_classes, gan.sample_shape)
    return x, validation_data


def array_batches(x, batch_size, shuffle, num_classes=None):
    """An array of samples (or an (x, y) tuple) -> a dataset of batches of `batch_size`, dropping the rest.
    With `num_classes` (a conditional WGAN), x is (samples, labels) and batches are (samples, labels) pairs."""
    labels = None
    if isinstance(x, (tuple, list)):
        x, labels = x[0], (x[1] if len(x) > 1 else None)
    if x is None or not hasattr(x, "shape") or len(x) == 0:
        raise ValueError(f"x must be a non-empty array or a tf.data.Dataset, got {type(x).__name__}")
    if num_classes is not None:
        x = (x, check_labels(labels, len(x), num_classes))
    n, m = len(x[0]) if num_classes is not None else len(x), int(batch_size)
    if n < m:
        raise ValueError(f"batch_size={m} is larger than the {n} samples in x")
    x = tf.nest.map_structure(tf.convert_to_tensor, x)
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
    gather = lambda rows: tf.nest.map_structure(lambda t: tf.gather(t, rows), x)  # noqa: E731
    return in_memory(ds.map(epoch_batches).unbatch().map(gather))


def check_labels(labels, n, num_classes):
    """Class labels for n samples: ints in [0, num_classes), as int32 (n,); a one-line ValueError else."""
    if labels is None:
        raise ValueError(f"y: a conditional WGAN (num_classes={num_classes}) needs the class labels of x; "
                         f"pass fit(x=images, y=labels)")
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.dtype.kind not in "iu" or labels.shape != (n,):
        raise ValueError(f"y: expected {n} integer class labels, got shape {labels.shape} of {labels.dtype}")
    if n and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"y: labels must lie in [0, {num_classes - 1}], got [{labels.min()}, {labels.max()}]")
    return labels.astype(np.int32)


def group_batches(dataset, n_critic, replicas=1, num_classes=None, sample_shape=None):
    """Batches of m samples -> one element of n_critic * m samples per generator iteration.

    Each group holds n_critic consecutive batches, one per critic iteration. For
    `replicas` > 1 the group is laid out replica-major, so the split that
    tf.distribute makes along axis 0 hands replica r its m / replicas slice of
    every one of the n_critic batches: N replicas see the batches of one device.
    Batches of another size than the first (a final partial one) are dropped. With `num_classes` (a
    conditional WGAN) elements are (images, labels) and the labels are grouped alongside. With `sample_shape`
    (the model's) a dataset of single samples, or of other samples, is refused in one line.
    """
    spec = dataset.element_spec
    if num_classes is not None:
        if not isinstance(spec, (tuple, list)) or len(spec) < 2:
            raise ValueError(f"x: a conditional WGAN (num_classes={num_classes}) needs (images, labels) batches, "
                             f"got element_spec={spec}")
        if not spec[1].dtype.is_integer:
            raise ValueError(f"x: labels must be integer classes, got dtype {spec[1].dtype.name}")
        first = next(iter(dataset.take(1)), None)  # the usual mistake, in one line before the first step
        if first is not None:
            _in_range(first[1], num_classes, eager=True)
        dataset = dataset.map(lambda images, labels, *_: (images, _in_range(labels, num_classes)))
        return _group(dataset.map(lambda images, labels: {"images": images, "labels": labels}), spec[0],
                      n_critic, replicas, sample_shape)
    if isinstance(spec, (tuple, list)):  # (images, labels): an unconditional WGAN uses the images
        dataset = dataset.map(lambda *element: element[0])
        spec = spec[0]
    return _group(dataset.map(lambda images: {"images": images}), spec, n_critic, replicas, sample_shape)


def _in_range(labels, num_classes, eager=False):
    """Labels as int32 (m,), checked to lie in [0, num_classes): an embedding lookup would fail on them later
    with an InvalidArgumentError from GatherV2 naming neither the labels nor the classes."""
    labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
    message = f"y: labels must lie in [0, {num_classes - 1}]"
    if eager:
        values = labels.numpy()
        if values.size and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(f"{message}, got [{values.min()}, {values.max()}]")
        return labels
    tf.debugging.assert_non_negative(labels, message=message)
    tf.debugging.assert_less(labels, num_classes, message=message)
    return labels


def _group(dataset, spec, n_critic, replicas, sample_shape=None):
    """`group_batches` on {"images": ..., ["labels": ...]} elements."""
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
        m = int(first["images"].shape[0])
        dataset = dataset.filter(lambda b: tf.shape(b["images"])[0] == m)
    if m % replicas:
        raise ValueError(f"x: batch size m={m} must divide evenly over {replicas} replicas")
    dataset = dataset.batch(n_critic, drop_remainder=True)

    # Row order of the group (k, m, ...) flattened replica-major: replica r's slice of batch i lands at
    # r * k * m/replicas + i * m/replicas. A gather, not a transpose: oneDNN's int32 transpose (the labels)
    # prints an error line on TensorFlow's CPU builds; with one replica the order is the identity.
    per = m // replicas
    order = np.arange(n_critic * m).reshape(n_critic, replicas, per).transpose(1, 0, 2).reshape(-1)

    def replica_major(group):  # (k, m, ...) -> (replicas * k * m/replicas, ...)
        group = tf.reshape(group, tf.concat([[n_critic * m], tf.shape(group)[2:]], 0))
        return group if replicas == 1 else tf.gather(group, order)

    def element(group):  # images alone (as before labels existed), or an (images, labels) pair
        group = {name: replica_major(value) for name, value in group.items()}
        return group["images"] if len(group) == 1 else (group["images"], group["labels"])

    return dataset.map(element, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


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

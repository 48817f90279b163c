"""Image files streamed from disk: decoded in parallel as training asks for them, never all at once.

Order and resumption: epoch e visits the file list in the permutation `pipeline._order(n, seed, e)`,
cut to whole steps, exactly as the in-memory pipeline visits its array. A run that resumes at step s
of epoch e slices that permutation at s * m * n_critic *before* anything is read, so it decodes only
the files it trains on and sees the very batches an uninterrupted run would.

Sharding: each batch of m positions is cut into `workers` column slices of m / workers; worker w reads
slice w of every batch only. The shares are disjoint, cover the epoch, and together form the batches
one worker would have read: the global batch and the resume rule stay as they are.

A file that fails to read or decode (it turned bad, or disappeared, since indexing) takes the place of
another image of its own batch and is counted in `bad_files`; the batch keeps its size and position.
"""
import os

import numpy as np
import tensorflow as tf

from wgan_keras.data.pipeline import _order, scale_images, steps_per_epoch
from wgan_keras.data.sources import MAX_IMAGE_FILE, MAX_PIXELS

bad_files = [0]  # files skipped while training in this process (see `_replace_bad`)


def _pixels(data):
    """Height x width from a PNG or JPEG header, in-graph (0 when unknown: decode_image then decides)."""
    head = tf.cast(tf.io.decode_raw(tf.strings.substr(tf.strings.join([data, b"\0" * 24]), 0, 24), tf.uint8),
                   tf.int64)
    weights = tf.constant([1 << 24, 1 << 16, 1 << 8, 1], tf.int64)  # big-endian width and height
    png = tf.reduce_sum(head[16:20] * weights) * tf.reduce_sum(head[20:24] * weights)
    jpeg = tf.cond(tf.equal(tf.strings.substr(data, 0, 2), b"\xff\xd8"),
                   lambda: tf.reduce_prod(tf.cast(tf.image.extract_jpeg_shape(data)[:2], tf.int64)),
                   lambda: tf.constant(0, tf.int64))
    return tf.where(tf.equal(tf.strings.substr(data, 0, 8), b"\x89PNG\r\n\x1a\n"), png, jpeg)


def fit_image(image, size, channels):
    """uint8 (H, W, 3) -> (size, size, channels), as `sources.match_channels` then `sources.fit_to_size`."""
    if channels == 1:
        image = tf.cast(tf.clip_by_value(tf.round(tf.image.rgb_to_grayscale(tf.cast(image, tf.float32))), 0, 255),
                        tf.uint8)
    h, w = tf.shape(image)[0], tf.shape(image)[1]
    side = tf.minimum(h, w)

    def pad():
        top, left = (size - h) // 2, (size - w) // 2
        return tf.pad(image, [[top, size - h - top], [left, size - w - left], [0, 0]])

    def crop_resize():
        square = tf.image.crop_to_bounding_box(image, (h - side) // 2, (w - side) // 2, side, side)
        resized = tf.cond(side > size, lambda: tf.image.resize(square, (size, size), method="area"),
                          lambda: tf.image.resize(square, (size, size), method="bilinear"))
        return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)

    small = (h <= size) & (w <= size) & (size - side <= size // 8)
    image = tf.cond(small, pad, crop_resize)
    return tf.ensure_shape(image, (size, size, channels))


def _load(path, size, channels):
    data = tf.io.read_file(path)
    tf.debugging.assert_less_equal(tf.strings.length(data), MAX_IMAGE_FILE)
    tf.debugging.assert_less_equal(_pixels(data), tf.constant(MAX_PIXELS, tf.int64))
    # RGB first, then the run's channels: libjpeg cannot turn CMYK into grey
    return fit_image(tf.io.decode_image(data, channels=3, expand_animations=False), size, channels)


def decode_batch(paths, size, channels):
    """A dataset of one element: the files `paths` decoded in parallel, uint8 (k, size, size, channels), and
    which of them could be read (bool (k,)); a row that could not holds zeros.

    A dataset per batch, not per file: tf.data's `ignore_errors` is the only way to survive a decode
    error in-graph, and a dataset per file costs 4-5x the decode of a 64x64 JPEG."""
    rows = tf.shape(paths)[0]
    files = tf.data.Dataset.from_tensor_slices((paths, tf.range(rows)))
    # A fixed parallelism: AUTOTUNE would start each batch's little pipeline over from one thread (2.5x slower)
    good = files.map(lambda p, i: (_load(p, size, channels), i), num_parallel_calls=os.cpu_count() or 2,
                     deterministic=True).ignore_errors().batch(MAX_IMAGE_FILE)
    none = tf.data.Dataset.from_tensors((tf.zeros((0, size, size, channels), tf.uint8), tf.zeros([0], tf.int32)))

    def scatter(images, at):  # rows at `at` (ascending) hold images, the others zeros
        ok = tf.scatter_nd(at[:, None], tf.ones_like(at, tf.bool), [rows])
        images = tf.concat([images, tf.zeros((1, size, size, channels), tf.uint8)], 0)
        where = tf.where(ok, tf.cumsum(tf.cast(ok, tf.int32), exclusive=True), tf.shape(at)[0])
        return tf.gather(images, where), ok

    return good.concatenate(none).take(1).map(scatter)


def decoded(path_batches, size, channels):
    """Batches of path strings -> (images, ok) batches, in order, several decoded at once."""
    return path_batches.interleave(lambda p: decode_batch(p, size, channels), cycle_length=2, num_parallel_calls=2,
                                   deterministic=True)


def _count(n):
    bad_files[0] += int(n)
    return np.int64(bad_files[0])


def _replace_bad(images, ok):
    """Rows that failed take a good row of the same batch; a batch without one cannot be trained on."""
    rows = tf.shape(ok)[0]
    good = tf.cast(tf.where(ok)[:, 0], tf.int32)
    tf.debugging.assert_positive(tf.size(good), message="images: no file of a batch could be read (was the "
                                                        "folder moved or deleted?)")
    missing = rows - tf.size(good)
    tf.cond(missing > 0, lambda: tf.py_function(_count, [missing], tf.int64), lambda: tf.constant(0, tf.int64))
    source = tf.where(ok, tf.range(rows), tf.gather(good, tf.math.floormod(tf.range(rows), tf.size(good))))
    return tf.gather(images, source)


def positions(n, batch_size, n_critic, seed, first_epoch, first_step, num_steps, worker=0, workers=1):
    """File positions, batch by batch, of steps [first_step, first_step + num_steps) counted from the
    start of `first_epoch` (they may run on into later epochs); worker w's share of every batch."""
    spe, per_step = steps_per_epoch(n, batch_size, n_critic), batch_size * n_critic
    if batch_size % workers:
        raise ValueError(f"batch_size={batch_size} must divide evenly over {workers} workers")
    first_epoch, first_step = first_epoch + first_step // spe, first_step % spe
    last_epoch = first_epoch + (first_step + num_steps - 1) // spe

    def epoch_positions(e):
        start = tf.where(tf.equal(e, first_epoch), first_step * per_step, 0)
        return tf.data.Dataset.from_tensor_slices(_order(n, seed, e)[start:spe * per_step])

    share = batch_size // workers
    order = tf.data.Dataset.range(first_epoch, last_epoch + 1).flat_map(epoch_positions)
    return (order.take(num_steps * per_step).batch(batch_size, drop_remainder=True)
            .map(lambda b: b[worker * share:(worker + 1) * share]))


def stream(index, size, channels, batch_size, n_critic, seed, first_epoch, first_step, num_steps, worker=0,
           workers=1):
    """Batches of m / workers images scaled to [-1, 1] (with labels: (images, labels) pairs) for the
    steps `positions` names, read from the files of a `files.FileIndex`."""
    paths = tf.constant(index.paths)
    labels = None if index.labels is None else tf.constant(index.labels)
    root = tf.constant(index.root.rstrip("/") + "/")
    at = positions(len(index), batch_size, n_critic, seed, first_epoch, first_step, num_steps, worker, workers)
    files = at.map(lambda i: tf.strings.join([root, tf.gather(paths, i)]))
    shape = (batch_size // workers, size, size, channels)  # static: tf.distribute splits batches of known size
    images = decoded(files, size, channels).map(lambda x, ok: tf.ensure_shape(scale_images(_replace_bad(x, ok)),
                                                                               shape))
    if labels is not None:
        images = tf.data.Dataset.zip(images, at.map(lambda i: tf.gather(labels, i)))
    # A known length: Keras under tf.distribute counts an epoch of unknown length as one step
    return images.apply(tf.data.experimental.assert_cardinality(num_steps * n_critic)).prefetch(tf.data.AUTOTUNE)


def load_all(index, size, channels):
    """Every file of the index decoded once, in parallel, into uint8 (N, size, size, channels), the labels
    of those that decoded (None without classes), and the paths of those that did not."""
    paths = tf.data.Dataset.from_tensor_slices(tf.strings.join([index.root.rstrip("/") + "/", index.paths]))
    out, oks = [], []
    for images, ok in decoded(paths.batch(256), size, channels).as_numpy_iterator():
        out.append(images[ok])
        oks.append(ok)
    ok = np.concatenate(oks)
    labels = None if index.labels is None else index.labels[ok]
    return np.concatenate(out), labels, [index.paths[i] for i in np.flatnonzero(~ok)]

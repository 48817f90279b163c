"""The run's image data: held in memory where it fits, streamed from disk where it does not.

`open_images` and `open_tfds` decide once, print the decision and its reason, and return either an
in-memory uint8 array (the path the bundled digits always take) or a `Streamed` source that
`pipeline.epoch_dataset` / `epochs_dataset` turn into a tf.data pipeline reading only the files of the
steps asked for. Both visit epoch e in the order of the same stateless (seed, e) permutation.
"""
import os
import warnings

import numpy as np
import tensorflow as tf

from wgan_keras.data import stream
from wgan_keras.data.files import index_folder
from wgan_keras.data.labels import load_labeled_data
from wgan_keras.data.pipeline import _order, check_array, scale_images, steps_per_epoch
from wgan_keras.data.sources import load_data

CACHE_BYTES = 256 << 20  # decoded images up to this size are decoded once and kept in memory
# Folders of more files stream: decoding them all up front (about 1 ms a file on a shared core) would
# delay every start and every resume by more than streaming costs over a whole run.
CACHE_FILES = 8192
BLOCK = 4096  # TFDS records shuffled within blocks of this many (about 50 MB of 64x64 JPEG records)


def cache_limit():
    """CACHE_BYTES, or a quarter of the memory still available when that is less."""
    from wgan_keras.memory import available_bytes
    free = available_bytes()
    return CACHE_BYTES if free is None else min(CACHE_BYTES, free // 4)


def _mb(n):
    return f"{n / 1e6:,.0f} MB" if n >= 1e6 else f"{n / 1e6:.1f} MB"


class Streamed:
    """Images streamed from a file list (`index`) or from TFDS records (`records`) at size x size x channels."""

    ndim = 4

    def __init__(self, n, size, channels, index=None, records=None, classes=None):
        self.n, self.shape = n, (n, size, size, channels)
        self.index, self.records, self.classes = index, records, classes

    def __len__(self):
        return self.n

    def dataset(self, batch_size, n_critic, seed, first_epoch, first_step, num_steps):
        """Batches of m (with classes: (images, labels)) for steps [first_step, first_step + num_steps) from the
        start of `first_epoch`; under multi-worker training each worker reads its own share (see `stream`)."""
        make = lambda worker=0, workers=1: self._share(batch_size, n_critic, seed, first_epoch, first_step,  # noqa
                                                        num_steps, worker, workers)
        strategy = tf.distribute.get_strategy()
        workers = getattr(strategy.extended, "_num_workers", 1)
        if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and workers > 1:
            from wgan_keras.data.grouping import group_batches
            local = strategy.num_replicas_in_sync // workers
            num_classes = None if self.classes is None else len(self.classes)
            return strategy.distribute_datasets_from_function(lambda ctx: group_batches(
                make(ctx.input_pipeline_id, ctx.num_input_pipelines), n_critic, local, num_classes))
        return make(*_jax_process())

    def _share(self, batch_size, n_critic, seed, first_epoch, first_step, num_steps, worker, workers):
        size, channels = self.shape[1], self.shape[3]
        if self.index is not None:
            return stream.stream(self.index, size, channels, batch_size, n_critic, seed, first_epoch, first_step,
                                 num_steps, worker, workers)
        return _tfds_stream(self, batch_size, n_critic, seed, first_epoch, first_step, num_steps, worker, workers)


def _jax_process():
    """(this process, processes) under a multi-process keras.distribution that leaves sharding to the data
    (auto_shard_dataset=False); (0, 1) otherwise, where Keras shards a global dataset itself."""
    import keras
    distribution = keras.distribution.distribution()
    if distribution is None or getattr(distribution, "auto_shard_dataset", True) \
            or not getattr(distribution, "_is_multi_process", False):
        return 0, 1
    import jax
    return jax.process_index(), jax.process_count()


def open_images(folder, size, channels, conditional=False, log=None, limit=None):
    """uint8 (N, size, size, channels) images (with `conditional`: (images, labels, classes)) of a folder, or
    a `Streamed` source for it when its decoded images would not fit in the cache."""
    index = index_folder(folder, conditional, log)
    need, limit = len(index) * size * size * channels, cache_limit() if limit is None else limit
    if need > limit or len(index) > CACHE_FILES:
        if index.special:
            warnings.warn(f"images: skipped {len(index.special)} entries that are not regular files (first: "
                          f"{os.path.join(folder, index.special[0])})", stacklevel=3)
        why = f"{_mb(need)} decoded is over the cache limit of {_mb(limit)}" if need > limit else \
            f"decoding over {CACHE_FILES:,} files at every start and resume would cost more than streaming"
        _say(log, f"data: streaming {len(index):,} files from {folder}, decoded in parallel as training reads "
                  f"them; not cached: {why}")
        return Streamed(len(index), size, channels, index=index, classes=index.classes)
    images, labels, bad = stream.load_all(index, size, channels)
    if not len(images):
        raise ValueError(f"images={folder!r}: none of its {len(index)} image files could be decoded")
    bad = [os.path.join(folder, p) for p in index.special + bad]
    if bad:  # as sources.load_folder words it
        warnings.warn(f"images: skipped {len(bad)} of {len(index) + len(index.special)} files that could not be "
                      f"decoded or are not regular files (first: {bad[0]})", stacklevel=3)
    _say(log, f"data: {len(images):,} images from {folder} decoded once and cached in memory ({_mb(images.nbytes)}, "
              f"within the cache limit of {_mb(limit)} and {CACHE_FILES:,} files)")
    return (images, labels, index.classes) if conditional else images


def _say(log, line):
    if log:
        log(line)


def tfds_records(builder, split):
    """(file paths, examples) of a prepared TFDS split stored as TFRecord files; None for other formats."""
    info = builder.info.splits[split]
    if str(getattr(builder.info, "file_format", "tfrecord")).split(".")[-1].lower() != "tfrecord":
        return None
    paths = [str(p) for p in info.filepaths]
    return (paths, int(info.num_examples)) if paths and info.num_examples else None


def _tfds_stream(source, batch_size, n_critic, seed, first_epoch, first_step, num_steps, worker, workers):
    """TFDS records in epoch order: the split's shards permuted by (seed, e), records shuffled within blocks of
    BLOCK by (seed, e, block); a resumed run skips the serialized records it has trained on, undecoded."""
    paths, features, labelled = source.records
    n, size, channels = source.shape[0], source.shape[1], source.shape[3]
    spe, per_step = steps_per_epoch(n, batch_size, n_critic), batch_size * n_critic
    first_epoch, first_step = first_epoch + first_step // spe, first_step % spe
    last_epoch = first_epoch + (first_step + num_steps - 1) // spe
    paths = tf.constant(paths)

    def epoch_records(e):
        shards = tf.gather(paths, _order(len(source.records[0]), seed, e))
        blocks = tf.data.TFRecordDataset(shards).batch(BLOCK).enumerate()
        shuffle = lambda k, b: tf.gather(b, _order(tf.shape(b)[0], seed, e * (1 << 24) + k))  # noqa: E731
        records = blocks.map(shuffle).unbatch().take(spe * per_step)
        return records.skip(tf.where(tf.equal(e, first_epoch), tf.constant(first_step * per_step, tf.int64), 0))

    share = batch_size // workers
    records = tf.data.Dataset.range(first_epoch, last_epoch + 1).flat_map(epoch_records).take(num_steps * per_step)
    records = records.batch(batch_size, drop_remainder=True).map(lambda b: b[worker * share:(worker + 1) * share])

    def decode(record):
        example = features.deserialize_example(record)
        image = example["image"]
        image = tf.image.grayscale_to_rgb(image) if image.shape[-1] == 1 else image
        image = stream.fit_image(image, size, channels)
        return (image, tf.cast(example["label"], tf.int32)) if labelled else image

    examples = records.unbatch().map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    batches = examples.batch(share, drop_remainder=True).apply(tf.data.experimental.assert_cardinality(
        num_steps * n_critic))  # a known length: Keras under tf.distribute counts an unknown one as one step
    if labelled:
        return batches.map(lambda x, y: (scale_images(x), y)).prefetch(tf.data.AUTOTUNE)
    return batches.map(scale_images).prefetch(tf.data.AUTOTUNE)


def open_tfds(name, data_dir, download, size, channels, conditional=False, log=None, limit=None):
    """A TFDS split's images (and labels) in memory as `sources.load_tfds` gives them, or a `Streamed`
    source over its prepared TFRecord files when the decoded split would not fit in the cache."""
    from wgan_keras.data import sources
    builder = sources.tfds_builder(name, data_dir)
    feature = builder.info.features["image"] if "image" in builder.info.features else None
    records = tfds_records(builder, "train") if builder.data_path and _prepared(builder) else None
    shape = getattr(feature, "shape", None)
    if records is None or shape is None or None in shape[:2]:
        return None
    size = size or sources._natural_size(np.zeros((1,) + tuple(shape[:2]) + (1,)))
    channels = channels or shape[2]
    limit = cache_limit() if limit is None else limit
    need = records[1] * size * size * channels
    if need <= limit:
        return None
    if conditional and "label" not in builder.info.features:
        raise ValueError(f"conditional: dataset={name!r} has no 'label' feature to condition on; drop --conditional")
    names = getattr(builder.info.features["label"], "names", None) if conditional else None
    _say(log, f"data: streaming the {records[1]:,} examples of {name} from their {len(records[0])} TFRecord files, "
              f"decoded in parallel as training reads them; not cached: {_mb(need)} decoded is over the cache limit "
              f"of {_mb(limit)}")
    return Streamed(records[1], size, channels, records=(records[0], builder.info.features, conditional),
                    classes=list(names) if conditional else None)


def _prepared(builder):
    try:
        return builder.is_prepared()
    except Exception:  # an unreadable data_dir: load_tfds says so in its own words
        return False


def load_run_data(config, log=None):
    """(images, labels, class names) of a `train` run, checked; labels and names are None unless --conditional.
    A folder or TFDS dataset too large for memory comes as a `Streamed` source, read as training goes."""
    where = "dataset" if config.images is None else "images"
    opened = open_data(config, log)
    if opened is not None:
        data, labels, classes = opened
        return (data if isinstance(data, Streamed) else check_array(data, where)), labels, classes
    if not config.conditional:
        return check_array(load_data(config), where), None, None
    images, labels, classes = load_labeled_data(config)
    return check_array(images, where), labels, classes


def open_data(config, log=None):
    """(data, labels, classes) of a folder or TFDS run (`Streamed`, or arrays as `load_data` gives them);
    None for the bundled digits and the 2-D toys, which are always in memory."""
    from wgan_keras.choices import BUNDLED
    size, channels = config.resolved_image_size, config.resolved_channels
    if config.images:
        data = open_images(config.images, size, channels, config.conditional, log)
        if isinstance(data, Streamed):
            return data, None, data.classes
        return data if config.conditional else (data, None, None)
    if config.is_toy or config.resolved_dataset == BUNDLED:
        return None
    data = open_tfds(config.dataset, config.data_dir, config.download, config.image_size, config.channels,
                     config.conditional, log)
    if data is not None:
        return data, None, data.classes
    _say(log, f"data: {config.dataset} read into memory (its decoded images fit the cache limit of "
              f"{_mb(cache_limit())}, or it is not stored as TFRecord files)")
    if config.conditional:
        return load_labeled_data(config)
    return load_data(config), None, None

"""Where training data comes from: the bundled MNIST subset, TFDS, image folders, 2-D toys.

Every loader returns one in-memory array: uint8 (N, S, S, C) images already at
the model's size, or float32 (N, 2) toy points. Keeping the data in memory is
what makes resumption exact (see `pipeline.epoch_dataset`).
"""
import os
import re
import stat
import warnings

import numpy as np
import tensorflow as tf

from wgan_edge.cli import first_line
from wgan_keras.choices import BUNDLED, IMAGE_SIZES
from wgan_keras.data.toys import TOYS, sample_toy

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
TFDS_NAME = re.compile(r"^[a-z][a-z0-9_]*(/[a-z0-9_.]+)?(:[0-9.*]+)?$")
MAX_IMAGE_FILE = 64 << 20  # bytes: no PNG/JPEG of a training image is larger; a bigger "image" is not one
MAX_PIXELS = 1 << 26  # 8192 x 8192: a larger picture is refused before it is decoded (decompression bombs)
TOY_POOL = 65536  # toy points drawn once per run (seeded) and reused every epoch


def load_bundled():
    """The 4000 MNIST digits shipped with the package: uint8 (4000, 28, 28, 1)."""
    with np.load(os.path.join(os.path.dirname(__file__), "mnist_4k.npz")) as f:
        return f["images"][..., None]


def check_tfds_protos():
    """One line instead of a protobuf VersionError from `import tensorflow_datasets`: tensorflow-metadata 1.18+
    is generated for protobuf >= 6.31 without declaring it, and TF < 2.20 keeps protobuf < 6 (setup.cfg caps
    it below 1.18; an environment set up otherwise still gets here). Reads versions only, imports nothing."""
    from importlib.metadata import PackageNotFoundError, version
    try:
        metadata, protobuf = version("tensorflow-metadata"), version("protobuf")
    except PackageNotFoundError:
        return
    release = lambda v: tuple(int(p) for p in re.findall(r"\d+", v)[:2])  # noqa: E731
    if release(metadata) >= (1, 18) and release(protobuf) < (6, 31):
        raise ValueError(f"tensorflow-metadata {metadata} needs protobuf >= 6.31 and this environment has "
                         f"{protobuf} (TensorFlow < 2.20 keeps it below 6): pip install 'tensorflow-metadata<1.18'")


def load_tfds(name, data_dir=None, download=False, split="train", with_labels=False):
    """uint8 (N, H, W, C) images of TFDS dataset `name` (its "image" feature); `with_labels`:
    (images, int32 labels (N,), class names) from its "label" feature too."""
    tfds = tfds_builder(name, data_dir, builder=False)
    try:
        ds = tfds.load(name, split=split, data_dir=data_dir, download=download)
    except Exception as e:  # TFDS raises AssertionError, ImportError, network errors, ...
        why = "is not prepared there" if not download else \
            f"could not be downloaded ({type(e).__name__}: {first_line(e)[:160]})"
        raise ValueError(f"dataset={name!r}: TFDS data {why} (data_dir={data_dir!r}); ways out: --data_dir DIR "
                         f"with prepared TFDS data, --images FOLDER, or --dataset {BUNDLED} (bundled, offline)"
                         ) from None
    if "image" not in ds.element_spec:
        raise ValueError(f"dataset={name!r} has no 'image' feature (features: {sorted(ds.element_spec)})")
    if with_labels and "label" not in ds.element_spec:
        raise ValueError(f"conditional: dataset={name!r} has no 'label' feature to condition on (features: "
                         f"{sorted(ds.element_spec)}); drop --conditional")
    batches = [(b["image"], b["label"] if with_labels else None) for b in ds.batch(1024).as_numpy_iterator()]
    if not batches:
        raise ValueError(f"dataset={name!r}: split {split!r} is empty")
    images = np.concatenate([b[0] for b in batches])
    if not with_labels:
        return images
    names = getattr(tfds.builder(name, data_dir=data_dir).info.features["label"], "names", None)
    labels = np.concatenate([b[1] for b in batches]).astype(np.int32)
    return images, labels, list(names) if names else [str(c) for c in range(int(labels.max()) + 1)]


def tfds_builder(name, data_dir=None, builder=True):
    """TFDS's builder of dataset `name` (with builder=False: the tensorflow_datasets module, once the name is
    known to it); a one-line ValueError for a name TFDS does not know."""
    if not TFDS_NAME.match(name):  # TFDS would answer in its own words, after seconds of imports
        raise ValueError(f"dataset={name!r} is neither bundled ({BUNDLED}), a toy {TOYS} nor a TFDS dataset name "
                         f"(lower-case letters, digits, _ and an optional /config:version)")
    check_tfds_protos()
    import tensorflow_datasets as tfds  # slow import: only when asked for
    try:
        found = tfds.builder(name, data_dir=data_dir)
    except tfds.core.registered.DatasetNotFoundError:
        raise ValueError(f"dataset={name!r} is neither bundled ({BUNDLED}), a toy {TOYS} nor a TFDS dataset") from None
    except Exception as e:  # AssertionError "... cannot be loaded at version 9.9.9, only: 3.0.1."
        versions = re.search(r"cannot be loaded at version \S+, only: (.+?)\.?$", first_line(e))
        raise ValueError(f"dataset={name!r}: " + (f"TFDS has no such version; it has {versions.group(1)}" if versions
                                                  else f"TFDS refused it ({first_line(e)[:200]})")) from None
    return found if builder else tfds


def _image_files(folder):
    """Image paths under `folder`, and the sub-folders that could not be read."""
    unreadable = []
    paths = sorted(os.path.join(root, f) for root, _, files in os.walk(folder, onerror=unreadable.append)
                   for f in files if f.lower().endswith(IMAGE_EXTENSIONS))
    return paths, [getattr(e, "filename", None) or str(e) for e in unreadable]


def _read_image_file(path):
    """The bytes of a regular file of sane size; None for a named pipe, a device, a socket (reading
    one would hang or never end) or a file too large to be an image."""
    try:
        info = os.stat(path)  # follows links: a link to /dev/zero is a device
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_IMAGE_FILE:
        return None
    with open(path, "rb") as f:
        return f.read(MAX_IMAGE_FILE + 1)


def _pixels(data):
    """Height x width from the file's header, without decoding it (0 when unknown)."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big") * int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8":
        try:
            height, width, _ = tf.image.extract_jpeg_shape(data).numpy()
            return int(height) * int(width)
        except tf.errors.OpError:
            return 0
    return 0


def load_folder(folder, image_size, channels):
    """All PNG/JPEG files under `folder` (recursively), decoded to `channels` and fit
    to `image_size` x `image_size`: uint8 (N, S, S, C).

    A corrupt or unreadable file among good ones, and anything that is not a regular file, is skipped
    and counted, with a single warning naming the first; a folder without one readable image is an error.
    """
    if not os.path.isdir(folder):
        raise ValueError(f"images={folder!r} is not a directory")
    paths, unreadable = _image_files(folder)
    if not paths:
        where = f" (could not read {unreadable[0]})" if unreadable else ""
        raise ValueError(f"images={folder!r} holds no {'/'.join(IMAGE_EXTENSIONS)} files{where}")
    images, bad = [], []
    for path in paths:
        try:
            data = _read_image_file(path)
            if data is None or _pixels(data) > MAX_PIXELS:
                raise ValueError("not a regular image file, or a decompression bomb")
            # Decoded as RGB, then given the run's channels: libjpeg cannot turn CMYK into grey (it prints
            # "Unsupported color conversion request" on stderr and fails); grey+alpha, palette and 16-bit
            # PNGs decode to 8-bit RGB too.
            image = tf.io.decode_image(data, channels=3, expand_animations=False).numpy()[None]
            images.append(fit_to_size(match_channels(image, channels), image_size)[0])
        except (tf.errors.OpError, OSError, ValueError):
            bad.append(path)
    if not images:
        raise ValueError(f"images={folder!r}: none of its {len(paths)} image files could be decoded")
    if bad or unreadable:
        warnings.warn(f"images: skipped {len(bad)} of {len(paths)} files that could not be decoded or are not "
                      f"regular files (first: {(bad or unreadable)[0]})", stacklevel=2)
    return np.stack(images)


def load_toy(name, seed):
    return sample_toy(name, TOY_POOL, seed)


def fit_to_size(images, size):
    """uint8 (N, H, W, C) -> (N, size, size, C).

    Slightly smaller images are zero-padded (MNIST 28 -> 32, as in the paper's
    DCGAN runs: no interpolation blur); others are centre-cropped to a square and
    resized with area averaging (antialiased downscaling).
    """
    n, h, w, _ = images.shape
    if h == w == size:
        return images
    if h <= size and w <= size and size - min(h, w) <= size // 8:
        top, left = (size - h) // 2, (size - w) // 2
        return np.pad(images, [(0, 0), (top, size - h - top), (left, size - w - left), (0, 0)])
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    images = images[:, top:top + side, left:left + side]
    resized = tf.image.resize(images, (size, size), method="area" if side > size else "bilinear")
    return np.clip(np.rint(resized.numpy()), 0, 255).astype(np.uint8)


def match_channels(images, channels):
    """uint8 (N, H, W, 1|3) -> (N, H, W, channels): grey tiled to RGB, RGB to luma."""
    c = images.shape[-1]
    if c == channels:
        return images
    if c == 1 and channels == 3:
        return np.repeat(images, 3, axis=-1)
    if c == 3 and channels == 1:
        return np.rint(tf.image.rgb_to_grayscale(images).numpy()).astype(np.uint8)
    raise ValueError(f"channels: cannot turn {c}-channel images into channels={channels}")


def load_data(config):
    """The run's training array for a validated `TrainConfig` (see module doc)."""
    if config.is_toy:
        return load_toy(config.resolved_dataset, config.seed)
    if config.images:
        return load_folder(config.images, config.resolved_image_size, config.resolved_channels)
    images = load_bundled() if config.resolved_dataset == BUNDLED else \
        load_tfds(config.dataset, config.data_dir, config.download)
    images = match_channels(images, config.channels or images.shape[-1])
    return fit_to_size(images, config.image_size or _natural_size(images))


def _natural_size(images):
    """The model size for data of unknown --image_size: its own if supported, else the nearest."""
    side = min(images.shape[1:3])
    return side if side in IMAGE_SIZES else min(IMAGE_SIZES, key=lambda s: abs(s - side))

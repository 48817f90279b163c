"""Class labels for conditional training (`wgan-train --conditional`): the bundled digits' labels,
a TFDS dataset's "label" feature, or an image folder with one subfolder per class.

Every loader returns (images, labels, classes): the same uint8 images `sources.load_data` gives, int32
labels (N,) in [0, len(classes)), and the class names, label i being classes[i].
"""
import os

import numpy as np

from wgan_keras.data import sources


def load_labeled_data(config):
    """(images, labels, classes) of a validated `TrainConfig` with conditional=True."""
    if config.is_toy:  # also refused by TrainConfig.validate; here for callers that skip it
        raise ValueError(f"conditional: the 2-D toy dataset={config.dataset!r} has no class labels; "
                         f"drop --conditional")
    if config.images:
        return load_class_folders(config.images, config.resolved_image_size, config.resolved_channels)
    if config.resolved_dataset == sources.BUNDLED:
        images, labels, classes = load_bundled_labeled()
    else:
        images, labels, classes = sources.load_tfds(config.dataset, config.data_dir, config.download,
                                                    with_labels=True)
    images = sources.match_channels(images, config.channels or images.shape[-1])
    return sources.fit_to_size(images, config.image_size or sources._natural_size(images)), labels, classes


def load_bundled_labeled():
    """The bundled 4,000 digits with their labels (400 per class) and the class names "0".."9"."""
    with np.load(os.path.join(os.path.dirname(sources.__file__), "mnist_4k.npz")) as f:
        images, labels = f["images"][..., None], f["labels"].astype(np.int32)
    return images, labels, [str(c) for c in range(10)]


def class_folders(folder):
    """The class subfolders of `folder`, sorted by name as keras.utils.image_dataset_from_directory
    orders its classes (label i is the i-th name)."""
    if not os.path.isdir(folder):
        raise ValueError(f"images={folder!r} is not a directory")
    names = sorted(d for d in os.listdir(folder)  # hidden ones (.ipynb_checkpoints) are no class, as in Keras
                   if not d.startswith(".") and os.path.isdir(os.path.join(folder, d)))
    if not names:
        raise ValueError(f"conditional: images={folder!r} has no class subfolders (one folder per class, as "
                         f"keras.utils.image_dataset_from_directory reads them), so no labels; drop --conditional")
    if len(names) < 2:
        raise ValueError(f"conditional: images={folder!r} has one class subfolder ({names[0]!r}); a conditional "
                         f"model needs at least 2 classes; drop --conditional")
    return names


def load_class_folders(folder, image_size, channels):
    """(images, labels, classes) of a folder with one subfolder per class; each subfolder is read as
    `sources.load_folder` reads a folder (recursively, unreadable files skipped with a warning).
    Images directly in `folder` belong to no class and are left out, as image_dataset_from_directory does."""
    classes = class_folders(folder)
    images, labels = [], []
    for label, name in enumerate(classes):
        images.append(sources.load_folder(os.path.join(folder, name), image_size, channels))
        labels.append(np.full(len(images[-1]), label, np.int32))
    return np.concatenate(images), np.concatenate(labels), classes

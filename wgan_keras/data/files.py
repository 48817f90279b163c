"""The file list of an image folder, and what a workdir remembers of it.

A folder is indexed once per start: its image files (recursively, hidden files and folders such as
`.ipynb_checkpoints/` left out, as keras.utils.image_dataset_from_directory leaves them out) in a fixed
order, directory by directory, names sorted. Nothing is decoded here; epoch e's order is a permutation
of this list keyed by (seed, e), so the list is all that exact resumption needs to agree on.
"""
import json
import os
import warnings

import numpy as np

from wgan_keras.data.labels import class_folders

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")
PROGRESS_EVERY = 50_000  # files between two "indexed N files" lines: a large folder takes seconds to list
DATA = "data.json"  # in the workdir: the file count of the folder the run was started on


class FileIndex:
    """`paths` (str, relative to `root`, in list order) and, for class folders, `labels` and `classes`;
    `special`: image-named entries that are not regular files (left out)."""

    def __init__(self, root, paths, labels=None, classes=None, special=()):
        self.root, self.paths, self.labels, self.classes, self.special = root, paths, labels, classes, list(special)

    def __len__(self):
        return len(self.paths)


def _walk(root, prefix, paths, unreadable, special, log):
    """Appends the image files under root/prefix to `paths` (depth first, names sorted)."""
    stack = [prefix]
    while stack:
        sub = stack.pop()
        try:
            with os.scandir(os.path.join(root, sub) if sub else root) as it:
                entries = sorted((e for e in it if not e.name.startswith(".")), key=lambda e: e.name)
        except OSError as e:
            unreadable.append(getattr(e, "filename", None) or str(e))
            continue
        folders = []
        for entry in entries:
            name = os.path.join(sub, entry.name) if sub else entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    folders.append(name)
                elif not entry.name.lower().endswith(IMAGE_EXTENSIONS):
                    continue
                # is_file() follows links: a link to a device or a named pipe (reading one never ends) stays out
                elif not entry.is_file():
                    special.append(name)
                else:
                    paths.append(name)
                    if log and len(paths) % PROGRESS_EVERY == 0:
                        log(f"indexed {len(paths):,} files…")
            except OSError:
                unreadable.append(name)
        stack.extend(reversed(folders))


def index_folder(folder, conditional=False, log=None):
    """The `FileIndex` of `folder`; with `conditional` one class per subfolder, named and ordered as
    image_dataset_from_directory names them (files directly in `folder` belong to no class)."""
    if not os.path.isdir(folder):
        raise ValueError(f"images={folder!r} is not a directory")
    paths, labels, unreadable, special = [], [], [], []
    classes = class_folders(folder) if conditional else None
    for label, name in enumerate(classes or [""]):
        before = len(paths)
        _walk(folder, name, paths, unreadable, special, log)
        labels.append(np.full(len(paths) - before, label, np.int32))
    if not paths:
        where = f" (could not read {unreadable[0]})" if unreadable else ""
        raise ValueError(f"images={folder!r} holds no {'/'.join(IMAGE_EXTENSIONS)} files{where}")
    if conditional:
        empty = [c for c, n in zip(classes, labels) if not len(n)]
        if empty:
            raise ValueError(f"conditional: class folder {empty[0]!r} under images={folder!r} holds no image files")
    if unreadable:
        warnings.warn(f"images: skipped {len(unreadable)} entries that could not be read (first: {unreadable[0]})",
                      stacklevel=2)
    if log and len(paths) >= PROGRESS_EVERY and len(paths) % PROGRESS_EVERY:  # the total, unless just said
        log(f"indexed {len(paths):,} files")
    return FileIndex(folder, paths, np.concatenate(labels) if conditional else None, classes, special)


def check_changed(workdir, count, resuming):
    """One line when the folder's file count differs from the one the run started on (None if not).

    The run continues on the new list rather than refusing: the checkpoint's position stays meaningful
    (a count of iterations), and a folder that grew or lost a few files should not strand a long run;
    only the order of the epochs from here differs from an uninterrupted run's."""
    path = os.path.join(workdir, DATA)
    try:
        with open(path) as f:
            before = int(json.load(f)["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not resuming or before == count:
        return None
    return (f"images: the folder held {before:,} image files at the last start of this run and holds {count:,} now; "
            f"continuing on the new list (epochs from here are ordered over it, not as an uninterrupted run's)")


def record(workdir, count):
    """Remembers the folder's file count for `check_changed` on a later resume."""
    with open(os.path.join(workdir, DATA), "w") as f:
        json.dump({"files": int(count)}, f)

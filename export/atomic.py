"""Write-then-rename file publishing, so a crash or a full disk never leaves a
half-written file where a good one was. Standard library only (the edge sampler uses it)."""
import contextlib
import os
import shutil
import tempfile


@contextlib.contextmanager
def atomic_path(path, overwrite=True):
    """Yields a temporary path beside `path`; on success renames it onto `path`.

    On any error the temporary file or folder is removed and `path` keeps its
    previous content. Works for files and directories (e.g. a SavedModel).
    """
    path = os.path.abspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists; pass overwrite to replace it")
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp_dir = tempfile.mkdtemp(prefix=".tmp-" + os.path.basename(path) + "-", dir=parent)
    tmp = os.path.join(tmp_dir, os.path.basename(path))
    try:
        yield tmp
        if not os.path.exists(tmp):
            raise OSError(f"nothing was written for {path}")
        if os.path.isdir(tmp):
            _fsync_tree(tmp)
            if os.path.isdir(path):  # a directory cannot be renamed over a non-empty one
                old = path + ".old-" + os.path.basename(tmp_dir)
                os.rename(path, old)
                os.rename(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        else:
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, path)
        _fsync_dir(parent)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def write_bytes(path, data, overwrite=True):
    """Atomically writes `data` to `path`; returns `path`."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return path


def _fsync_tree(root):
    for folder, _, files in os.walk(root):
        for name in files:
            with open(os.path.join(folder, name), "rb") as f:
                os.fsync(f.fileno())


def _fsync_dir(folder):
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

"""Write-then-rename file publishing, so a crash or a full disk never leaves a
half-written file where a good one was. Standard library only (the edge sampler uses it).

Temporaries are folders named `.wgan-keras-tmp-<name>-<random>` holding an owner file with
the writing process's pid and host: `remove_stale` deletes only folders that carry that
file and whose process is gone, never a user's own `.tmp-...` entry.
"""
import contextlib
import errno
import os
import shutil
import socket
import tempfile

PREFIX = ".wgan-keras-tmp-"
OWNER = ".wgan-keras-owner"


def _make_temp_dir(parent, name):
    tmp_dir = tempfile.mkdtemp(prefix=f"{PREFIX}{name}-", dir=parent)
    try:
        with open(os.path.join(tmp_dir, OWNER), "w") as f:
            f.write(f"{os.getpid()} {socket.gethostname()}\n")
    except BaseException:  # a full disk already: leave nothing behind
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    return tmp_dir


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def remove_stale(folder):
    """Removes the temporaries that a killed wgan-keras process left in `folder`; returns their names."""
    removed = []
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        path = os.path.join(folder, name)
        if not name.startswith(PREFIX) or os.path.islink(path) or not os.path.isdir(path):
            continue
        try:
            with open(os.path.join(path, OWNER)) as f:
                pid, host = f.read().split()
            pid = int(pid)
        except (OSError, ValueError):
            continue  # no owner file we wrote: not ours to delete
        if host == socket.gethostname() and not _alive(pid):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(name)
    return removed


def _publish(tmp, path, overwrite):
    """Renames `tmp` onto `path`. Without overwrite a file is linked (the kernel refuses an existing
    target, so two writers finishing together cannot both win); a folder is renamed, which the
    kernel refuses onto a non-empty folder."""
    if os.path.isdir(tmp):
        if overwrite and os.path.isdir(path) and os.listdir(path):  # cannot rename over a non-empty folder
            old = tempfile.mkdtemp(prefix=PREFIX + "old-", dir=os.path.dirname(path))
            os.rename(path, os.path.join(old, "previous"))
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    elif overwrite:
        os.replace(tmp, path)
    else:
        try:
            os.link(tmp, path)
        except FileExistsError:
            raise FileExistsError(errno.EEXIST, f"{path} exists (written meanwhile by another process); "
                                                f"pass overwrite to replace it") from None
        except OSError as e:
            if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK):
                raise
            if os.path.exists(path):  # a file system without hard links (FAT, some shares): check, then rename
                raise FileExistsError(errno.EEXIST, f"{path} exists; pass overwrite to replace it") from None
            os.replace(tmp, path)


@contextlib.contextmanager
def atomic_path(path, overwrite=True):
    """Yields a temporary path beside `path`; on success renames it onto `path`.

    On any error the temporary file or folder is removed and `path` keeps its
    previous content. Works for files and directories (e.g. a SavedModel).
    """
    path = os.path.abspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(errno.EEXIST, f"{path} exists; pass overwrite to replace it")
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    tmp_dir = _make_temp_dir(parent, os.path.basename(path))
    tmp = os.path.join(tmp_dir, os.path.basename(path))
    try:
        yield tmp
        if not os.path.exists(tmp):
            raise OSError(f"nothing was written for {path}")
        _fsync(tmp)
        _publish(tmp, path, overwrite)
        _fsync_dir(parent)
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


def write_bytes(path, data, overwrite=True):
    """Atomically writes `data` to `path`; returns `path`."""
    with atomic_path(path, overwrite=overwrite) as tmp:
        with open(tmp, "wb") as f:
            f.write(data)
    return path


def write_files(files, overwrite=False):
    """Publishes several files of one folder together, all or none: `files` maps path -> bytes.

    Every destination is checked before anything is written (without `overwrite`, one that exists refuses
    the lot); all bytes go to one temporary folder first, so a full disk fails there with no destination
    touched; then each is renamed into place, and if one of those fails the ones this call created are
    removed again. Returns the paths."""
    paths = [os.path.abspath(p) for p in files]
    parent = os.path.dirname(paths[0])
    if any(os.path.dirname(p) != parent for p in paths) or len(set(paths)) < len(paths):
        raise ValueError(f"write_files: distinct files of one folder expected, got {paths}")
    for path in paths if not overwrite else ():
        if os.path.exists(path):
            raise FileExistsError(errno.EEXIST, f"{path} exists; pass overwrite to replace it")
    os.makedirs(parent, exist_ok=True)
    tmp_dir = _make_temp_dir(parent, os.path.basename(paths[0]))
    created = []
    try:
        temps = [os.path.join(tmp_dir, f"{i}-{os.path.basename(p)}") for i, p in enumerate(paths)]
        for tmp, data in zip(temps, files.values()):
            with open(tmp, "wb") as f:
                f.write(data)
            _fsync(tmp)
        for tmp, path in zip(temps, paths):
            existed = os.path.exists(path)
            _publish(tmp, path, overwrite)
            if not existed:
                created.append(path)
        _fsync_dir(parent)
    except BaseException:
        for path in created:  # this call made them: take them back, so a failure leaves no partial set
            with contextlib.suppress(OSError):
                os.remove(path)
        raise
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)
    return paths


def _fsync(root):
    files = [root] if os.path.isfile(root) else [os.path.join(d, n) for d, _, ns in os.walk(root) for n in ns]
    for name in files:
        with open(name, "rb") as f:
            os.fsync(f.fileno())


def _fsync_dir(folder):
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

"""Write-then-rename file publishing, so a crash or a full disk never leaves a
half-written file where a good one was. Standard library only (the edge sampler uses it).

Temporaries are folders named `.wgan-keras-tmp-<name>-p<pid>h<host hash>-<random>`: the owner is
part of the name, created in one mkdir, so no kill (SIGKILL included) can leave a temporary whose
owner is unknown. `remove_stale` deletes only such folders whose process is gone (and folders of
the older layout, with an owner file inside), never a user's own `.tmp-...` entry. `temp_folder`
gives a scratch folder (TMPDIR) on the same terms, under `wgan_edge.signals.interruptible`, so that every
temporary is removed on SIGINT and SIGTERM too; files are renamed into place `uninterrupted`.
"""
import collections
import contextlib
import errno
import hashlib
import os
import re
import shutil
import socket
import tempfile

from wgan_edge.signals import check_interrupted, interruptible, uninterrupted

PREFIX = ".wgan-keras-tmp-"
OWNER = ".wgan-keras-owner"  # the owner file of the older layout (wgan-keras <= 0.2), still recognised
_TAG = re.compile(r"-p(\d+)h([0-9a-f]{8})-[^-]*$")  # "-p<pid>h<host hash>-<mkdtemp's random part>"
# The paths this process put in place last, and how many in all (`interrupted_message` reads them; bounded,
# since a long training run publishes a checkpoint, a grid and a config many thousand times)
_published = {"last": collections.deque(maxlen=64), "count": 0}


def _host():
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _make_temp_dir(parent, name):
    # One mkdir makes the folder and states its owner: nothing to write after it, so nothing to lose.
    return tempfile.mkdtemp(prefix=f"{PREFIX}{name}-p{os.getpid()}h{_host()}-", dir=parent)


def _alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def _owner(path, name):
    """(pid, host hash) of one of our temporaries, or None when it is not provably ours."""
    tag = _TAG.search(name)
    if tag:
        return int(tag.group(1)), tag.group(2)
    try:  # the older layout: an owner file "pid host" inside
        with open(os.path.join(path, OWNER)) as f:
            pid, host = f.read().split()
        return int(pid), hashlib.sha1(host.encode()).hexdigest()[:8]
    except (OSError, ValueError):
        return None


def remove_stale(folder):
    """Removes the temporaries that a killed wgan-keras process left in `folder`; returns their names."""
    removed = []
    try:
        names = os.listdir(folder) if os.path.isdir(folder) else ()
    except OSError:  # an unreadable folder holds nothing we can clean
        names = ()
    for name in names:
        path = os.path.join(folder, name)
        if not name.startswith(PREFIX) or os.path.islink(path) or not os.path.isdir(path):
            continue
        owner = _owner(path, name)
        if owner is not None and owner[1] == _host() and not _alive(owner[0]):
            shutil.rmtree(path, ignore_errors=True)
            removed.append(name)
    return removed


@contextlib.contextmanager
def temp_folder(name, parent=None):
    """A scratch folder (default: in TMPDIR) for the block, removed when it ends, on SIGINT and SIGTERM
    (`interruptible`), and, after a SIGKILL, by the next `temp_folder` or `remove_stale` there."""
    parent = parent or tempfile.gettempdir()
    remove_stale(parent)  # what killed processes left
    with interruptible():
        path = _make_temp_dir(parent, name)
        try:
            yield path
            check_interrupted()
        finally:
            shutil.rmtree(path, ignore_errors=True)


def interrupted_message():
    """A callable for a command's Ctrl-C/SIGTERM line (`wgan_edge.cli.run_cli`): what this process
    published after this call, read from the disk's side of things when it is called."""
    start = _published["count"]

    def message():
        new = _published["count"] - start
        done = list(_published["last"])[-new:] if new else []
        return f"interrupted after writing {', '.join(done)} in full" if done else "interrupted; nothing was written"
    return message


def _publish(tmp, path, overwrite):
    """Renames `tmp` onto `path`. Without overwrite a file is linked (the kernel refuses an existing
    target, so two writers finishing together cannot both win); a folder is renamed, which the
    kernel refuses onto a non-empty folder."""
    if os.path.isdir(tmp):
        if overwrite and os.path.isdir(path) and os.listdir(path):  # cannot rename over a non-empty folder
            old = tempfile.mkdtemp(prefix=PREFIX + "old-", dir=os.path.dirname(path))
            os.rename(path, os.path.join(old, "previous"))
            try:
                os.rename(tmp, path)
            except BaseException:
                os.rename(os.path.join(old, "previous"), path)  # the old folder back where it was
                os.rmdir(old)
                raise
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
        check_interrupted()  # a Ctrl-C or SIGTERM deferred or swallowed: publish nothing after it
        if not os.path.exists(tmp):
            raise OSError(f"nothing was written for {path}")
        _fsync(tmp)
        with uninterrupted():
            _publish(tmp, path, overwrite)
            _record([path])
            _fsync_dir(parent)
    finally:
        with uninterrupted():
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
    touched; then each is renamed into place (with `overwrite`, the file it replaces moved aside first),
    and if one of those fails the ones this call put in place are removed and the old ones moved back.
    Returns the paths."""
    paths = [os.path.abspath(p) for p in files]
    parent = os.path.dirname(paths[0])
    if any(os.path.dirname(p) != parent for p in paths) or len(set(paths)) < len(paths):
        raise ValueError(f"write_files: distinct files of one folder expected, got {paths}")
    for path in paths if not overwrite else ():
        if os.path.exists(path):
            raise FileExistsError(errno.EEXIST, f"{path} exists; pass overwrite to replace it")
    os.makedirs(parent, exist_ok=True)
    tmp_dir = _make_temp_dir(parent, os.path.basename(paths[0]))
    try:
        temps = [os.path.join(tmp_dir, f"{i}-{os.path.basename(p)}") for i, p in enumerate(paths)]
        for tmp, data in zip(temps, files.values()):
            with open(tmp, "wb") as f:
                f.write(data)
            _fsync(tmp)
        with uninterrupted():
            _publish_all(temps, paths, tmp_dir, overwrite)
            _record(paths)
            _fsync_dir(parent)
    finally:
        with uninterrupted():
            shutil.rmtree(tmp_dir, ignore_errors=True)
    return paths


def _record(paths):
    # a file put into one of our temporary folders (a page being assembled) is not yet the user's
    for path in paths:
        if PREFIX not in path:
            _published["last"].append(path)
            _published["count"] += 1


def _publish_all(temps, paths, tmp_dir, overwrite):
    """Renames each temporary onto its path; on a failure puts every path back as it was."""
    created, aside = [], {}
    try:
        for i, (tmp, path) in enumerate(zip(temps, paths)):
            if overwrite and os.path.lexists(path):
                aside[path] = os.path.join(tmp_dir, f"previous-{i}")
                os.rename(path, aside[path])
            _publish(tmp, path, overwrite)
            created.append(path)
    except BaseException:
        for path in created:  # this call made them: take them back, so a failure leaves no partial set
            with contextlib.suppress(OSError):
                os.remove(path)
        for path, previous in aside.items():
            with contextlib.suppress(OSError):
                os.rename(previous, path)
        raise


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

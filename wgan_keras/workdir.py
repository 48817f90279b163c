"""A run's working directory: what is ours in it, a lock, and checks before anything is written.

A workdir holds one run. Only files this package writes are ever replaced, and only the
temporaries its own (dead) processes left are ever removed (`wgan_edge.atomic.remove_stale`).
"""
import contextlib
import csv
import errno
import fcntl
import json
import os
import shlex

from wgan_edge.atomic import atomic_path, remove_stale
from wgan_edge.cli import ConfigError, first_line, offers_none
from wgan_keras import presets
from wgan_keras.callbacks import COLUMNS, QUALITY
from wgan_keras.config import TrainConfig

CHECKPOINT = "checkpoint.keras"
CONFIG = "config.json"
METRICS = "metrics.csv"
LOCK = ".wgan-keras.lock"
CLASSES = "classes.json"  # --conditional: the class names, label i being the i-th (samples and exports name them)
CLASS_QUALITY = "class_quality.csv"  # --conditional --eval_every: per-class FD and classifier agreement
INCEPTION_REFERENCE = "inception_reference.npz"  # --eval_every on colour images: the data's features, kept
OURS = (CHECKPOINT, METRICS, "w_estimate.png", "samples", "tensorboard", CLASSES, CLASS_QUALITY, INCEPTION_REFERENCE)


def _read_config(workdir):
    """The dict a workdir's config.json holds, None for a new workdir, ValueError if unreadable."""
    path = os.path.join(workdir, CONFIG)
    if not os.path.lexists(path):
        return None
    try:
        with open(path) as f:
            values = json.load(f)
        TrainConfig.from_dict(values)  # a JSON list, wrong types
        return values
    except (ValueError, TypeError, RecursionError, OSError, UnicodeDecodeError) as e:
        why = "nested too deeply" if isinstance(e, RecursionError) else type(e).__name__
        raise ValueError(f"workdir {workdir}: {CONFIG} is not a wgan-train config ({why}); move it away or pick "
                         f"another --workdir") from None


def _check_unknown(workdir, values):
    """A field this version does not know (a newer wgan-keras wrote it, or a person): kept when unset
    (null/false: the behaviour this version has anyway; `write_config` keeps it), else refused, since
    resuming would silently train without a setting the run was started with."""
    for name in TrainConfig.unknown_fields(values):
        if values[name] not in (None, False):
            raise ValueError(f"workdir {workdir}: {CONFIG} sets {name}={values[name]!r}, a setting this version of "
                             f"wgan-keras does not know (a newer version's?); resume with that version, or remove "
                             f"the field if it does not matter")


def _preset_hint(previous, config):
    """' (that run used --preset P ...)' when the stored settings match a preset better than ours."""
    theirs, ours = previous.to_dict(), config.to_dict()
    best = presets.preset_of(theirs)
    # most of the preset's settings hold in the stored run, and more of them than in this command, which is not
    # that preset with a value changed (--preset fast --ema_decay none: the field's own flag is the hint then)
    if best is None or presets.held(theirs, best) <= presets.held(ours, best) or presets.preset_of(ours) == best:
        return ""
    return f" (that run used --preset {best}: pass it again)"


def _shown(value):
    """A setting as its flag takes it: None is --flag none."""
    return "none" if value is None else repr(value)


def _resume_hint(field, theirs):
    """The flag that gives `field` the stored run's value back, e.g. ' (that run had --ema_decay none)'."""
    if isinstance(theirs, bool):  # booleans take --flag / --flag false
        return f" (that run had --{field}{'' if theirs else ' false'})"
    if theirs is None and not offers_none(TrainConfig, field):  # e.g. --images: the run had none
        return f" (that run had no --{field})"
    return f" (that run had --{field} {shlex.quote(theirs) if isinstance(theirs, str) else _shown(theirs)})"


def check(workdir, config):
    """Refuses a workdir that holds another run, files we did not write, or paths of the wrong kind.
    Writes nothing."""
    if not isinstance(workdir, (str, os.PathLike)) or not str(workdir).strip():
        raise ConfigError("workdir", "must name a folder", workdir)
    workdir = os.path.abspath(workdir)
    if os.path.lexists(workdir) and not os.path.isdir(workdir):
        raise ValueError(f"workdir {workdir} exists and is not a folder")
    values = _read_config(workdir)
    if values is not None:
        _check_unknown(workdir, values)
        previous = TrainConfig.from_dict(values)
        diff = config.differences(previous)
        if diff:
            field, theirs, ours = diff[0]
            # The usual cause: the first command had --preset, this one not (or another preset).
            raise ValueError(f"workdir {workdir} holds a run with a different config: {field} {_shown(theirs)} vs "
                             f"{_shown(ours)}"
                             + (_preset_hint(previous, config) or _resume_hint(field, theirs)))
    elif os.path.isdir(workdir):
        foreign = [name for name in OURS if os.path.lexists(os.path.join(workdir, name))]
        if foreign:
            raise ValueError(f"workdir {workdir} holds {foreign[0]} but no {CONFIG}, so not a wgan-train run; "
                             f"pick another --workdir")
    for name, folder in ((CHECKPOINT, False), (METRICS, False), ("samples", True), ("tensorboard", True)):
        path = os.path.join(workdir, name)
        if os.path.lexists(path) and (os.path.isdir(path) != folder or os.path.islink(path)):
            raise ValueError(f"workdir {workdir}: {name} should be a {'folder' if folder else 'file'} we wrote; "
                             f"move it away")
    check_metrics(os.path.join(workdir, METRICS))


def check_metrics(path):
    """A metrics.csv we did not write (other columns, non-numbers) is refused rather than rewritten."""
    if not os.path.exists(path):
        return
    try:
        read_rows(path)
    except (ValueError, TypeError, csv.Error, UnicodeDecodeError) as e:
        raise ValueError(f"{path} is not a metrics.csv that wgan-train wrote ({first_line(e)}); move it away") from None


def read_rows(path):
    """The rows of a metrics.csv we wrote, without a last row that a crash cut short (no line end:
    the process died inside the write); raises ValueError for a file we did not write."""
    with open(path, newline="") as f:
        text = f.read()
    if text and not text.endswith("\n"):
        text = text[:text.rfind("\n") + 1]  # the partial row goes; `keep_rows_until` rewrites the file without it
    if not text:
        return []  # even the header was cut: nothing to keep
    reader = csv.DictReader(text.splitlines(keepends=True))
    if tuple(reader.fieldnames or ()) not in (COLUMNS, COLUMNS[:-len(QUALITY)]):  # 0.1: no quality columns
        raise ValueError("other columns")
    rows = list(reader)
    for row in rows:
        if None in row:
            raise ValueError("a row longer than the header")
        int(row["generator_iterations"])
    return rows


def _holder(fd):
    """'process N' holding the flock on `fd`, from /proc/locks (Linux); the lock file itself stays
    untouched, so a re-run that has nothing to do writes nothing at all."""
    inode = os.fstat(fd).st_ino
    with contextlib.suppress(OSError, ValueError, IndexError):
        with open("/proc/locks") as f:
            for line in f:
                fields = line.split()
                if fields[1] == "FLOCK" and int(fields[5].rsplit(":", 1)[1]) == inode:
                    return f"process {fields[4]}"
    return "another process"


@contextlib.contextmanager
def claimed(workdir):
    """Creates `workdir` (removed again if the run fails before writing anything there) and holds its
    lock: a second wgan-train on the same workdir is refused at once. The kernel drops the lock when
    the process ends, however it ends, so a killed run never leaves it stuck."""
    created = not os.path.isdir(workdir)
    os.makedirs(workdir, exist_ok=True)
    lock = os.open(os.path.join(workdir, LOCK), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                raise
            raise ValueError(f"workdir {workdir} is in use by {_holder(lock)}; wait for it or pick another "
                             f"--workdir") from None
        for folder in (workdir, os.path.join(workdir, "samples")):  # temporaries of a killed run
            remove_stale(folder)
        yield
    except BaseException:
        if created and set(os.listdir(workdir)) <= {LOCK}:  # a failed start leaves no empty workdir
            os.remove(os.path.join(workdir, LOCK))
            os.rmdir(workdir)
        raise
    finally:
        os.close(lock)


def write_run(workdir, config, classes, start):
    """What a run writes once its checks passed, before it trains: config.json, classes.json (--conditional),
    and its metrics.csv and class_quality.csv without the rows logged after the checkpoint's `start`."""
    write_config(workdir, config)
    if classes is not None:
        write_classes(workdir, classes)
    keep_rows_until(os.path.join(workdir, METRICS), start)
    if classes is not None:
        from wgan_keras.evaluation.classes import CLASS_COLUMNS
        keep_rows_until(os.path.join(workdir, CLASS_QUALITY), start, CLASS_COLUMNS)


def write_config(workdir, config):
    """config.json for `config`, keeping the (unset: see `_check_unknown`) fields this version does not know."""
    old = _read_config(workdir) or {}
    values = {**config.to_dict(), **{k: old[k] for k in TrainConfig.unknown_fields(old)}}
    with atomic_path(os.path.join(workdir, CONFIG)) as tmp, open(tmp, "w") as f:
        json.dump(values, f, indent=2)


def write_classes(workdir, classes):
    with atomic_path(os.path.join(workdir, CLASSES)) as tmp, open(tmp, "w") as f:
        json.dump({"classes": list(classes)}, f, indent=2)


def check_classes(workdir, classes):
    """A resume on data whose classes differ from the run's (a class folder renamed, added or removed: the
    labels shift, so each would go on learning another class) is refused, naming the first difference."""
    try:
        before = read_classes(workdir)
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(f"workdir {workdir}: {CLASSES} is not a list of class names ({type(e).__name__}); move "
                         f"it away or pick another --workdir") from None
    if before is None or classes is None or list(before) == list(classes):
        return
    label = next((i for i, (a, b) in enumerate(zip(before, classes)) if a != b), min(len(before), len(classes)))
    was = repr(before[label]) if label < len(before) else "no class"
    now = repr(classes[label]) if label < len(classes) else "no class"
    raise ValueError(f"workdir {workdir} was trained on {len(before)} classes and this data has {len(classes)}: "
                     f"label {label} was {was:.60}, now {now:.60}; resuming would teach the labels other classes: "
                     f"restore the class folders or train in a new --workdir")


def read_classes(workdir):
    """The class names a conditional run wrote, or None."""
    path = os.path.join(workdir, CLASSES)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)["classes"]


def keep_rows_until(csv_path, generator_iterations, columns=COLUMNS):
    """Drops metrics.csv (or `columns`' class_quality.csv) rows logged after the checkpoint we resume from
    (they will be redone)."""
    if not os.path.exists(csv_path):
        return
    rows = [r for r in read_rows(csv_path) if int(r["generator_iterations"]) <= generator_iterations]
    with atomic_path(csv_path) as tmp, open(tmp, "w", newline="") as f:
        out = csv.DictWriter(f, columns)
        out.writeheader()
        out.writerows(rows)

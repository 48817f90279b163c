"""The one flag stack of wgan-train, wgan-export and wgan-sample (standard library only).

Each command's settings are one dataclass whose fields are declared with `option(...)`: the
field's help text, choices and bounds live there once, and the flags, their `--help`, the
validation and the table in docs/flags.md are all generated from it.
"""
import argparse
import dataclasses
import logging
import math
import os
import re
import sys
import threading
import typing


def option(default, help, *, choices=None, low=None, high=None, default_help=None):
    """A config field: `default`, one-sentence `help`, and optionally `choices` or numeric bounds [low, high].
    `default_help` says in words what a None default means ("the data's own"); `--help` and docs/flags.md
    state it as the flag's one default."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices, "low": low, "high": high,
                                                        "default_help": default_help})


def default_text(f, override=dataclasses.MISSING):
    """The one default of a field, in words: `override` (a preset's value) when given, else its own."""
    if override is not dataclasses.MISSING:
        return str(override)
    if f.default is None:
        return f.metadata.get("default_help") or "none"
    return str(f.default)


class ConfigError(ValueError):
    """A setting the user can fix; names the field and the value it got."""

    def __init__(self, field, why, value):
        super().__init__(f"{field} {why}, got {field}={value!r}")
        self.field, self.why, self.value = field, why, value

    def flag_message(self):
        """The same message in flag terms, for the command line."""
        return f"--{self.field}={self.value!r}: {self.why}"


def first_line(error):
    """The first non-empty line of an exception's message, or its type's name."""
    return next((line for line in str(error).strip().splitlines() if line.strip()), type(error).__name__)


def _kind(cls, name):
    """(type, optional) of a field: Optional[int] -> (int, True)."""
    hint = typing.get_type_hints(cls)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return (args[0], True) if args else (hint, False)


def offers_none(cls, name):
    """Whether --name's help offers `none` (the field's None, undoing a preset's value): an Optional int or float
    field without a choice list. (Every Optional number parses `none`; a choice list's help shows the choices.)"""
    kind, optional = _kind(cls, name)
    choices = next(f.metadata.get("choices") for f in dataclasses.fields(cls) if f.name == name)
    return optional and kind in (int, float) and choices is None


def check_fields(config):
    """Type, choice and bound checks of every `option` field; raises ConfigError for the first bad one."""
    for f in dataclasses.fields(config):
        meta, value = f.metadata, getattr(config, f.name)
        kind, optional = _kind(type(config), f.name)
        if value is None and optional:
            continue
        numeric = (int,) if kind is int else (int, float) if kind is float else ()
        if kind is bool and not isinstance(value, bool):
            raise ConfigError(f.name, "must be true or false", value)
        if numeric and (isinstance(value, bool) or not isinstance(value, numeric)
                        or (kind is float and not math.isfinite(value))):
            raise ConfigError(f.name, "must be " + ("an integer" if kind is int else "a finite number"), value)
        if kind is str and (not isinstance(value, str) or not value.strip()):
            raise ConfigError(f.name, "must be a non-empty string", value)
        if meta.get("choices") is not None and value not in meta["choices"]:
            raise ConfigError(f.name, f"must be one of {tuple(meta['choices'])}", value)
        low, high = meta.get("low"), meta.get("high")
        if (low is not None and value < low) or (high is not None and value > high):
            raise ConfigError(f.name, f"must be {'an integer' if kind is int else 'a number'} in [{low}, {high}]",
                              value)
    return config


def _bool(text):
    if text.lower() in ("1", "true", "yes", "on"):
        return True
    if text.lower() in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _or_none(kind):
    """An argparse type for an Optional[int|float] field: "none" gives None (the field's own "none" meaning,
    which undoes a preset's value: --preset fast --ema_decay none), anything else must parse as `kind`."""
    def parse(text):
        if text.strip().lower() == "none":
            return None
        try:
            return kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {'an integer' if kind is int else 'a number'} or none, "
                                             f"got {text!r}") from None
    return parse


def choice_list(choices, separator):
    """`choices` joined by `separator`, a choice that contains a comma or a space in quotes, so a multi-word
    choice such as "translation,cutout" reads as one choice, typed as the shell takes it."""
    return separator.join(f"'{c}'" if any(ch in str(c) for ch in ", ") else str(c) for c in choices)


def describe(f, defaults=None):
    """The help line of one field: its meaning, choices, bounds and its one default (`defaults`, e.g. a
    preset's values, replaces the field's own)."""
    meta, text = f.metadata, f.metadata.get("help", "")
    if meta.get("choices") is not None:
        text += " One of: " + choice_list(meta["choices"], ", ") + "."
    elif meta.get("low") is not None or meta.get("high") is not None:
        text += f" Range: [{meta.get('low')}, {meta.get('high')}]."
    if f.default is dataclasses.MISSING:
        return text + " Required."
    return text + f" Default: {default_text(f, (defaults or {}).get(f.name, dataclasses.MISSING))}."


class OneLineParser(argparse.ArgumentParser):
    """Bad flags print one `prog: error: ...` line and exit 2: no usage block, no traceback."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)

    def parse_args(self, args=None, namespace=None):
        namespace, extras = self.parse_known_args(args, namespace)
        if extras:
            kind = "unexpected arguments" if not any(e.startswith("-") for e in extras) else "unrecognized arguments"
            self.error(f"{kind} {extras}; every setting is a --flag (see --help)")
        return namespace


def build_parser(prog, description, *config_classes, defaults=None):
    """An argparse parser with one --flag per field of each dataclass (booleans also take --noflag).
    `defaults` ({field: value}) replaces fields' defaults, in the parse and in --help alike."""
    defaults = defaults or {}
    parser = OneLineParser(prog=prog, description=description, allow_abbrev=False,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
    for cls in config_classes:
        group = parser.add_argument_group(cls.__name__, (cls.__doc__ or "").strip().splitlines()[0])
        for f in dataclasses.fields(cls):
            kind, optional = _kind(cls, f.name)
            required = f.default is dataclasses.MISSING
            text = describe(f, defaults).replace("%", "%%")  # argparse formats help with %
            default = defaults.get(f.name, f.default)
            choices = f.metadata.get("choices")
            if kind is bool:
                group.add_argument(f"--{f.name}", nargs="?", const=True, type=_bool, default=default, help=text,
                                   metavar="true|false")
                group.add_argument(f"--no{f.name}", dest=f.name, action="store_false", help=argparse.SUPPRESS)
            else:
                numeric = kind in (int, float)
                group.add_argument(f"--{f.name}", type=(_or_none(kind) if optional else kind) if numeric else str,
                                   required=required, default=None if required else default, help=text,
                                   metavar="{" + choice_list(choices, ",") + "}" if choices is not None
                                   else kind.__name__.upper() + ("|none" if offers_none(cls, f.name) else "")
                                   if numeric else "TEXT")
    return parser


def parse(parser, argv, *config_classes):
    """argv -> one instance of each dataclass (unchecked: call check_fields / validate)."""
    namespace = vars(parser.parse_args(argv))
    return [cls(**{f.name: namespace[f.name] for f in dataclasses.fields(cls)}) for cls in config_classes]


def markdown_table(cls):
    """The docs table of one config dataclass."""
    lines = ["| flag | meaning | default |", "|---|---|---|"]
    for f in dataclasses.fields(cls):
        meta = f.metadata
        text = meta.get("help", "")
        if meta.get("choices") is not None:
            text += " One of: " + ", ".join(f"`{c}`" for c in meta["choices"]) + "."
        default = "required" if f.default is dataclasses.MISSING else default_text(f) if f.default is None \
            else f"`{f.default}`"
        lines.append(f"| `--{f.name}` | {text} | {default} |")
    return "\n".join(lines)


def library_errors():
    """Exceptions that libraries raise for faults of the machine (a full disk, a file-size limit, no
    memory) rather than bugs: TensorFlow's OpError family, when TensorFlow is loaded, and MemoryError."""
    errors = [MemoryError]
    tf_errors = getattr(sys.modules.get("tensorflow"), "errors", None)
    if tf_errors is not None:
        errors.append(tf_errors.OpError)
    return tuple(errors)


def run_cli(prog, main, argv=None, interrupted="interrupted"):
    """Runs `main(argv)` as a console command: bad input is one stderr line and exit 2, Ctrl-C exit 130,
    SIGTERM (where `wgan_edge.signals.interruptible` turns it into KeyboardInterrupt) exit 143, with the
    line `interrupted` (a string, or a callable asked then: `wgan_edge.atomic.interrupted_message`)."""
    try:
        code = main(argv)
    except ConfigError as e:
        code = fail(prog, e.flag_message())
    except (ValueError, OSError) as e:
        code = fail(prog, first_line(e))
    except Exception as e:
        if not isinstance(e, library_errors()):
            raise  # a bug: keep its traceback
        why = "out of memory" if isinstance(e, MemoryError) else type(e).__name__
        code = fail(prog, f"{why}: {first_line(getattr(e, 'message', e))}"[:500])
    except KeyboardInterrupt as e:  # 128 + the signal: 130 for Ctrl-C, 143 for SIGTERM (signals.interruptible)
        message = interrupted() if callable(interrupted) else interrupted
        code = fail(prog, message, 143 if e.args == ("SIGTERM",) else 130)
    sys.exit(code or 0)


def fail(prog, message, code=2):
    print(f"{prog}: error: {message}", file=sys.stderr)
    return code


# C++ log lines of TensorFlow/LiteRT (absl's "I0000 00:00:17957.. 1234 file.cc:153] ..." and friends).
# TF 2.21 logs through absl before any InitializeLog call, which ignores TF_CPP_MIN_LOG_LEVEL.
_NOISE = re.compile(rb"^([IWE]\d{4} \d\d:\d\d:\d\d|WARNING: All log messages before absl|INFO: Created TensorFlow "
                    rb"Lite|To enable the following instructions: |fully_quantize: \d)")
_filtering = False


def _pump(read_fd, write_fd):
    with os.fdopen(read_fd, "rb", buffering=0) as source:
        for line in iter(source.readline, b""):
            if not _NOISE.match(line):
                os.write(write_fd, line)


def quiet_libraries():
    """For the commands, before TensorFlow loads: TensorFlow's C++ start-up and graph-optimizer notes
    (`cuInit: UNKNOWN ERROR (303)` on a machine without a GPU, `remapper failed`, start-up lines
    printed twice), LiteRT's delegate note and absl/TFDS INFO and WARNING lines read as failures on
    a terminal and push our one-line errors out of sight. The C++ side writes to file descriptor 2,
    so that descriptor goes through a filter that drops info/warning/error log lines and passes
    everything else (fatal errors included); Python's own sys.stderr keeps the real terminal.
    TF_CPP_MIN_LOG_LEVEL set by the user (any value) turns the filter off."""
    global _filtering
    for name in ("tensorflow", "absl", "tensorflow_datasets", "h5py"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if _filtering or "TF_CPP_MIN_LOG_LEVEL" in os.environ or sys.stderr is not sys.__stderr__:
        return  # the user chose a level, or a test harness or notebook captures stderr: leave it alone
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"  # what older TensorFlow releases read
    _filtering = True
    real = os.dup(2)
    sys.stderr.flush()
    sys.stderr = os.fdopen(os.dup(real), "w", buffering=1, encoding=sys.stderr.encoding, errors="replace")
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    threading.Thread(target=_pump, args=(read_fd, real), daemon=True, name="stderr-filter").start()

"""`wgan-export`: a trained generator -> SavedModel or (quantized) fixed-batch TFLite.

    wgan-export --checkpoint run.keras --format tflite --quantize int8 --batch_size 1 --out g.tflite
    wgan-export --checkpoint run.keras --format saved_model --out g_savedmodel
    wgan-export --checkpoint run.keras --quantize full_int8 --c_array --report --min_psnr 35 --out g.tflite
    wgan-export --checkpoint run.keras --format web --quantize int8 --out site   # a page: LiteRT.js in a browser

Writes atomically, never replaces an existing --out without --overwrite, and prints the
size and the fidelity against the Keras generator on fixed latent vectors. A .tflite gets its
metadata beside it (<out stem>.json: shapes, every tensor's dtype, scale and zero point). The
quality gate (--min_psnr, --max_fd) exits 1 and writes nothing when the export misses it.
"""
import dataclasses
import os
import re
import sys
import warnings
from typing import Optional

from wgan_edge.atomic import atomic_path, interrupted_message, remove_stale, write_files
from wgan_edge.cli import ConfigError, build_parser, check_fields, option, parse, quiet_libraries, run_cli
from wgan_edge.contract import latent_vectors
from wgan_edge.pretrained import NAMES as PACKAGED
from wgan_edge.signals import interruptible
from wgan_export import owned
from wgan_export.modes import BY_NAME, FORMATS, NAMES, help_text
from wgan_keras.choices import check_keras_backend
from wgan_keras.packaged import pretrained_path


@dataclasses.dataclass
class ExportConfig:
    """Settings of wgan-export."""
    checkpoint: str = option(dataclasses.MISSING, ".keras file of a WGAN (e.g. a run's checkpoint.keras) or of a "
                                                  "generator, or the name of a generator shipped in the package: "
                                                  + ", ".join(sorted(PACKAGED)) + ".")
    out: str = option(dataclasses.MISSING, "Where to write: a .tflite file, a SavedModel folder or a web "
                                                   "page's folder.")
    format: str = option("tflite", "Output format.", choices=FORMATS)
    quantize: str = option("float32", "TFLite weights and arithmetic (tflite and web): " + help_text() + ".",
                           choices=NAMES)
    batch_size: Optional[int] = option(None, "Fixed batch.", low=1, high=4096,
                                       default_help="1 for tflite and web, dynamic for saved_model")
    int8_io: bool = option(False, "int8 input z (with --quantize " + " or ".join(
        m.name for m in BY_NAME.values() if m.int8_io) + ").")
    qat_steps: int = option(100, "qat: distillation steps.", low=0, high=100_000)
    sparsity: float = option(0.0, "qat: prune to this fraction of zero weights, then int8.", low=0.0, high=0.99)
    fidelity_samples: int = option(256, "Latent vectors for the printed fidelity against Keras.", low=2, high=4096)
    report: bool = option(False, "Also measure, against the Keras generator's own pixels: the share equal, the "
                                 "largest level difference, distinct levels, a Fréchet distance in the bundled "
                                 "digit network's features (28x28x1) beside its noise floor, and where the mode "
                                 "runs in TFLite Micro, its arena and its difference from LiteRT.")
    min_psnr: Optional[float] = option(None, "Quality gate: exit 1, writing nothing, when the PSNR against Keras "
                                             "on the fixed z is below this (dB).", low=0.0, high=1000.0)
    max_fd: Optional[float] = option(None, "Quality gate: exit 1, writing nothing, when the Fréchet distance "
                                           "between Keras and exported samples exceeds this (28x28x1 generators; "
                                           "float32 noise counts as 0).", low=0.0, high=1e9)
    c_array: bool = option(False, "TFLite Micro modes: also write <out stem>.cc/.h, the C array (C11 and C++) a "
                                  "TFLite Micro project compiles in, with the tensor-arena size.")
    c_name: Optional[str] = option(None, "--c_array: the array's C identifier; default g_<out stem> with every "
                                         "character that is not an ASCII letter or digit as _.")
    overwrite: bool = option(False, "Replace an existing --out (and its .json/.cc/.h) that wgan-export wrote; "
                                    "anything else in the way is refused.")


def _check(config):
    """Cheap checks before TensorFlow loads (seconds), every destination path included."""
    check_fields(config)
    if config.checkpoint in PACKAGED and not os.path.exists(config.checkpoint):  # a generator shipped in the package
        config.checkpoint = pretrained_path(config.checkpoint)
    if not os.path.isfile(config.checkpoint):
        raise ConfigError("checkpoint", "not found: must be an existing .keras file", config.checkpoint)
    mode = BY_NAME[config.quantize]
    if config.format == "saved_model" and config.quantize != "float32":
        raise ConfigError("quantize", "applies to tflite only; a SavedModel is float32", config.quantize)
    if config.int8_io and not mode.int8_io:
        raise ConfigError("int8_io", "needs --quantize " + " or ".join(m.name for m in BY_NAME.values() if m.int8_io),
                          config.int8_io)
    if config.c_array and (config.format != "tflite" or not mode.tflm):
        tflm = " or ".join(m.name for m in BY_NAME.values() if m.tflm)
        why = f" ({mode.name} does not: {mode.why_not_tflm})" if config.format == "tflite" else ""
        raise ConfigError("c_array", f"needs --format tflite --quantize {tflm}, the modes TFLite Micro runs{why}",
                          config.c_array)
    if config.c_name is not None and (not config.c_array or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", config.c_name)):
        raise ConfigError("c_name", "must be a C identifier (ASCII letters, digits, _; not starting with a digit) "
                                    "and needs --c_array", config.c_name)
    if config.format == "web":
        from wgan_export import web
        if web.refusal(config.quantize, config.int8_io):
            name = "int8_io" if config.int8_io else "quantize"
            raise ConfigError(name, web.refusal(config.quantize, config.int8_io), getattr(config, name))
    paths = destinations(config)
    if len({os.path.abspath(p) for p in paths}) < len(paths):
        raise ConfigError("out", "collides with its own metadata or C files; name it <stem>.tflite", config.out)
    owned.check(config)  # every destination, before anything is converted: all files or none


def destinations(config):
    """Every path the export writes: --out, and beside a .tflite its metadata and, with --c_array, the C array."""
    return [path for path, _ in owned.kinds(config)]


def measure(config, generator, z, reference, outputs, model=None):
    """The row against Keras; Fréchet distance and TFLite Micro only when asked (they cost seconds)."""
    from wgan_export import report
    row = report.measure(generator, z, reference, outputs, frechet_too=config.report or config.max_fd is not None)
    if config.max_fd is not None and "frechet" not in row:
        raise ConfigError("max_fd", "needs a 28x28x1 generator (the bundled digit network's features)", config.max_fd)
    if config.report and model is not None and BY_NAME[config.quantize].tflm:
        from wgan_export import lib, micro
        labels = lib.reference_labels(generator, len(z))
        row.update(micro.against_litert(model, z[:64], None if labels is None else labels[:64]))
    return row


def gate(config, row):
    """The quality gate's verdict: None when passed, else the reason (one line)."""
    if config.min_psnr is not None and row["psnr_db"] < config.min_psnr:
        return f"PSNR {row['psnr_db']:.1f} dB < --min_psnr {config.min_psnr}"
    if config.min_psnr is not None and row.get("worst_class_psnr_db", float("inf")) < config.min_psnr:  # conditional
        return (f"class {row['worst_class']}: PSNR {row['worst_class_psnr_db']:.1f} dB < --min_psnr "
                f"{config.min_psnr} (all classes: {row['psnr_db']:.1f} dB)")
    if config.max_fd is not None and row["frechet"] > config.max_fd:
        return f"Fréchet distance {row['frechet']:.3g} > --max_fd {config.max_fd}"
    return None


def tflite_files(config, generator, model, row):
    """{path: bytes}: the .tflite, its metadata (tensor dtypes, scales, zero points) and, with --c_array, the
    C array; published together (wgan_edge.atomic.write_files: all or none)."""
    import json

    from wgan_export import lib, micro, tflite
    out, meta_path, *c_paths = destinations(config)
    names = lib.class_names(config.checkpoint, lib.describe(generator).get("num_classes"))
    info = lib.metadata(generator, config.batch_size or 1, quantize=config.quantize, tensors=tflite.io_params(model),
                        class_names=names,
                        fidelity={k: v for k, v in row.items() if isinstance(v, (int, float))})
    files = {out: model, meta_path: b""}
    if c_paths:
        info["tflm_arena_bytes"] = row.get("tflm_arena_bytes") or micro.arena_bytes(model)
        stem = os.path.basename(os.path.splitext(config.out)[0])
        notes = [f"{k}: {v['dtype']}{v['shape']} scale {v['scale']:.9g} zero_point {v['zero_point']}"
                 for k, v in info["tensors"].items()]
        texts = micro.c_array(model, config.c_name or micro.c_identifier(stem), info["tflm_arena_bytes"], notes,
                              header_name=os.path.basename(c_paths[1]))
        files.update({path: text.encode() for path, text in zip(c_paths, texts)})
    files[meta_path] = json.dumps(info, indent=2).encode()
    return files


class _GateFailed(Exception):
    def __init__(self, reason, line):
        super().__init__(reason)
        self.reason, self.line = reason, line


def publish_web(config, generator, model, row):
    """The page's folder, all files or none: the .tflite and its metadata exactly as a tflite
    export writes them, beside the page's static files."""
    from wgan_export import web
    with atomic_path(config.out, overwrite=config.overwrite) as tmp:
        os.mkdir(tmp)
        inner = dataclasses.replace(config, format="tflite", out=os.path.join(tmp, web.MODEL), overwrite=False)
        write_files(tflite_files(inner, generator, model, row), overwrite=False)
        web.write_page(tmp)


def export(config):
    """Converts, measures, gates and publishes one export; returns the printed summary line.
    Raises _GateFailed (nothing written) when the quality gate is missed."""
    from wgan_export import lib
    from wgan_keras.images import generate_images
    generator = lib.load_generator(config.checkpoint)
    info = lib.describe(generator)
    z = latent_vectors(config.fidelity_samples, info["latent_dim"], seed=0)
    labels = lib.reference_labels(generator, len(z))  # a conditional generator: the classes in turn
    reference = generate_images(generator, z, labels=labels)
    if config.format != "saved_model":  # tflite, and web: the same .tflite, measured and gated the same way
        from wgan_edge.runner import TFLiteGenerator
        from wgan_export.tflite import check_builtin_only, convert
        options = dict(steps=config.qat_steps, sparsity=config.sparsity) if config.quantize == "qat" else {}
        model = convert(generator, config.quantize, batch_size=config.batch_size or 1, int8_io=config.int8_io,
                        **options)
        check_builtin_only(model)
        row = measure(config, generator, z, reference, TFLiteGenerator(model)(z, labels), model)
        line = _summary(config, info, len(model), len(z), row)
        failed = gate(config, row)
        if failed:
            raise _GateFailed(failed, line)
        if config.format == "web":
            publish_web(config, generator, model, row)
        else:
            write_files(tflite_files(config, generator, model, row), overwrite=config.overwrite)
        return line
    with atomic_path(config.out, overwrite=config.overwrite) as tmp:
        lib.write_saved_model(generator, tmp, config.batch_size,
                              class_names=lib.class_names(config.checkpoint, info.get("num_classes")))
        row = measure(config, generator, z, reference, lib.run_saved_model(tmp, z, labels))
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(tmp) for f in fs)
        line = _summary(config, info, size, len(z), row)
        failed = gate(config, row)
        if failed:
            raise _GateFailed(failed, line)  # leaves the atomic folder unpublished
    return line


def _summary(config, info, size, n, row):
    kind = config.quantize if config.format != "saved_model" else "float32"
    batch = config.batch_size or (1 if config.format != "saved_model" else "batch")  # a .tflite's batch is fixed
    label = f" + label[{batch}] ({info['num_classes']} classes)" if "num_classes" in info else ""
    line = (f"{config.out}: {config.format} {kind}, z[{batch}, {info['latent_dim']}]{label} -> "
            f"images{tuple(info['image_shape'])}, {size / 1024:.1f} KiB; vs Keras on {n} z: "
            f"PSNR {row['psnr_db']:.1f} dB, max |d| {row['max_abs']:.2e}, pixels equal to Keras's "
            f"{100 * row['pixels_equal_keras']:.2f} % (max {row['max_level_diff']} levels off), "
            f"{row['levels']} distinct levels (Keras {row['keras_levels']})")
    if "worst_class" in row:
        line += f"; weakest class {row['worst_class']}: PSNR {row['worst_class_psnr_db']:.1f} dB"
    if "class_agreement" in row:
        line += (f"; the digit classifier agrees with the requested class on {100 * row['class_agreement']:.1f} % "
                 f"(Keras's {100 * row['keras_class_agreement']:.1f} %)")
    if "frechet" in row:
        line += (f"; Fréchet distance {row['frechet']:.3g} in digit-network features "
                 f"(noise floor, two Keras z sets: {row['frechet_floor']:.3g})")
    if config.report and config.format == "tflite":
        mode = BY_NAME[config.quantize]
        if "tflm_arena_bytes" in row:
            line += (f"; TFLite Micro: arena {row['tflm_arena_bytes']} bytes, pixels max "
                     f"{row['tflm_max_level_diff']} levels from LiteRT's with XNNPACK, "
                     f"{row['tflm_vs_builtin_max_level_diff']} from its builtin kernels")
        else:
            line += f"; TFLite Micro: does not run {mode.name} ({mode.why_not_tflm})"
    return line


def main(argv=None):
    (config,) = parse(build_parser("wgan-export", __doc__, ExportConfig), argv, ExportConfig)
    _check(config)
    check_keras_backend(os.environ)  # Keras raises a traceback while importing an unknown one
    _tensorflow_backend()
    remove_stale(os.path.dirname(os.path.abspath(config.out)))  # what a killed export left beside --out
    quiet_libraries()
    # The converter calibrates int8 through the deprecated tf.lite.Interpreter and says so, at length.
    warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
    try:
        with interruptible():  # SIGTERM cleans up like Ctrl-C; a Ctrl-C that TensorFlow swallows still stops
            line = export(config)
    except _GateFailed as e:  # nothing was published
        print("measured " + e.line)
        print(f"wgan-export: quality gate failed: {e.reason}; nothing written", file=sys.stderr)
        return 1
    print("wrote " + line)
    return 0


def _tensorflow_backend():
    """The export traces the generator into TensorFlow graphs, so it runs Keras on TensorFlow whatever
    KERAS_BACKEND says (a checkpoint saved under torch or JAX loads there: weights are backend-free)."""
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "tensorflow"  # a user's KERAS_BACKEND=torch/jax is for training
    # else: Keras is loaded already (the API); lib.load_generator refuses another backend in one line


def run(argv=None):
    """Console entry point: bad input -> one line on stderr, exit status 2."""
    run_cli("wgan-export", main, argv, interrupted=interrupted_message())  # what the disk holds


if __name__ == "__main__":
    run()

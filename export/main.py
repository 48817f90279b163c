"""`wgan-export`: a trained generator -> SavedModel or (quantized) fixed-batch TFLite.

    wgan-export --checkpoint run.keras --format tflite --quantize int8 --batch_size 1 --out g.tflite
    wgan-export --checkpoint run.keras --format saved_model --out g_savedmodel
    wgan-export --checkpoint run.keras --quantize full_int8 --c_array --report --min_psnr 35 --out g.tflite

Writes atomically, never replaces an existing --out without --overwrite, and prints the
size and the fidelity against the Keras generator on fixed latent vectors. A .tflite gets its
metadata beside it (<out stem>.json: shapes, every tensor's dtype, scale and zero point). The
quality gate (--min_psnr, --max_fd) exits 1 and writes nothing when the export misses it.
"""
import dataclasses
import os
import sys
import warnings
from typing import Optional

from wgan_edge.atomic import atomic_path, interruptible, remove_stale, write_bytes
from wgan_edge.cli import ConfigError, build_parser, check_fields, option, parse, quiet_libraries, run_cli
from wgan_edge.contract import QUANTIZATIONS, latent_vectors

FORMATS = ("saved_model", "tflite")


@dataclasses.dataclass
class ExportConfig:
    """Settings of wgan-export."""
    checkpoint: str = option(dataclasses.MISSING, ".keras file of a WGAN (e.g. a run's checkpoint.keras) or of a "
                                                  "generator.")
    out: str = option(dataclasses.MISSING, "Where to write: a .tflite file or a SavedModel folder.")
    format: str = option("tflite", "Output format.", choices=FORMATS)
    quantize: str = option("float32", "TFLite weights and arithmetic (tflite only).", choices=QUANTIZATIONS)
    batch_size: Optional[int] = option(None, "Fixed batch; default 1 for tflite, dynamic for saved_model.",
                                       low=1, high=4096)
    int8_io: bool = option(False, "int8 input z (with --quantize int8 or qat).")
    qat_steps: int = option(100, "qat: distillation steps.", low=0, high=100_000)
    sparsity: float = option(0.0, "qat: prune to this fraction of zero weights, then int8.", low=0.0, high=0.99)
    fidelity_samples: int = option(256, "Latent vectors for the printed fidelity against Keras.", low=1, high=4096)
    report: bool = option(False, "Also measure how many pixels follow the pixel rule, a Fréchet distance between "
                                 "the Keras and the exported samples, and (full_int8) the TFLite Micro arena.")
    min_psnr: Optional[float] = option(None, "Quality gate: exit 1, writing nothing, when the PSNR against Keras "
                                             "on the fixed z is below this (dB).", low=0.0, high=1000.0)
    max_fd: Optional[float] = option(None, "Quality gate: exit 1, writing nothing, when the Fréchet distance "
                                           "between Keras and exported samples exceeds this.", low=0.0, high=1e9)
    c_array: bool = option(False, "full_int8: also write <out stem>.cc/.h, the C array a TFLite Micro project "
                                  "compiles in, with the tensor-arena size.")
    overwrite: bool = option(False, "Replace an existing --out.")


def _check(config):
    """Cheap checks before TensorFlow loads (seconds)."""
    check_fields(config)
    if os.path.exists(config.out) and not config.overwrite:
        raise ConfigError("out", "exists; pass --overwrite to replace it", config.out)
    if not os.path.isfile(config.checkpoint):
        raise ConfigError("checkpoint", "not found: must be an existing .keras file", config.checkpoint)
    if config.format == "saved_model" and config.quantize != "float32":
        raise ConfigError("quantize", "applies to tflite only; a SavedModel is float32", config.quantize)
    if config.int8_io and config.quantize not in ("int8", "qat"):
        raise ConfigError("int8_io", "needs --quantize int8 or qat", config.int8_io)
    if config.c_array and (config.format != "tflite" or config.quantize != "full_int8"):
        raise ConfigError("c_array", "needs --format tflite --quantize full_int8 (TFLite Micro runs integer "
                                     "models)", config.c_array)
    for path in _side_files(config):
        if os.path.exists(path) and not config.overwrite:
            raise ConfigError("out", f"would replace {path}; pass --overwrite", config.out)


def _side_files(config):
    """Files written beside a .tflite --out: its metadata, and the C array with --c_array."""
    if config.format != "tflite":
        return []
    stem = os.path.splitext(config.out)[0]
    return [stem + ".json"] + ([stem + ".cc", stem + ".h"] if config.c_array else [])


def measure(config, generator, z, reference, images, model=None):
    """The fidelity row: per-pixel always; pixel rule, Fréchet distance and TFLM arena when asked."""
    from wgan_export import report
    row = report.fidelity(reference, images["images"])
    if config.report or config.max_fd is not None:
        from wgan_keras.images import generate_images
        other = generate_images(generator, latent_vectors(len(z), z.shape[1], seed=1))  # the sampling-noise floor
        row.update(report.distribution(reference, images, other))
    if config.report and model is not None and config.quantize == "full_int8":
        from wgan_export import micro
        row["tflm_arena_bytes"] = micro.arena_bytes(model)
    return row


def gate(config, row):
    """The quality gate's verdict: None when passed, else the reason (one line)."""
    if config.min_psnr is not None and row["psnr_db"] < config.min_psnr:
        return f"PSNR {row['psnr_db']:.1f} dB < --min_psnr {config.min_psnr}"
    if config.max_fd is not None and row["frechet"] > config.max_fd:
        return f"Fréchet distance {row['frechet']:.3g} > --max_fd {config.max_fd}"
    return None


def publish_tflite(config, generator, model, row):
    """Writes the .tflite, its metadata (tensor dtypes, scales, zero points) and, with --c_array, the C array."""
    import json

    from wgan_export import lib, micro, tflite
    meta_path, *c_paths = _side_files(config)
    info = lib.metadata(generator, config.batch_size or 1, quantize=config.quantize, tensors=tflite.io_params(model),
                        fidelity={k: v for k, v in row.items() if isinstance(v, (int, float))})
    if c_paths:
        info["tflm_arena_bytes"] = row.get("tflm_arena_bytes") or micro.arena_bytes(model)
        name = "g_" + "".join(ch if ch.isalnum() else "_" for ch in os.path.basename(os.path.splitext(config.out)[0]))
        notes = [f"{k}: {v['dtype']}{v['shape']} scale {v['scale']:.9g} zero_point {v['zero_point']}"
                 for k, v in info["tensors"].items()]
        for path, text in zip(c_paths, micro.c_array(model, name, info["tflm_arena_bytes"], notes)):
            write_bytes(path, text.encode(), overwrite=config.overwrite)
    write_bytes(meta_path, json.dumps(info, indent=2).encode(), overwrite=config.overwrite)
    write_bytes(config.out, model, overwrite=config.overwrite)


def export(config):
    """Converts, measures, gates and publishes one export; returns (exit code, the printed summary line)."""
    from wgan_export import lib
    from wgan_keras.images import generate_images
    generator = lib.load_generator(config.checkpoint)
    info = lib.describe(generator)
    z = latent_vectors(config.fidelity_samples, info["latent_dim"], seed=0)
    reference = generate_images(generator, z)
    if config.format == "tflite":
        from wgan_edge.runner import TFLiteGenerator
        from wgan_export.tflite import check_builtin_only, convert
        options = dict(steps=config.qat_steps, sparsity=config.sparsity) if config.quantize == "qat" else {}
        model = convert(generator, config.quantize, batch_size=config.batch_size or 1, int8_io=config.int8_io,
                        **options)
        check_builtin_only(model)
        row = measure(config, generator, z, reference, TFLiteGenerator(model)(z), model)
        failed = gate(config, row)
        if not failed:
            publish_tflite(config, generator, model, row)
        size = len(model)
    else:
        with atomic_path(config.out, overwrite=config.overwrite) as tmp:
            lib.write_saved_model(generator, tmp, config.batch_size)
            row = measure(config, generator, z, reference, lib.run_saved_model(tmp, z))
            failed = gate(config, row)
            if failed:
                raise _GateFailed(failed)  # leaves the atomic folder unpublished
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(config.out) for f in fs)
    return failed, _summary(config, info, size, len(z), row)


class _GateFailed(Exception):
    pass


def _summary(config, info, size, n, row):
    kind = config.quantize if config.format == "tflite" else "float32"
    batch = config.batch_size or (1 if config.format == "tflite" else "batch")  # a .tflite's batch is fixed
    line = (f"{config.out}: {config.format} {kind}, z[{batch}, {info['latent_dim']}] -> "
            f"images{tuple(info['image_shape'])}, {size / 1024:.1f} KiB; vs Keras on {n} z: "
            f"max |d| {row['max_abs']:.2e}, mean |d| {row['mean_abs']:.2e}, PSNR {row['psnr_db']:.1f} dB")
    if "frechet" in row:
        line += (f"; pixels exact {100 * row['pixels_exact']:.2f} %, Fréchet distance {row['frechet']:.3g} "
                 f"(two Keras z sets: {row['frechet_floor']:.3g})")
    if "tflm_arena_bytes" in row:
        line += f"; TFLite Micro arena {row['tflm_arena_bytes']} bytes"
    return line


def main(argv=None):
    (config,) = parse(build_parser("wgan-export", __doc__, ExportConfig), argv, ExportConfig)
    _check(config)
    remove_stale(os.path.dirname(os.path.abspath(config.out)))  # what a killed export left beside --out
    quiet_libraries()
    # The converter calibrates int8 through the deprecated tf.lite.Interpreter and says so, at length.
    warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
    try:
        with interruptible():  # SIGTERM cleans up like Ctrl-C; a Ctrl-C that TensorFlow swallows still stops
            failed, line = export(config)
    except _GateFailed as e:  # SavedModel: the atomic folder was discarded
        failed, line = str(e), None
    if failed:
        if line:
            print("measured " + line)
        print(f"wgan-export: quality gate failed: {failed}; nothing written", file=sys.stderr)
        return 1
    print("wrote " + line)
    return 0


def run(argv=None):
    """Console entry point: bad input -> one line on stderr, exit status 2."""
    run_cli("wgan-export", main, argv, interrupted="interrupted; nothing was written")


if __name__ == "__main__":
    run()

"""`wgan-export`: a trained generator -> SavedModel or (quantized) fixed-batch TFLite.

    wgan-export --checkpoint run.keras --format tflite --quantize int8 --batch_size 1 --out g.tflite
    wgan-export --checkpoint run.keras --format saved_model --out g_savedmodel

Writes atomically, never replaces an existing --out without --overwrite, and prints the
size and the fidelity against the Keras generator on fixed latent vectors.
"""
import dataclasses
import os
import warnings
from typing import Optional

from wgan_edge.atomic import atomic_path, remove_stale, write_bytes
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


def export(config):
    """Converts, measures and publishes one export; returns the printed summary line."""
    from wgan_export import lib
    from wgan_export.report import fidelity
    from wgan_keras.images import generate_images
    generator = lib.load_generator(config.checkpoint)
    info = lib.describe(generator)
    z = latent_vectors(config.fidelity_samples, info["latent_dim"], seed=0)
    reference = generate_images(generator, z)
    if config.format == "tflite":
        from wgan_edge.runner import TFLiteGenerator
        from wgan_export.tflite import check_builtin_only, convert
        options = dict(steps=config.qat_steps, sparsity=config.sparsity) if config.quantize == "qat" else {}
        payload = convert(generator, config.quantize, batch_size=config.batch_size or 1, int8_io=config.int8_io,
                          **options)
        check_builtin_only(payload)
        row = fidelity(reference, TFLiteGenerator(payload)(z)["images"])
        write_bytes(config.out, payload, overwrite=config.overwrite)
        size = len(payload)
    else:
        with atomic_path(config.out, overwrite=config.overwrite) as tmp:
            lib.write_saved_model(generator, tmp, config.batch_size)
            row = fidelity(reference, lib.run_saved_model(tmp, z)["images"])
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(config.out) for f in fs)
    kind = config.quantize if config.format == "tflite" else "float32"
    return (f"wrote {config.out}: {config.format} {kind}, z[{config.batch_size or 'batch'}, {info['latent_dim']}] -> "
            f"images{tuple(info['image_shape'])}, {size / 1024:.1f} KiB; vs Keras on {len(z)} z: "
            f"max |d| {row['max_abs']:.2e}, mean |d| {row['mean_abs']:.2e}, PSNR {row['psnr_db']:.1f} dB")


def main(argv=None):
    (config,) = parse(build_parser("wgan-export", __doc__, ExportConfig), argv, ExportConfig)
    _check(config)
    remove_stale(os.path.dirname(os.path.abspath(config.out)))  # what a killed export left beside --out
    quiet_libraries()
    # The converter calibrates int8 through the deprecated tf.lite.Interpreter and says so, at length.
    warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
    print(export(config))
    return 0


def run(argv=None):
    """Console entry point: bad input -> one line on stderr, exit status 2."""
    run_cli("wgan-export", main, argv, interrupted="interrupted; nothing was written")


if __name__ == "__main__":
    run()

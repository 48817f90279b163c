"""`wgan-export`: a trained generator -> SavedModel or (quantized) fixed-batch TFLite.

    wgan-export --checkpoint run.keras --format tflite --quantize int8 --batch_size 1 --out g.tflite
    wgan-export --checkpoint run.keras --format saved_model --out g_savedmodel

Writes atomically, never replaces an existing --out without --overwrite, and
prints the size and the fidelity against the Keras generator.
"""
import os
import shutil
import sys

from export.cli import OneLineParser

FORMATS = ("saved_model", "tflite")
QUANTIZATIONS = ("float32", "float16", "dynamic", "int8", "qat")


def parse_args(argv):
    p = OneLineParser(prog="wgan-export", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help=".keras file of a WGAN or of a generator")
    p.add_argument("--format", choices=FORMATS, default="tflite")
    p.add_argument("--quantize", choices=QUANTIZATIONS, default="float32", help="tflite only")
    p.add_argument("--batch_size", type=int, default=None,
                   help="fixed batch (tflite default 1; saved_model default dynamic)")
    p.add_argument("--int8_io", action="store_true", help="int8 input z (int8/qat only)")
    p.add_argument("--qat_steps", type=int, default=100, help="qat: distillation steps")
    p.add_argument("--sparsity", type=float, default=0.0, help="qat: prune to this sparsity, then int8")
    p.add_argument("--fidelity_samples", type=int, default=256, help="latent vectors for the printed fidelity")
    p.add_argument("--out", required=True)
    p.add_argument("--overwrite", action="store_true")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    # Cheap checks before TensorFlow loads (seconds): plain ValueError, same one-line handling.
    if os.path.exists(args.out) and not args.overwrite:
        raise ValueError(f"{args.out} exists; pass --overwrite to replace it")
    if args.batch_size is not None and args.batch_size < 1:
        raise ValueError(f"--batch_size must be >= 1, got {args.batch_size}")
    if not os.path.isfile(args.checkpoint):
        raise ValueError(f"checkpoint not found: {args.checkpoint}")

    from export import lib
    from export.atomic import atomic_path, write_bytes
    from export.report import fidelity, tflite_row
    options = {}
    if args.format == "tflite":
        options["int8_io"] = args.int8_io
        if args.quantize == "qat":
            options.update(steps=args.qat_steps, sparsity=args.sparsity)
    generator, payload = lib.export(args.checkpoint, args.format, args.quantize, args.batch_size, **options)
    info = lib.describe(generator)
    z = lib.latent_vectors(args.fidelity_samples, info["latent_dim"], seed=0)
    reference = lib.keras_images(generator, z)
    if args.format == "tflite":
        from export.tflite import check_builtin_only
        check_builtin_only(payload)
        row = tflite_row(generator, payload, z, reference)
        write_bytes(args.out, payload, overwrite=args.overwrite)
        size = len(payload)
    else:
        try:
            row = fidelity(reference, lib.run_saved_model(payload, z)["images"])
            with atomic_path(args.out, overwrite=args.overwrite) as tmp:
                shutil.copytree(payload, tmp)
        finally:
            shutil.rmtree(os.path.dirname(payload), ignore_errors=True)
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(args.out) for f in fs)
    print(f"wrote {args.out}: {args.format} {args.quantize if args.format == 'tflite' else 'float32'}, "
          f"z[{args.batch_size or 'batch'}, {info['latent_dim']}] -> images{tuple(info['image_shape'])}, "
          f"{size / 1024:.1f} KiB; vs Keras on {len(z)} z: max |d| {row['max_abs']:.2e}, "
          f"mean |d| {row['mean_abs']:.2e}, PSNR {row['psnr_db']:.1f} dB")
    return 0


def run(argv=None):
    """Console entry point: bad input -> one line on stderr, exit status 2."""
    try:
        sys.exit(main(argv))
    except (ValueError, FileExistsError, OSError) as e:
        print(f"wgan-export: error: {str(e).splitlines()[0] if str(e) else type(e).__name__}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    run()

"""The report: one measured row (wgan_export.measure) as the command's summary line, and rows of every mode
as the benchmarks' markdown table (docs/export.md).
"""
import gzip

from wgan_edge.contract import latent_vectors
from wgan_edge.runner import TFLiteGenerator
from wgan_export.convert import convert
from wgan_export.load import describe, reference_labels
from wgan_export.measure import latency_ms, measure
from wgan_export.modes import NAMES, mode
from wgan_keras.images import generate_images


def tflite_row(generator, model_bytes, z, reference, latency_models=None, num_threads=2, quantize=None):
    """One benchmark row for a TFLite model; `latency_models` maps batch -> model bytes to time."""
    from wgan_export import micro
    labels = reference_labels(generator, len(z))
    outputs = TFLiteGenerator(model_bytes, num_threads)(z, labels)
    tflm = quantize is not None and mode(quantize).tflm and micro.available()
    row = {"size_bytes": len(model_bytes), "gzip_bytes": len(gzip.compress(model_bytes, 9)),
           **measure(generator, z, reference, outputs, frechet_too=True, tflm_model=model_bytes if tflm else None)}
    for batch, m in (latency_models or {}).items():
        row[f"ms_batch{batch}"] = latency_ms(m, num_threads)
    return row


def report(generator, quantizations=NAMES, n=1000, seed=0, batches=(1, 64), num_threads=2, **qat_options):
    """{quantization: row} for fixed-batch TFLite files, fidelity on `n` fixed latents (seed)."""
    z = latent_vectors(n, describe(generator)["latent_dim"], seed)
    reference = generate_images(generator, z, labels=reference_labels(generator, n))
    rows = {}
    for q in quantizations:
        options = qat_options if mode(q).options else {}  # the route's own keywords
        models = {b: convert(generator, q, batch_size=b, **options) for b in batches}
        rows[q] = tflite_row(generator, models[max(batches)], z, reference, models, num_threads, quantize=q)
    return rows


COLUMNS = (("size KiB", lambda r: f"{r['size_bytes'] / 1024:.1f}"), ("PSNR dB", lambda r: f"{r['psnr_db']:.1f}"),
           ("max \\|Δ\\|", lambda r: f"{r['max_abs']:.3f}"),
           ("pixels = Keras %", lambda r: f"{100 * r['pixels_equal_keras']:.1f}"),
           ("max level diff", lambda r: str(r["max_level_diff"])), ("levels", lambda r: str(r["levels"])),
           ("Fréchet (floor)", lambda r: f"{r['frechet']:.3g} ({r['frechet_floor']:.3g})" if "frechet" in r else "–"),
           ("class agreement % (Keras)", lambda r: f"{100 * r['class_agreement']:.1f} "
            f"({100 * r['keras_class_agreement']:.1f})" if "class_agreement" in r else "–"),
           ("TFLM arena KiB", lambda r: f"{r['tflm_arena_bytes'] / 1024:.1f}" if "tflm_arena_bytes" in r else "–"),
           ("TFLM vs LiteRT max levels (XNNPACK / builtin)", lambda r: f"{r['tflm_max_level_diff']} / "
            f"{r.get('tflm_vs_builtin_max_level_diff', '?')}" if "tflm_max_level_diff" in r else "–"))


def format_table(rows):
    keys = sorted({k for r in rows.values() for k in r if k.startswith("ms_batch")}, key=lambda k: int(k[8:]))
    head = ["mode"] + [c for c, _ in COLUMNS] + [f"ms @{k[8:]}" for k in keys]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in rows.items():
        lines.append("| " + " | ".join([name] + [f(r) for _, f in COLUMNS] + [f"{r[k]:.2f}" for k in keys]) + " |")
    return "\n".join(lines)


def summary(config, info, size, n, row, fixed_batch=True, on_board=False):
    """The line the command prints: what was written, its size, and the row against Keras. `fixed_batch`: the
    format's batch is fixed (a .tflite); `on_board`: TFLite Micro's results are reported (the tflite format)."""
    batch = config.batch_size or (1 if fixed_batch else "batch")
    label = f" + label[{batch}] ({info['num_classes']} classes)" if "num_classes" in info else ""
    line = (f"{config.out}: {config.format} {config.quantize}, z[{batch}, {info['latent_dim']}]{label} -> "
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
    if config.report and on_board:
        m = mode(config.quantize)
        if "tflm_arena_bytes" in row:
            line += (f"; TFLite Micro: arena {row['tflm_arena_bytes']} bytes, pixels max "
                     f"{row['tflm_max_level_diff']} levels from LiteRT's with XNNPACK, "
                     f"{row['tflm_vs_builtin_max_level_diff']} from its builtin kernels")
        else:
            line += f"; TFLite Micro: does not run {m.name} ({m.why_not_tflm})"
    return line

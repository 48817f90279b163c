"""Fidelity, size and LiteRT latency of exported generators against the Keras generator."""
import gzip
import time

import numpy as np

from wgan_edge.contract import QUANTIZATIONS, latent_vectors, to_uint8
from wgan_edge.runner import TFLiteGenerator
from wgan_export.lib import describe
from wgan_export.quality import frechet_distance
from wgan_export.tflite import convert
from wgan_keras.images import generate_images


def fidelity(reference, images):
    """max / mean |delta| and PSNR (peak-to-peak 2 for [-1, 1] images) of `images` against `reference`."""
    delta = np.abs(np.asarray(images, np.float32) - np.asarray(reference, np.float32))
    mse = float(np.mean(delta ** 2))
    return {"max_abs": float(delta.max()), "mean_abs": float(delta.mean()),
            "psnr_db": float("inf") if mse == 0 else float(10 * np.log10(4.0 / mse))}


def distribution(reference, outputs, other=None, features=None):
    """What a user judges beyond per-pixel error: the share of `pixels` equal to the pixel rule of
    `images`, and the Fréchet distance between the Keras samples and the exported ones (with, when
    `other` Keras samples on different z are given, the same distance between the two Keras sets: the
    sampling-noise floor at this n, which a quantized model's distance should sit far below)."""
    row = {"pixels_exact": float(np.mean(outputs["pixels"] == to_uint8(outputs["images"]))),
           "frechet": frechet_distance(reference, outputs["images"], features)}
    if other is not None:
        row["frechet_floor"] = frechet_distance(reference, other, features)
    return row


def latency_ms(model_bytes, num_threads=2, repeats=20):
    """Median ms per invocation of a fixed-batch model in LiteRT."""
    runner = TFLiteGenerator(model_bytes, num_threads=num_threads)
    z = latent_vectors(runner.batch_size or 1, runner.latent_dim, seed=99)
    runner(z)  # warm-up (delegate preparation)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        runner(z)
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


def tflite_row(generator, model_bytes, z, reference, latency_models=None, num_threads=2):
    """One report row for a TFLite model; `latency_models` maps batch -> model bytes to time."""
    row = {"size_bytes": len(model_bytes), "gzip_bytes": len(gzip.compress(model_bytes, 9))}
    runner = TFLiteGenerator(model_bytes, num_threads)
    outputs = runner(z)
    row.update(fidelity(reference, outputs["images"]))
    row.update(distribution(reference, outputs))
    from wgan_export import micro
    if runner.outputs["images"]["dtype"] == np.int8 and micro.available():  # full_int8: the board's arena
        try:
            row["tflm_arena_bytes"] = micro.arena_bytes(model_bytes)
        except RuntimeError:  # e.g. ai-edge-quantizer's integer models keep ops TFLM lacks
            pass
    for batch, m in (latency_models or {}).items():
        row[f"ms_batch{batch}"] = latency_ms(m, num_threads)
    return row


def report(generator, quantizations=QUANTIZATIONS, n=1000, seed=0,
           batches=(1, 64), num_threads=2, **qat_options):
    """{quantization: row} for fixed-batch TFLite files, fidelity on `n` fixed latents (seed)."""
    z = latent_vectors(n, describe(generator)["latent_dim"], seed)
    reference = generate_images(generator, z)
    rows = {}
    for q in quantizations:
        options = qat_options if q == "qat" else {}
        models = {b: convert(generator, q, batch_size=b, **options) for b in batches}
        rows[q] = tflite_row(generator, models[max(batches)], z, reference, models, num_threads)
    return rows


def format_table(rows):
    keys = sorted({k for r in rows.values() for k in r if k.startswith("ms_batch")}, key=lambda k: int(k[8:]))
    head = ["format", "size KiB", "gzip KiB", "max |d|", "mean |d|", "PSNR dB", "Fréchet", "pixels exact %",
            "TFLM arena KiB"] + [f"ms @{k[8:]}" for k in keys]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, r in rows.items():
        arena = f"{r['tflm_arena_bytes'] / 1024:.1f}" if "tflm_arena_bytes" in r else "-"
        cells = [name, f"{r['size_bytes'] / 1024:.1f}", f"{r['gzip_bytes'] / 1024:.1f}", f"{r['max_abs']:.2e}",
                 f"{r['mean_abs']:.2e}", f"{r['psnr_db']:.1f}", f"{r.get('frechet', float('nan')):.2e}",
                 f"{100 * r.get('pixels_exact', float('nan')):.2f}", arena] + [f"{r[k]:.2f}" for k in keys]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)

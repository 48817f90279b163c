"""Stage 5 and 6, measure and gate: what an export does to the user's samples, measured against the KERAS
generator (never the model against itself): per-pixel error, the share of pixels equal to Keras's own pixels,
the largest level difference, distinct levels, a Fréchet distance in the bundled digit network's features
(28x28x1 generators) beside its sampling-noise floor, TFLite Micro against LiteRT; then the quality gate.

`measure` builds the one row the command prints (wgan_export.report.summary), records in the metadata and
gates, and the benchmarks tabulate (wgan_export.report.format_table).
"""
import time

import numpy as np

from wgan_edge.contract import latent_vectors, to_uint8
from wgan_edge.runner import TFLiteGenerator
from wgan_export.load import describe, reference_labels
from wgan_keras.evaluation import FeatureExtractor, frechet_distance
from wgan_keras.images import generate_images

DIGIT_SHAPE = (28, 28, 1)  # the bundled digit network's own input: Fréchet distances only there
# A Fréchet distance between feature sets that differ only by float32 rounding comes out of sqrtm at
# ~1e-9 of the features' total variance, not 0 (1.57e-09 measured on a bit-identical SavedModel): below
# this share of the variance it is noise and reads as 0, so `--max_fd 0` passes an exact export.
FD_NOISE = 1e-7


def fidelity(reference, images):
    """max / mean |delta| and PSNR (peak-to-peak 2 for [-1, 1] images) of `images` against `reference`."""
    delta = np.abs(np.asarray(images, np.float32) - np.asarray(reference, np.float32))
    mse = float(np.mean(delta.astype(np.float64) ** 2))
    return {"max_abs": float(delta.max()), "mean_abs": float(delta.mean()),
            "psnr_db": float("inf") if mse == 0 else float(10 * np.log10(4.0 / mse))}


def pixel_row(reference, outputs):
    """The exported `pixels` against Keras's own pixels (to_uint8 of the Keras images) on the same z."""
    keras_pixels = to_uint8(reference).astype(np.int16)
    pixels = np.asarray(outputs["pixels"]).astype(np.int16)
    diff = np.abs(pixels - keras_pixels)
    return {"pixels_equal_keras": float(np.mean(diff == 0)), "max_level_diff": int(diff.max()),
            "levels": int(len(np.unique(pixels))), "keras_levels": int(len(np.unique(keras_pixels)))}


def digit_features(image_shape):
    """The bundled digit network for 28x28x1 generators, else None (its features mean nothing there)."""
    return FeatureExtractor() if tuple(image_shape) == DIGIT_SHAPE else None


def frechet(features, a, b):
    """wgan_keras.evaluation.frechet_distance in `features`, with float32 noise read as 0 (FD_NOISE)."""
    fa, fb = np.asarray(features(a), np.float64), np.asarray(features(b), np.float64)
    fd = frechet_distance(fa, fb)
    return 0.0 if fd <= FD_NOISE * (fa.var(0).sum() + fb.var(0).sum()) else fd


def distribution(features, reference, images, other):
    """Fréchet distance Keras vs export, and between two Keras sets on different z (the noise floor)."""
    return {"frechet": frechet(features, reference, images), "frechet_floor": frechet(features, reference, other)}


def worst_class(reference, images, labels):
    """A conditional export's weakest class: {"worst_class", "worst_class_psnr_db"} over the classes in `labels`."""
    psnr = {int(c): fidelity(reference[labels == c], images[labels == c])["psnr_db"] for c in np.unique(labels)}
    worst = min(psnr, key=psnr.get)
    return {"worst_class": worst, "worst_class_psnr_db": psnr[worst]}


def measure(generator, z, reference, outputs, frechet_too=False, tflm_model=None):
    """The full row against Keras; `frechet_too` adds the digit-network Fréchet distance (28x28x1 only),
    `tflm_model` (.tflite bytes of a mode TFLite Micro runs) its arena and its difference from LiteRT.
    A conditional generator is measured on the classes in turn (`load.reference_labels`), overall and per class."""
    info, labels = describe(generator), reference_labels(generator, len(z))
    row = fidelity(reference, outputs["images"])
    row.update(pixel_row(reference, outputs))
    if labels is not None:
        row.update(worst_class(reference, np.asarray(outputs["images"]), labels))
    features = digit_features(info["image_shape"]) if frechet_too else None
    if features is not None:
        other = generate_images(generator, latent_vectors(len(z), z.shape[1], seed=1), labels=labels)
        row.update(distribution(features, reference, outputs["images"], other))
        if labels is not None and info["num_classes"] == 10:  # digits: is a 7 still a 7?
            row.update(class_agreement(reference, outputs["images"], labels))
    if tflm_model is not None:
        from wgan_export import micro
        row.update(micro.against_litert(tflm_model, z[:64], None if labels is None else labels[:64]))
    return row


def class_agreement(reference, images, labels):
    """The share of samples the bundled digit classifier assigns to their requested class, for the
    export's images and for Keras's (a conditional generator over the digits 0-9)."""
    from wgan_keras.evaluation.digits import digit_classifier
    classifier = FeatureExtractor(digit_classifier())  # resizes as the features do

    def agreement(x):
        return float(np.mean(np.argmax(np.asarray(classifier(x)), -1) == labels))
    return {"class_agreement": agreement(images), "keras_class_agreement": agreement(reference)}


def latency_ms(model_bytes, num_threads=2, repeats=20):
    """Median ms per invocation of a fixed-batch model in LiteRT."""
    runner = TFLiteGenerator(model_bytes, num_threads=num_threads)
    z = latent_vectors(runner.batch_size or 1, runner.latent_dim, seed=99)
    labels = 0 if runner.conditional else None  # class 0 for all: a gather costs the same for any class
    runner(z, labels)  # warm-up (delegate preparation)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        runner(z, labels)
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


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

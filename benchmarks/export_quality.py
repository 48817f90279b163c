"""Fidelity / size / latency of every --quantize mode, and of the candidates that were measured and did
not adopt (int8 calibrated on 200 prior z, int8 with the debugger's worst layer kept float, Google's
ai-edge-quantizer), on one checkpoint:

    python benchmarks/export_quality.py --checkpoint run.keras [--n 1000] [--json out.json]
        [--aeq_python venv/bin/python]   # a Python with `pip install ai-edge-quantizer` (not a dependency)
"""
import argparse
import io
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

AEQ = """
import sys, numpy as np
from ai_edge_quantizer import quantizer, recipe
from ai_edge_litert.interpreter import Interpreter
q = quantizer.Quantizer(sys.argv[1]); q.load_quantization_recipe(getattr(recipe, sys.argv[3])())
b, d = Interpreter(model_path=sys.argv[1]).get_signature_runner("generate").get_input_details()["z"]["shape"]
z = np.random.default_rng(1234).standard_normal((1024, d)).astype(np.float32); z = np.concatenate([z, -z])
res = q.quantize(q.calibrate({"generate": [{"z": z[i:i + b]} for i in range(0, len(z) - b + 1, b)]}))
open(sys.argv[2], "wb").write(bytes(res.quantized_model))
"""


def selective_int8(generator, top=1):
    """int8 with the `top` tensors of largest RMSE/scale (tf.lite.experimental.QuantizationDebugger) kept float."""
    import csv

    import tensorflow as tf

    from wgan_edge.contract import SIGNATURE, latent_vectors
    from wgan_export import endpoint, load, pixels
    latent_dim = load.describe(generator)["latent_dim"]
    with tempfile.TemporaryDirectory() as tmp:
        converter = tf.lite.TFLiteConverter.from_saved_model(endpoint.write_saved_model(generator, tmp + "/sm", 1),
                                                             signature_keys=[SIGNATURE])
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = endpoint.representative_dataset(latent_dim, 1)
        debug_z = latent_vectors(64, latent_dim, seed=4321)
        debugger = tf.lite.experimental.QuantizationDebugger(converter=converter,
                                                             debug_dataset=lambda: ([z[None]] for z in debug_z))
        debugger.run()
        dump = io.StringIO()
        debugger.layer_statistics_dump(dump)
        dump.seek(0)
        rows = [r for r in csv.DictReader(dump) if float(r["scale"]) > 0]
        worst = sorted(rows, key=lambda r: float(r["mean_squared_error"]) ** 0.5 / float(r["scale"]))[-top:]
        debugger.options = tf.lite.experimental.QuantizationDebugOptions(
            denylisted_nodes=[r["tensor_name"] for r in worst])
        return pixels.exact_pixels(bytes(debugger.get_nondebug_quantized_model())), [r["tensor_name"] for r in worst]


def old_calibration_int8(generator):
    """int8 as first calibrated: 200 prior z, no antithetic half (pixels exact as now)."""
    from wgan_export import convert, endpoint, load, modes, pixels
    latent_dim = load.describe(generator)["latent_dim"]
    with tempfile.TemporaryDirectory() as tmp:
        saved = endpoint.write_saved_model(generator, tmp + "/sm", 1, integer=True, clamp=modes.TANH_CLAMP)
        converter = convert.converter_for(saved, "int8", latent_dim, 1)
        converter.representative_dataset = endpoint.representative_dataset(latent_dim, 1, n=200, antithetic=False)
        return pixels.exact_pixels(bytes(converter.convert()))


def candidates(generator, aeq_python=None):
    from wgan_export import convert
    models = {"int8, 200 z calibration (before)": old_calibration_int8(generator)}
    models["int8, worst layer float (debugger)"], denied = selective_int8(generator)
    print("debugger kept float:", denied, file=sys.stderr)
    if aeq_python:
        with tempfile.TemporaryDirectory() as tmp:
            open(tmp + "/f.tflite", "wb").write(convert.convert(generator, "float32", batch_size=1))
            for name in ("static_wi8_ai8", "static_wi8_ai16"):
                subprocess.run([aeq_python, "-c", AEQ, tmp + "/f.tflite", tmp + "/q.tflite", name], check=True,
                               capture_output=True, env=dict(os.environ, PYTHONPATH=""))
                models[f"ai-edge-quantizer {name}"] = open(tmp + "/q.tflite", "rb").read()
    return models


def variant(generator, quantize, clamp=True, tail16=True, floor_shift=True, layers=1, fold=True):
    """An integer mode with parts of its recipe (its `Mode` row) switched off: the BatchNorm fold, the tanh
    clamp, the 16-bit last layer, or its floor to the pixel grid (rounding instead)."""
    import dataclasses

    from wgan_export import convert, modes
    row = modes.mode(quantize)
    recipe = dataclasses.replace(row, fold=fold, tanh_clamp=row.tanh_clamp if clamp else None,
                                 tail_layers=layers if tail16 else 0, floor_shift=floor_shift)
    return convert.convert(generator, recipe, batch_size=1)


VARIANTS = {"full_int8 without the integer pipeline (no clamp, int8 tanh)": dict(clamp=False, tail16=False, fold=False),
            "full_int8, BN not folded into the Dense": dict(fold=False),
            "full_int8, clamp only (int8 tanh)": dict(tail16=False),
            "full_int8, 16-bit tail rounding to the grid (no floor)": dict(floor_shift=False),
            "full_int8, last 2 layers 16-bit": dict(layers=2)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--qat_steps", type=int, default=100)
    p.add_argument("--modes", default=None, help="comma-separated --quantize modes (default: all)")
    p.add_argument("--candidates", action="store_true", help="also the earlier candidates (debugger, old calibration)")
    p.add_argument("--variants", action="store_true", help="also full_int8 without parts of the integer pipeline")
    p.add_argument("--aeq_python", default=None)
    p.add_argument("--json", default=None)
    args = p.parse_args()
    from wgan_edge.contract import latent_vectors
    from wgan_export import load, modes, report
    from wgan_keras.images import generate_images
    generator = load.load_generator(args.checkpoint)
    names = args.modes.split(",") if args.modes else modes.NAMES
    rows = report.report(generator, quantizations=names, n=args.n, batches=(1,), steps=args.qat_steps)
    z = latent_vectors(args.n, load.describe(generator)["latent_dim"], seed=0)
    reference = generate_images(generator, z, labels=load.reference_labels(generator, args.n))
    extra = {}
    if args.variants:
        extra.update({name: ("full_int8", variant(generator, "full_int8", **v)) for name, v in VARIANTS.items()})
    if args.candidates:
        extra.update({name: (None, m) for name, m in candidates(generator, args.aeq_python).items()})
    for name, (q, model) in extra.items():
        rows[name] = report.tflite_row(generator, model, z, reference, {1: model}, quantize=q)
    print(report.format_table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"checkpoint": args.checkpoint, "n": args.n, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()

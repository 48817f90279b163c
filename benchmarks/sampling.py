"""Sampling latency / throughput: Keras, SavedModel, TFLite (LiteRT, 2 threads), and the
cold start of `wgan-sample` (process start -> PNG written) with and without TensorFlow.

    python benchmarks/sampling.py --checkpoint run.keras [--report] [--json out.json]

--report also prints the fidelity/size table of wgan_export.report (every quantization).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402


def timed(fn, repeats=20):
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return float(np.median(times))


# The same sampling through TensorFlow's interpreter: what a board with TF installed would run.
TF_SAMPLER = """
import sys, numpy as np, tensorflow as tf
from wgan_edge.png import encode_png, image_grid
it = tf.lite.Interpreter(model_path=sys.argv[1], num_threads=2)
run = it.get_signature_runner("generate")
b, d = run.get_input_details()["z"]["shape"]
z = np.random.default_rng(0).standard_normal((64, d)).astype(np.float32)
px = np.concatenate([run(z=z[i:i + b])["pixels"] for i in range(0, 64, b)])
open(sys.argv[2], "wb").write(encode_png(image_grid(px)))
"""


def cold_start(model_path, runs=3):
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        commands = {"wgan-sample (LiteRT only)": [sys.executable, "-m", "wgan_edge.sample", "--model", model_path,
                                                  "--num", "64", "--out", os.path.join(tmp, "a.png"), "--overwrite"],
                    "same through TensorFlow": [sys.executable, "-c", TF_SAMPLER, model_path,
                                                os.path.join(tmp, "b.png")]}
        for name, cmd in commands.items():
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                subprocess.run(cmd, check=True, capture_output=True)
                times.append(time.perf_counter() - t)
            out[name] = float(np.median(times))
    return out


def main(argv=None):
    p = argparse.ArgumentParser()
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--report", action="store_true")
    p.add_argument("--json", default=None)
    p.add_argument("--qat_steps", type=int, default=100)
    args = p.parse_args(argv)

    import tensorflow as tf

    from wgan_edge.contract import latent_vectors
    from wgan_edge.runner import TFLiteGenerator
    from wgan_export import endpoint, load, report
    from wgan_export.convert import convert
    generator = load.load_generator(args.checkpoint)
    d = load.describe(generator)["latent_dim"]
    results = {"latency_ms": {}, "cold_start_s": {}}
    with tempfile.TemporaryDirectory() as tmp:
        sm = endpoint.write_saved_model(generator, os.path.join(tmp, "sm"))
        signature = tf.saved_model.load(sm).signatures["generate"]
        for n in (1, 64):
            z = latent_vectors(n, d, seed=5)
            zt = tf.constant(z)
            rows = {"keras generator(z)": lambda: generator(zt, training=False).numpy(),
                    "SavedModel (dynamic batch)": lambda: signature(z=zt)["images"].numpy()}
            for q in ("float32", "float16", "int8"):
                runner = TFLiteGenerator(convert(generator, q, batch_size=n), num_threads=2)
                rows[f"TFLite {q} (LiteRT, batch {n})"] = lambda r=runner: r(z)
            for name, fn in rows.items():
                results["latency_ms"].setdefault(name.replace(f", batch {n}", ""), {})[n] = timed(fn)
        path = os.path.join(tmp, "g.tflite")
        with open(path, "wb") as f:
            f.write(convert(generator, "float32", batch_size=64))
        results["cold_start_s"] = cold_start(path)
        if args.report:
            results["report"] = report.report(generator, steps=args.qat_steps)

    print("| path | ms @1 | ms @64 | samples/s @64 |\n|---|---|---|---|")
    for name, r in results["latency_ms"].items():
        print(f"| {name} | {r[1]:.2f} | {r[64]:.2f} | {64e3 / r[64]:.0f} |")
    print("\n| cold start: process start -> 64-sample PNG | s |\n|---|---|")
    for name, s in results["cold_start_s"].items():
        print(f"| {name} | {s:.2f} |")
    if args.report:
        print("\n" + report.format_table(results["report"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""How the input pipeline scales with a folder's size: peak memory and time to the first generator iteration,
the pipeline's images/s against what training consumes, and the bundled digits' iterations/s.

    python benchmarks/data_scale.py --root /tmp/scale-bench --sizes 5000 20000 200000 \\
        --out benchmarks/results/data_scale_intel.json [--base /tmp/scale-base]

Folders are drawn by benchmarks/shapes.py (64x64 RGB JPEGs) into ROOT/shapes_N unless they exist. For each
size, `wgan-train --images DIR --generator_iters 3 --base_filters 16` runs in a fresh process (first start),
then again with --generator_iters 6 (a resume); each reports its peak RSS (the process's ru_maxrss) and the
seconds from the command to its first "generator iteration" line. --base: a checkout of the code before the
streaming pipeline (PYTHONPATH), for the bundled digits' before/after iterations per second.
Not a test: figures depend on the machine and on what else runs on it.
"""
import argparse
import csv
import json
import os
import platform
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TRAIN = os.path.join(os.path.dirname(sys.executable), "wgan-train")


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            return next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        return platform.processor() or "unknown"


def folder(root, n):
    path = os.path.join(root, f"shapes_{n}")
    if not os.path.isdir(path):
        subprocess.run([sys.executable, os.path.join(HERE, "shapes.py"), "--out", path, "--num", str(n), "--jobs",
                        "2"], check=True)
    return path


def timed_run(argv, env=None):
    """(seconds to the first 'generator iteration' line, peak RSS in MB, output) of one process."""
    start = time.time()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    first, lines = None, []
    for line in proc.stdout:
        lines.append(line.rstrip())
        if first is None and line.startswith("generator iteration"):
            first = time.time() - start
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}): {lines[-3:]}")
    return first, usage.ru_maxrss / 1024, lines


def start_and_resume(root, n, scratch):
    images, workdir = folder(root, n), os.path.join(scratch, f"run_{n}")
    argv = [TRAIN, "--images", images, "--base_filters", "16", "--workdir", workdir]
    first, rss, lines = timed_run(argv + ["--generator_iters", "3"])
    again, rss_again, lines_again = timed_run(argv + ["--generator_iters", "6"])
    subprocess.run(["rm", "-rf", workdir], check=True)
    decision = next((line for line in lines if line.startswith("data:")), "")
    return {"files": n, "first_start_s": round(first, 1), "first_start_rss_mb": round(rss),
            "resume_s": round(again, 1), "resume_rss_mb": round(rss_again), "data_line": decision}


def pipeline_vs_training(root, n, steps=12):
    """The pipeline alone (images/s over `steps` steps of m=64, n_critic=5) against what one DCGAN width-64
    64x64 training step consumes, both in this process on the same cores."""
    import numpy as np

    from wgan_keras.build import build_model, optimizers
    from wgan_keras.config import TrainConfig
    from wgan_keras.data import epochs_dataset
    from wgan_keras.data.files import index_folder
    from wgan_keras.data.source import Streamed

    index = index_folder(folder(root, n))
    streamed = Streamed(len(index), 64, 3, index=index)
    batches = iter(epochs_dataset(streamed, 64, 5, seed=0, first_epoch=0, num_epochs=1))
    next(batches)
    start = time.time()
    for _ in range(steps * 5):
        next(batches)
    pipeline = steps * 5 * 64 / (time.time() - start)

    config = TrainConfig(images="x", image_size=64, channels=3, base_filters=64, batch_size=64, n_critic=5).validate()
    model = build_model(config, (64, 64, 3))
    model.compile(**optimizers(config, 100))
    x = np.random.default_rng(0).integers(0, 256, (64 * 5 * 4, 64, 64, 3), np.uint8)
    model.fit(epochs_dataset(x, 64, 5, 0, 0, 1), steps_per_epoch=1, epochs=1, verbose=0)  # compile, warm up
    start = time.time()
    model.fit(epochs_dataset(x, 64, 5, 0, 0, 3), steps_per_epoch=4, epochs=3, verbose=0)
    step_s = (time.time() - start) / 12
    return {"pipeline_images_per_s": round(pipeline), "training_step_s": round(step_s, 2),
            "training_images_per_s": round(5 * 64 / step_s), "ratio": round(pipeline * step_s / (5 * 64), 1)}


def digits_its(scratch, base=None, iters=60):
    """Generator iterations per second on the bundled digits (between iterations 10 and `iters`)."""
    workdir = os.path.join(scratch, "digits")
    env = dict(os.environ)
    if base:
        env["PYTHONPATH"] = os.pathsep.join([base, os.path.join(base, "edge"), os.path.join(base, "export")])
    timed_run([TRAIN, "--workdir", workdir, "--generator_iters", str(iters), "--log_every", "1"], env=env)
    with open(os.path.join(workdir, "metrics.csv"), newline="") as f:
        wall = {int(r["generator_iterations"]): float(r["wall_time"]) for r in csv.DictReader(f)}
    subprocess.run(["rm", "-rf", workdir], check=True)
    return (iters - 10) / (wall[iters] - wall[10])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--root", required=True, help="folder for the shapes_N image folders")
    parser.add_argument("--sizes", type=int, nargs="+", default=[5000, 20000, 200000])
    parser.add_argument("--out", help="JSON file for the figures")
    parser.add_argument("--base", help="a checkout before the streaming pipeline, for the digits' before/after")
    parser.add_argument("--skip", nargs="*", default=[], choices=["scale", "pipeline", "digits"])
    args = parser.parse_args()
    scratch = os.path.join(args.root, "work")
    os.makedirs(scratch, exist_ok=True)
    result = {"cpu": cpu_name(), "cores": os.cpu_count(), "command": " ".join(sys.argv)}
    if "scale" not in args.skip:
        result["scale"] = []
        for n in args.sizes:
            result["scale"].append(start_and_resume(args.root, n, scratch))
            print(json.dumps(result["scale"][-1]), flush=True)
    if "pipeline" not in args.skip:
        result["pipeline"] = pipeline_vs_training(args.root, min(args.sizes, key=lambda n: abs(n - 20000)))
        print(json.dumps(result["pipeline"]), flush=True)
    if "digits" not in args.skip and args.base:
        runs = [(name, digits_its(scratch, base)) for _ in range(2) for name, base in (("before", args.base),
                                                                                        ("after", None))]
        result["digits_its"] = {name: [round(v, 2) for n, v in runs if n == name] for name in ("before", "after")}
        print(json.dumps(result["digits_its"]), flush=True)
    if args.out:
        with open(args.out, "w") as f:
            json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

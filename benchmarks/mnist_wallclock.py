#!/usr/bin/env python3
"""MNIST sample grids at fixed CPU-minutes, with the W-estimate curve beside them.

Runs `wgan_keras.train.train` on the bundled MNIST subset, pinned to `--cpus` cores
with TensorFlow using that many threads, so "minutes" are wall-clock minutes of
that many cores. At each mark (default 5, 15, 30 minutes from the call, tracing
included) it writes the fixed-noise 8x8 grid as grid_<M>min.png; it stops at the
last mark and writes w_curve.png (the critic's W estimate against minutes) and
result.json.

    python benchmarks/mnist_wallclock.py --out runs/bench_paper                     # the paper's defaults
    python benchmarks/mnist_wallclock.py --out runs/bench_gp --lipschitz gp --base_filters 32

Any other flag is a `TrainConfig` field (`--learning_rate`, `--n_critic`, ...).
"""
import argparse
import csv
import dataclasses
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def parse():
    from wgan_keras.config import TrainConfig
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="a new folder: the workdir, grids and result.json")
    p.add_argument("--minutes", default="5,15,30", help="marks, in minutes from the start")
    p.add_argument("--cpus", default="0", help="cores to pin to, e.g. 0 or 0,1 (TF threads = their number)")
    for field in dataclasses.fields(TrainConfig):
        if field.name not in ("generator_iters", "epochs", "download") and isinstance(field.default, (int, float, str)):
            p.add_argument(f"--{field.name}", type=type(field.default), default=None)
        elif field.name == "learning_rate":
            p.add_argument("--learning_rate", type=float, default=None)
    return p.parse_args()


def plot_curve(curve, grids, n_cpus, path):
    """The critic's W estimate (means over 10-iteration windows) against minutes, marks dashed."""
    from wgan_keras.callbacks import _axes
    fig, ax = _axes((6, 3.5))
    ax.plot([c[0] for c in curve], [c[2] for c in curve])
    for g in grids:
        ax.axvline(g["minutes"], color="grey", lw=0.8, ls="--")
    ax.set_xlabel(f"minutes on {n_cpus} core(s)")
    ax.set_ylabel("critic's W estimate")
    ax.grid(alpha=0.3)
    fig.savefig(path, dpi=100, bbox_inches="tight")


def main():
    a = parse()
    cpus = {int(c) for c in a.cpus.split(",")}
    os.sched_setaffinity(0, cpus)
    marks = sorted(float(m) for m in a.minutes.split(","))
    if os.path.exists(a.out):
        sys.exit(f"mnist_wallclock: --out {a.out} exists; pick a new folder")
    import keras
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(len(cpus))
    tf.config.threading.set_inter_op_parallelism_threads(len(cpus))
    from wgan_keras.config import TrainConfig
    from wgan_keras.images import save_image_grid
    from wgan_keras.train import train

    overrides = {k: v for k, v in vars(a).items() if v is not None and k in {f.name for f in dataclasses.fields(
        TrainConfig)}}
    config = TrainConfig(generator_iters=10**9, sample_every=10**9, checkpoint_every=10**9, log_every=10,
                         **overrides)
    z = np.random.default_rng(12345).standard_normal((64, config.latent_dim)).astype(np.float32)
    start, start_epoch = time.perf_counter(), time.time()
    grids = []

    class WallClock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            minutes = (time.perf_counter() - start) / 60
            gi = int(keras.ops.convert_to_numpy(self.model.generator_iterations))
            while len(grids) < len(marks) and minutes >= marks[len(grids)]:
                fake = keras.ops.convert_to_numpy(self.model.generator(z, training=False))
                path = os.path.join(a.out, f"grid_{marks[len(grids)]:g}min.png")
                save_image_grid(path, fake)
                grids.append({"minutes": marks[len(grids)], "generator_iterations": gi, "png": path})
                print(f"{marks[len(grids) - 1]:g} min: {gi} generator iterations -> {path}", flush=True)
            if len(grids) == len(marks):
                self.model.stop_training = True

    workdir = os.path.join(a.out, "workdir")
    train(config, workdir, callbacks=[WallClock()], verbose=0)
    with open(os.path.join(workdir, "metrics.csv"), newline="") as f:  # means over each 10-iteration window
        curve = [((float(r["wall_time"]) - start_epoch) / 60, int(r["generator_iterations"]), float(r["w_distance"]))
                 for r in csv.DictReader(f)]
    plot_curve(curve, grids, len(cpus), os.path.join(a.out, "w_curve.png"))
    with open(os.path.join(a.out, "result.json"), "w") as f:
        json.dump({"config": config.to_dict(), "cpus": sorted(cpus), "grids": grids, "curve": curve,
                   "date": time.strftime("%Y-%m-%d %H:%M:%S")}, f, indent=1)


if __name__ == "__main__":
    main()

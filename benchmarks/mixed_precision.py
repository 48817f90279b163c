#!/usr/bin/env python3
"""Does bf16 train a WGAN as well as float32, and how much faster?

Trains the bundled MNIST with `wgan_keras.train.train` three times, one after the
other on the same cores, for the same number of generator iterations: float32
seed 0, float32 seed 1 and `mixed_bfloat16` seed 0. The second float32 run sets
the yardstick: two float32 runs that differ only in their seed differ by some
amount, and bf16 is as good as float32 when it differs from it by far less than that.

    python benchmarks/mixed_precision.py --out runs/mp --generator_iters 1000 --json mp.json

Reported: generator iterations per second (from metrics.csv wall times, so
tracing is left out), the W-estimate curves (Pearson correlation and mean
absolute gap over the run), the last 100 iterations' mean W, the largest |critic
weight| (weight clipping must hold at c), and each run's final sample grid.
On a CPU with AMX (Intel Sapphire Rapids and later) oneDNN runs the bf16
convolutions on the matrix units; elsewhere bf16 may be slower than float32.
"""
import argparse
import csv
import json
import os
import subprocess
import sys
import time

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
RUNS = (("float32", 0), ("float32", 1), ("mixed_bfloat16", 0))


def worker(a, precision, seed, workdir):
    """One training run in this process (the dtype policy is process-wide)."""
    import keras
    import tensorflow as tf

    from wgan_keras.config import TrainConfig
    from wgan_keras.train import train
    tf.config.threading.set_intra_op_parallelism_threads(len(a.cpus.split(",")))
    config = TrainConfig(generator_iters=a.generator_iters, mixed_precision=precision, seed=seed, log_every=10,
                         sample_every=a.generator_iters, checkpoint_every=a.generator_iters, lipschitz=a.lipschitz)
    gan = train(config, workdir, verbose=0)
    max_abs = max(float(np.abs(keras.ops.convert_to_numpy(v)).max()) for v in gan.critic.trainable_variables)
    print(json.dumps({"max_abs_critic_weight": max_abs, "clip_value": config.clip_value}))


def curve(workdir):
    with open(os.path.join(workdir, "metrics.csv"), newline="") as f:
        rows = list(csv.DictReader(f))
    gi = np.array([int(r["generator_iterations"]) for r in rows])
    w = np.array([float(r["w_distance"]) for r in rows])
    t = np.array([float(r["wall_time"]) for r in rows])
    return gi, w, (gi[-1] - gi[0]) / (t[-1] - t[0])


def compare(w, ref):
    n = min(len(w), len(ref))
    return {"pearson": float(np.corrcoef(w[:n], ref[:n])[0, 1]), "mean_abs_gap": float(np.abs(w[:n] - ref[:n]).mean())}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True, help="a new folder for the three workdirs and the figure")
    p.add_argument("--generator_iters", type=int, default=1000)
    p.add_argument("--lipschitz", default="clip", choices=("clip", "gp"))
    p.add_argument("--cpus", default="0,1", help="cores to pin to (TF threads = their number)")
    p.add_argument("--json")
    p.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    a = p.parse_args()
    os.sched_setaffinity(0, {int(c) for c in a.cpus.split(",")})
    if a.worker:
        return worker(a, a.worker[0], int(a.worker[1]), a.worker[2])
    if os.path.exists(a.out):
        sys.exit(f"mixed_precision: --out {a.out} exists; pick a new folder")

    results = []
    for precision, seed in RUNS:
        workdir = os.path.join(a.out, f"{precision}_seed{seed}")
        args = [sys.executable, os.path.abspath(__file__), "--out", a.out, "--generator_iters",
                str(a.generator_iters), "--lipschitz", a.lipschitz, "--cpus", a.cpus,
                "--worker", precision, str(seed), workdir]
        proc = subprocess.run(args, capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
        if proc.returncode:
            sys.exit(f"mixed_precision: the {precision} run failed:\n{proc.stderr[-3000:]}")
        gi, w, speed = curve(workdir)
        results.append({"precision": precision, "seed": seed, "workdir": workdir, "gen_iters_per_s": speed,
                        "w_last100": float(w[gi > gi[-1] - 100].mean()), "curve": [gi.tolist(), w.tolist()],
                        **json.loads(proc.stdout.strip().splitlines()[-1])})
        print(f"{precision} seed {seed}: {speed:.2f} it/s", flush=True)

    ref = np.array(results[0]["curve"][1])
    for r in results[1:]:
        r["vs_float32_seed0"] = compare(np.array(r["curve"][1]), ref)
    plot(results, os.path.join(a.out, "w_curves.png"), os.path.join(a.out, "grids.png"), a.generator_iters)

    print(f"\nbundled MNIST, DCGAN 28x28, {a.lipschitz}, {a.generator_iters} generator iterations, cores {a.cpus}")
    print(f"{'run':<24} {'it/s':>6} {'speed-up':>8} {'W (last 100 it)':>16} {'pearson':>8} {'mean |gap|':>10} "
          f"{'max |w|':>8}")
    for r in results:
        gap = r.get("vs_float32_seed0", {"pearson": 1.0, "mean_abs_gap": 0.0})
        print(f"{r['precision'] + ' seed ' + str(r['seed']):<24} {r['gen_iters_per_s']:>6.2f} "
              f"{r['gen_iters_per_s'] / results[0]['gen_iters_per_s']:>8.2f} {r['w_last100']:>16.4f} "
              f"{gap['pearson']:>8.3f} {gap['mean_abs_gap']:>10.4f} {r['max_abs_critic_weight']:>8.4f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"config": vars(a), "results": results, "date": time.strftime("%Y-%m-%d %H:%M:%S")}, f,
                      indent=1)


def plot(results, curves_png, grids_png, generator_iters):
    """The three W curves in one plot, and the three final sample grids side by side."""
    from matplotlib.figure import Figure
    from matplotlib.image import imread

    from wgan_keras.callbacks import _axes
    fig = Figure(figsize=(3 * len(results), 3.3))
    for i, r in enumerate(results):
        ax = fig.add_subplot(1, len(results), i + 1)
        ax.imshow(imread(os.path.join(r["workdir"], "samples", f"gen_{generator_iters:06d}.png")), cmap="gray")
        ax.set_title(f"{r['precision']}, seed {r['seed']}", fontsize=9)
        ax.axis("off")
    fig.savefig(grids_png, dpi=100, bbox_inches="tight")
    fig, ax = _axes((6, 3.5))
    for r in results:
        ax.plot(*r["curve"], label=f"{r['precision']}, seed {r['seed']}", lw=1)
    ax.set_xlabel("generator iterations")
    ax.set_ylabel("critic's W estimate")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.savefig(curves_png, dpi=100, bbox_inches="tight")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Where `wgan-train` spends CPU beyond the training steps.

Runs the README's toy `best` command for --iters generator iterations, one core, TensorFlow on one
thread, in a fresh process per variant, and reports CPU-seconds (user + sys of the process after its
imports) per 1,000 generator iterations:

  library   WGAN.fit on a numpy array, 250 iterations per fit call, no callbacks (benchmarks/toys_quality.py)
  quiet     train(config, workdir): wgan-train's path, with sample grids, checkpoints and log rows off
  logs      quiet + metrics.csv/TensorBoard rows every 10 iterations (the default --log_every)
  default   everything at wgan-train's defaults (samples and checkpoints every 100, rows every 10)

    python benchmarks/cli_overhead.py --iters 3000 --cpu 0

Compare ratios within one run only: the CPU kind and its other load change the absolute figures.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

BEST = dict(dataset="ring8", lipschitz="gp", gp_weight=0.1, adam_beta1=0.5, learning_rate=1e-3, lr_decay="linear",
            batch_size=256, mlp_units=128, latent_dim=8)
OFF = 10 ** 9


def run_variant(name, iters, workdir):
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from wgan_keras.config import TrainConfig
    from wgan_keras.train import train
    cadence = {"quiet": dict(sample_every=OFF, checkpoint_every=OFF, log_every=OFF),
               "logs": dict(sample_every=OFF, checkpoint_every=OFF), "default": {}, "library": {}}[name]
    config = TrainConfig(**BEST, generator_iters=iters, **cadence)
    start = time.process_time()
    if name == "library":
        from wgan_keras.build import build_model, optimizer
        from wgan_keras.data import sample_toy
        gan = build_model(config, (2,))
        gan.compile(critic_optimizer=optimizer(config, iters * config.n_critic),
                    generator_optimizer=optimizer(config, iters))
        per_fit = 250
        for epoch in range(iters // per_fit):
            data = sample_toy("ring8", config.batch_size * config.n_critic * per_fit, seed=[0, epoch])
            gan.fit(data, batch_size=config.batch_size, epochs=epoch + 1, initial_epoch=epoch, verbose=0)
    else:
        train(config, workdir, verbose=0)
    return time.process_time() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--iters", type=int, default=3000)
    p.add_argument("--cpu", type=int, default=0, help="the core to pin every variant to")
    p.add_argument("--variants", default="library,quiet,logs,default")
    p.add_argument("--json")
    p.add_argument("--_variant", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a._variant:
        os.sched_setaffinity(0, {a.cpu})
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps({"cpu_s": run_variant(a._variant, a.iters, os.path.join(tmp, "run"))}))
        return
    results = {}
    for name in a.variants.split(","):
        out = subprocess.run([sys.executable, __file__, "--iters", str(a.iters), "--cpu", str(a.cpu),
                              "--_variant", name], capture_output=True, text=True, check=True).stdout
        results[name] = json.loads(out.strip().splitlines()[-1])["cpu_s"] * 1000 / a.iters
        print(f"{name:<8} {results[name]:6.1f} CPU-s per 1,000 generator iterations "
              f"({results[name] / results[next(iter(results))]:.2f}x {next(iter(results))})", flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"iters": a.iters, "cpu_s_per_1000": results, "date": time.strftime("%Y-%m-%d %H:%M")}, f,
                      indent=1)


if __name__ == "__main__":
    main()

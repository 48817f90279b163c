#!/usr/bin/env python3
"""Sample quality on the 2-D toys (GitHub issue 5), with the published protocol.

For each seed: train a WGAN (MLPGenerator / MLPCritic) on `sample_toy(toy, ...)`,
draw 2,500 samples, and count modes covered and the high-quality fraction
(HQ: within 3 sigma of the nearest centre; a mode is covered when an HQ sample
lands on it; `wgan_keras.evaluation.mode_coverage`). Every epoch a `W1Tracker`
records the critic's W estimate and the exact W1 between 1,000 generated and
1,000 real points; the Spearman correlation of the two over training is
reported too ("is the WGAN loss meaningful?").

    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/toys_quality.py --toy ring8 --seeds 0,1 --json /tmp/ring8.json
    TF_CPP_MIN_LOG_LEVEL=2 python benchmarks/toys_quality.py --toy grid25 --lipschitz gp --lr 1e-4 ...

Published: PacGAN3 ring 7.8 modes / 97.7 % HQ, PacGAN4 grid 24.8 / 93.6 %;
WGAN-GP ring 6.8 / 59.6 %, grid 24.2 / 28.7 %.
"""
import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

N_EVAL = 2500


def run_seed(a, seed):
    import keras
    import numpy as np
    from wgan_keras.data.toys import TOY_SIGMA, sample_toy, toy_centers
    from wgan_keras.evaluation import W1Tracker, mode_coverage, spearman
    from wgan_keras.models import MLPCritic, MLPGenerator
    from wgan_keras.wgan import WGAN

    keras.utils.set_random_seed(seed)
    hidden = tuple(int(u) for u in a.hidden.split(","))
    generator = MLPGenerator(latent_dim=a.latent_dim, output_shape=(2,), hidden_units=hidden)
    critic = MLPCritic((2,), hidden)
    gan = WGAN(critic, generator, n_critic=a.n_critic, lipschitz=a.lipschitz, clip_value=a.clip, seed=seed)
    kwargs = {}
    if a.lr is not None:
        if a.lipschitz == "clip":
            make = lambda: keras.optimizers.RMSprop(a.lr, rho=0.99, epsilon=1e-8)  # noqa: E731
        else:
            make = lambda: keras.optimizers.Adam(a.lr, beta_1=a.beta1, beta_2=0.9)  # noqa: E731
        kwargs = dict(critic_optimizer=make(), generator_optimizer=make())
    gan.compile(jit_compile=a.jit, **kwargs)

    per_epoch = a.batch * a.n_critic * a.iters_per_epoch
    epochs = max(1, a.iters // a.iters_per_epoch)
    data = sample_toy(a.toy, per_epoch, seed=1000 + seed)
    tracker = W1Tracker(sample_toy(a.toy, 5000, seed=2000 + seed), n=1000, every=1, per="epoch", seed=seed)
    start = time.perf_counter()
    gan.fit(data, batch_size=a.batch, epochs=epochs, verbose=0, callbacks=[tracker])
    train_s = time.perf_counter() - start
    samples = gan.generate(N_EVAL, seed=seed)
    modes, hq = mode_coverage(samples, toy_centers(a.toy), TOY_SIGMA[a.toy])
    critic_w = [h["critic_w"] for h in tracker.history]
    w1 = [h["exact_w1"] for h in tracker.history]
    return {"seed": seed, "modes": modes, "n_modes": len(toy_centers(a.toy)), "hq": hq,
            "generator_iterations": int(gan.generator_iterations.numpy()), "train_s": train_s,
            "spearman": spearman(critic_w, w1) if len(w1) > 1 else float("nan"),
            "final_exact_w1": w1[-1], "critic_w": critic_w, "exact_w1": w1}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--toy", default="ring8", choices=("ring8", "grid25"))
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--iters", type=int, default=2000, help="generator iterations")
    p.add_argument("--iters_per_epoch", type=int, default=100, help="W1Tracker records once per epoch")
    p.add_argument("--batch", type=int, default=256)
    p.add_argument("--n_critic", type=int, default=5)
    p.add_argument("--lipschitz", default="clip", choices=("clip", "gp"))
    p.add_argument("--clip", type=float, default=0.01)
    p.add_argument("--lr", type=float, default=None, help="None: WGAN's default optimizer")
    p.add_argument("--beta1", type=float, default=0.0, help="Adam beta_1 (gp), with --lr")
    p.add_argument("--hidden", default="512,512,512")
    p.add_argument("--latent_dim", type=int, default=2)
    p.add_argument("--jit", action="store_true", help="compile with jit_compile=True")
    p.add_argument("--json")
    a = p.parse_args()

    results = []
    for seed in (int(s) for s in a.seeds.split(",")):
        r = run_seed(a, seed)
        results.append(r)
        print(f"{a.toy} seed {seed}: {r['modes']}/{r['n_modes']} modes, {100 * r['hq']:.1f} % HQ, "
              f"W1 {r['final_exact_w1']:.3f}, spearman {r['spearman']:.2f}, {r['train_s']:.0f} s", flush=True)
    config = {k: v for k, v in vars(a).items() if k not in ("json", "seeds")}
    summary = {"modes_mean": statistics.mean(r["modes"] for r in results),
               "hq_mean": statistics.mean(r["hq"] for r in results),
               "spearman_mean": statistics.mean(r["spearman"] for r in results),
               "seeds": len(results)}
    print(f"\n{'toy':<7} {'config':<58} {'seeds':>5} {'modes':>6} {'HQ %':>6} {'spearman':>8}")
    desc = f"{a.lipschitz} lr={a.lr or 'default'} n_critic={a.n_critic} m={a.batch} iters={a.iters} h={a.hidden}"
    print(f"{a.toy:<7} {desc:<58} {len(results):>5} {summary['modes_mean']:>6.1f} "
          f"{100 * summary['hq_mean']:>6.1f} {summary['spearman_mean']:>8.2f}")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"config": config, "summary": summary, "results": results,
                       "date": time.strftime("%Y-%m-%d %H:%M:%S")}, f, indent=1)


if __name__ == "__main__":
    main()

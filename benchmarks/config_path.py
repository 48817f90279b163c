#!/usr/bin/env python3
"""The path of `config` through a real training run: which wgan_keras modules it passes, and how often
it comes back to one (docs/architecture.md, "A training run").

Two tiny `train(config, workdir)` runs under `sys.setprofile`: a fresh one (a 2-D toy, 2 generator iterations)
and its resume in the same workdir (to 3), which loads and checks the checkpoint.
Every call of a wgan_keras function that is handed the run's `TrainConfig` (as an argument, not as
`self`: a property read is not a step of the run) is one step; consecutive steps in one module are one
**stay**. Reported: the stays in order, the **rooms** (distinct modules), the **returns** (stays in a
module the path had already left) and the re-entries of train.py (its stays after the first).

    python benchmarks/config_path.py                   # ring8
    python benchmarks/config_path.py --dataset mnist_4k --conditional
"""
import argparse
import json
import os
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGE = os.path.join(ROOT, "wgan_keras") + os.sep


def module_of(filename):
    return "wgan_keras/" + filename[len(PACKAGE):]


def walk(config, workdir):
    """The modules of the steps of `config` through `train(config, workdir)`, in call order."""
    from wgan_keras.train import train
    steps = []

    def profile(frame, event, arg):
        code = frame.f_code
        if event != "call" or not code.co_filename.startswith(PACKAGE):
            return
        names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
        if any(frame.f_locals.get(name) is config for name in names if name != "self"):
            steps.append(module_of(code.co_filename))

    sys.setprofile(profile)
    try:
        train(config, workdir, verbose=0)
    finally:
        sys.setprofile(None)
    return steps


def summary(steps):
    stays = [m for i, m in enumerate(steps) if i == 0 or steps[i - 1] != m]
    returns = sum(1 for i, m in enumerate(stays) if m in stays[:i])
    return {"stays": len(stays), "rooms": len(set(stays)), "returns": returns,
            "train.py re-entries": max(0, stays.count("wgan_keras/train.py") - 1), "path": stays}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dataset", default="ring8", help="ring8 (default) or mnist_4k (the bundled digits, DCGAN)")
    p.add_argument("--conditional", action="store_true", help="a class-conditional run (not for ring8)")
    p.add_argument("--json", help="also write the numbers here")
    args = p.parse_args()
    from wgan_keras.config import TrainConfig
    tiny = dict(batch_size=64, sample_every=1, log_every=1, checkpoint_every=1, latent_dim=8,
                conditional=args.conditional)
    if args.dataset != "ring8":
        tiny.update(batch_size=400, base_filters=4)
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for run, iters in (("fresh", 2), ("resumed", 3)):
            results[run] = summary(walk(TrainConfig(dataset=args.dataset, generator_iters=iters, **tiny),
                                        os.path.join(tmp, "run")))
    for run, result in results.items():
        print(f"{run}: " + " -> ".join(m.removeprefix("wgan_keras/") for m in result["path"]))
        print(f"{run}: " + ", ".join(f"{k} {v}" for k, v in result.items() if k != "path"))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"dataset": args.dataset, "conditional": args.conditional, **results}, f, indent=2)


if __name__ == "__main__":
    main()

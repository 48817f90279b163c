#!/usr/bin/env python3
"""Colour image quality against CPU-minutes of one core, on a benchmarks/shapes.py folder.

Two steps, so that a long run never waits for its judge:

    python benchmarks/shapes.py --out /tmp/shapes64 --num 20000
    taskset -c 1 python benchmarks/colour_quality.py train --out runs/c_dcgan --images /tmp/shapes64 --preset fast
    taskset -c 1 python benchmarks/colour_quality.py train --out runs/c_resnet --images /tmp/shapes64 \\
        --preset colour
    python benchmarks/colour_quality.py score runs/c_dcgan runs/c_resnet     # the table, in shape features
    python benchmarks/colour_quality.py sheet runs/c_dcgan --out c_dcgan.png # 16 samples per mark, one figure

`train` runs wgan-train's own training (every other flag is a wgan-train flag) with TensorFlow on one thread
and measures the clock as this process's CPU time from the first step (loading the folder is not counted)
minus the time spent saving samples. At each CPU-minute
mark (--marks) it writes samples_<mark>min.npz (1,000 fixed-seed samples as uint8: "raw", the generator's;
"ema", what the run samples and exports when it keeps an EMA (`WGAN.generate`: BatchNorm statistics of its
own), and "ema_averaged", the same average with the averaged statistics it sampled with before 0.3.0; with
--extra_ema D, EMAs of decay D kept beside the run: "emaD" as averaged and "emaD_ss" with statistics of its
own, `ema.StandingCopy`) and grid_<mark>min.png (64 of the "ema" samples when kept), and rows.json.

`score` judges every saved mark in the shape feature network's features (benchmarks/shape_features.py):
Fréchet distance and KID against 2,000 held-out drawings (seed 1), the real floor (2,000 other held-out
drawings against the same reference), and attribute coverage: how many of the 5 shapes x 8 colours the
network sees at least 5 times in the 1,000 samples, and the shares it labels with confidence >= 0.9.
"""
import argparse
import dataclasses
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
NUM = 1000


def to_uint8(images):
    import numpy as np
    return np.clip(np.rint((np.asarray(images, np.float32) + 1) * 127.5), 0, 255).astype(np.uint8)


def train_main(argv):
    p = argparse.ArgumentParser(prog="colour_quality.py train")
    p.add_argument("--out", required=True)
    p.add_argument("--marks", default="5,10,20,30,45,60", help="CPU-minutes at which to save samples")
    p.add_argument("--extra_ema", default="", help="comma-separated decays of generator EMAs kept beside the run's "
                   "own (not counted in the clock), saved as ema<decay> and ema<decay>_ss")
    a, rest = p.parse_known_args(argv)
    if os.path.exists(a.out):
        sys.exit(f"colour_quality: --out {a.out} exists; pick a new folder")
    try:
        marks = [float(m) * 60 for m in a.marks.split(",")]
    except ValueError:
        sys.exit(f"colour_quality: --marks must be comma-separated minutes, got --marks {a.marks!r}")
    import keras
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from wgan_keras.images import save_image_grid
    from wgan_keras.main import configs
    from wgan_keras.sampling import sample
    from wgan_keras.train import train

    _, config = configs(rest)
    # The clock ends the run; a --generator_iters given is kept, as --lr_decay linear's horizon (the run then also
    # ends there, and saves a last mark).
    config = dataclasses.replace(config, generator_iters=config.generator_iters or 10 ** 8, sample_every=10 ** 8,
                                 checkpoint_every=10 ** 8, log_every=50).validate()
    try:
        extra = [float(d) for d in a.extra_ema.split(",") if d]
    except ValueError:
        sys.exit(f"colour_quality: --extra_ema must be comma-separated decays, got {a.extra_ema!r}")
    from wgan_keras import ema
    clock = {"cpu0": time.process_time(), "eval": 0.0, "done": 0}
    averages = {}
    rows = []
    os.makedirs(a.out)

    class Clock(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):  # loading and decoding the folder is not training time
            for decay in extra:
                averages[f"ema{decay:g}"] = (decay, ema.clone_generator(self.model.generator, name=f"ema{decay:g}"))
            clock["cpu0"] = time.process_time()

        def on_train_batch_end(self, batch, logs=None):
            if averages:  # one fit step is one generator iteration (paper schedule); not training time
                t0 = time.process_time()
                gi = int(keras.ops.convert_to_numpy(self.model.generator_iterations))
                for decay, average in averages.values():
                    ema.update(average.weights, self.model.generator.weights, ema.decay_at(decay, gi - 1))
                clock["eval"] += time.process_time() - t0
            cpu = time.process_time() - clock["cpu0"] - clock["eval"]
            if cpu >= marks[clock["done"]]:
                self.save(marks[clock["done"]] / 60, cpu)

        def on_train_end(self, logs=None):  # --generator_iters reached before the last mark
            if clock["done"] < len(marks):
                cpu = time.process_time() - clock["cpu0"] - clock["eval"]
                self.save(round(cpu / 60, 1), cpu)

        def save(self, mark, cpu):
            t0 = time.process_time()
            gi = int(keras.ops.convert_to_numpy(self.model.generator_iterations))
            z = keras.random.normal((NUM, self.model.latent_dim), seed=0)
            raw = to_uint8(keras.ops.convert_to_numpy(self.model.generator(z, training=False)))
            saved = {"raw": raw}
            if self.model.ema_generator is not None:
                saved["ema"] = to_uint8(self.model.generate(NUM, seed=0))
                saved["ema_averaged"] = to_uint8(sample(self.model.ema_generator, NUM, seed=0))
            for kind, (_, average) in averages.items():
                saved[kind] = to_uint8(sample(average, NUM, seed=0))
                saved[f"{kind}_ss"] = to_uint8(sample(ema.StandingCopy().of(average), NUM, seed=0))
            np.savez_compressed(os.path.join(a.out, f"samples_{mark:g}min.npz"), **saved)
            shown = saved.get("ema", raw)
            save_image_grid(os.path.join(a.out, f"grid_{mark:g}min.png"), shown[:64].astype(np.float32) / 127.5 - 1,
                            columns=8)
            rows.append({"mark": mark, "generator_iterations": gi, "cpu_minutes": cpu / 60,
                         "wall": time.strftime("%H:%M:%S")})
            print(rows[-1], flush=True)
            with open(os.path.join(a.out, "rows.json"), "w") as f:
                json.dump({"config": config.to_dict(), "rows": rows}, f, indent=1)
            clock["done"] += 1
            clock["eval"] += time.process_time() - t0
            if clock["done"] == len(marks):
                self.model.stop_training = True

    train(config, os.path.join(a.out, "workdir"), callbacks=[Clock()], verbose=0)


def score_main(argv):
    p = argparse.ArgumentParser(prog="colour_quality.py score")
    p.add_argument("runs", nargs="+", help="folders written by `train`")
    p.add_argument("--json", help="also write the table as JSON here")
    a = p.parse_args(argv)
    import numpy as np
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from shape_features import ShapeJudge
    judge = ShapeJudge()
    print(f"real floor: FD {judge.floor['fd']:.3f}, KID {judge.floor['kid']:.4f}, "
          f"cells {judge.floor['cells']}/40, confident {judge.floor['confident']:.2f}")
    table = {"floor": judge.floor, "runs": {}}
    for run in a.runs:
        if not os.path.exists(os.path.join(run, "rows.json")):
            print(f"{run}: no mark reached yet")
            continue
        with open(os.path.join(run, "rows.json")) as f:
            info = json.load(f)
        out = []
        for row in info["rows"]:
            saved = np.load(os.path.join(run, f"samples_{row['mark']:g}min.npz"))
            for kind in saved.files:
                side = saved[kind].shape[1]
                floor = judge.floor_at(side)["fd"]  # a 32x32 run's floor is real images at 32x32
                s = judge.score(saved[kind])
                out.append({**row, "kind": kind, **s, "side": side, "floor_fd": floor,
                            "fd_over_floor": s["fd"] / floor})
                print(f"{run} {row['mark']:g} min ({row['generator_iterations']} it) {kind}: FD {s['fd']:.2f} "
                      f"({s['fd'] / floor:.1f}x floor {floor:.3f}), KID {s['kid']:.4f}, cells {s['cells']}/40, "
                      f"confident {s['confident']:.2f}", flush=True)
        table["runs"][run] = {"config": info["config"], "rows": out}
    table["floors"] = {str(side): f for side, f in judge.floors.items()}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(table, f, indent=1)


def sheet_main(argv):
    p = argparse.ArgumentParser(prog="colour_quality.py sheet")
    p.add_argument("run", help="a folder written by `train`")
    p.add_argument("--out", required=True, help="the PNG to write")
    p.add_argument("--kind", default="ema", help="which samples (ema, raw, ...); raw where the run has no EMA")
    p.add_argument("--per_mark", type=int, default=16, help="samples per mark: rows of 8, marks top to bottom")
    a = p.parse_args(argv)
    if not os.path.exists(os.path.join(a.run, "rows.json")):  # before TensorFlow loads and logs
        sys.exit(f"colour_quality: {a.run} holds no mark yet (no rows.json); pass a folder written by `train`")
    import numpy as np

    from wgan_keras.images import save_image_grid
    with open(os.path.join(a.run, "rows.json")) as f:
        marks = [row["mark"] for row in json.load(f)["rows"]]
    shown = []
    for mark in marks:
        with np.load(os.path.join(a.run, f"samples_{mark:g}min.npz")) as saved:
            shown.append(saved[a.kind if a.kind in saved.files else "raw"][:a.per_mark])
    save_image_grid(a.out, np.concatenate(shown).astype(np.float32) / 127.5 - 1, columns=8)
    print(f"{a.out}: marks {', '.join(f'{m:g}' for m in marks)} min, {a.per_mark} samples each, top to bottom")


def main():
    commands = {"train": train_main, "score": score_main, "sheet": sheet_main}
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(f"colour_quality: the first argument must be one of {tuple(commands)}")
    commands[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit("colour_quality: interrupted")

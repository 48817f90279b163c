#!/usr/bin/env python3
"""Fréchet distance against CPU-minutes of one core.

Trains on the bundled MNIST subset with TensorFlow on one thread and measures the clock as
this process's CPU time minus the time spent evaluating. Every --every generator iterations
and at each CPU-minute mark it scores 1,000 fixed-seed samples of the generator (and of its
EMA with --ema_decay, as it samples and, as fd_ema_averaged_bn, with the averaged BatchNormalization
statistics it sampled with before 0.3.0) against the 1,000 held-out bundled digits (FD and KID in the bundled
digit network's features), then reports Spearman(windowed W estimate, FD) over the run.
At each mark it also writes grid_<mark>min.png (64 samples; the EMA's when kept) and the
digit classes the bundled classifier sees in the 1,000 samples.

    taskset -c 1 python benchmarks/quality_cpu_minutes.py --out runs/q_paper --ema_decay 0.999
    taskset -c 1 python benchmarks/quality_cpu_minutes.py --out runs/q_fast --preset fast
    nice -n 5 python benchmarks/quality_cpu_minutes.py --out runs/q_cond --preset fast --conditional

With --conditional (a wgan-train flag) the 1,000 samples are 100 of each digit class, and each score also
holds the share the bundled classifier assigns to the requested class and the FD per class
(`wgan_keras.evaluation.class_scores`); the grids have one row of 8 per class.

Every other flag is a wgan-train flag (`--preset` and the `TrainConfig` fields). Writes result.json in --out.
"""
import argparse
import csv
import dataclasses
import json
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", required=True)
    p.add_argument("--marks", default="5,15,30", help="CPU-minutes at which to score and save grids")
    p.add_argument("--every", type=int, default=200, help="generator iterations between scores")
    a, rest = p.parse_known_args()
    if os.path.exists(a.out):
        sys.exit(f"quality_cpu_minutes: --out {a.out} exists; pick a new folder")
    import keras
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from wgan_edge.contract import latent_vectors
    from wgan_keras.evaluation import ClassQualityEvaluator, class_histogram, class_scores, spearman
    from wgan_keras.evaluation.digits import reference_labels
    from wgan_keras.images import save_image_grid
    from wgan_keras.main import configs
    from wgan_keras.train import train

    _, config = configs(rest)  # wgan-train's own flags, --preset included
    # The run ends at the last mark. With --lr_decay linear, --generator_iters sets where the rate reaches 0
    # (pick the iterations the last mark will see on this CPU: ~30,000 for --preset fast in 30 CPU-minutes on
    # an Intel Xeon core); the run also ends there.
    if config.lr_decay == "linear" and not config.generator_iters:
        sys.exit("quality_cpu_minutes: --lr_decay linear needs --generator_iters (where the rate reaches 0)")
    iters = config.generator_iters if config.lr_decay == "linear" else 10 ** 8
    config = dataclasses.replace(config, generator_iters=iters, sample_every=10 ** 8, checkpoint_every=10 ** 8,
                                 log_every=10).validate()
    marks = [float(m) * 60 for m in a.marks.split(",")]
    scorer = ClassQualityEvaluator()  # every=None: scores only when called
    clock = {"cpu0": time.process_time(), "eval": 0.0, "marks_done": 0}
    rows = []
    os.makedirs(a.out)

    class Clock(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            cpu = time.process_time() - clock["cpu0"] - clock["eval"]
            gi = int(keras.ops.convert_to_numpy(self.model.generator_iterations))
            at_mark = clock["marks_done"] < len(marks) and cpu >= marks[clock["marks_done"]]
            if gi % a.every and not at_mark:
                return
            t0 = time.process_time()
            scorer.set_model(self.model)
            row = {"generator_iterations": gi, "cpu_minutes": cpu / 60,
                   "mark": marks[clock["marks_done"]] / 60 if at_mark else None}
            z = latent_vectors(1000, self.model.latent_dim, 0)  # generate(1000, seed=0)'s z
            labels = self.model.check_labels(None, 1000)  # conditional: the classes in turn, 100 each; else None
            inputs = z if labels is None else [z, keras.ops.convert_to_tensor(labels)]
            raw = keras.ops.convert_to_numpy(self.model.generator(inputs, training=False))
            row["fd"], row["kid"], _ = scorer.score(raw)
            ema = None
            if self.model.ema_generator is not None:
                ema = self.model.generate(1000, seed=0)  # the same z and labels
                row["fd_ema"], row["kid_ema"], _ = scorer.score(ema)
                # the average with the averaged moving statistics (what sampled before standing statistics)
                averaged = keras.ops.convert_to_numpy(self.model.ema_generator(inputs, training=False))
                row["fd_ema_averaged_bn"], row["kid_ema_averaged_bn"], _ = scorer.score(averaged)
            if labels is not None:
                for name, images in (("", raw), ("_ema", ema)):
                    if images is not None:
                        per_class = class_scores(images, labels, scorer.extractor, scorer.reference_features,
                                                 reference_labels(), scorer.classifier)
                        row[f"class_agreement{name}"] = per_class[-1]["agreement"]
                        row[f"per_class{name}"] = per_class[:-1]
            if at_mark:  # the grid and the digits the bundled classifier sees, of what samples would use
                shown = ema if ema is not None else raw
                row["classes"] = class_histogram(shown).tolist()
                grid = shown[:64] if labels is None else \
                    np.concatenate([shown[labels == c][:8] for c in range(self.model.num_classes)])
                save_image_grid(os.path.join(a.out, f"grid_{row['mark']:g}min.png"), grid, columns=8)
            rows.append(row)
            print(row, flush=True)
            with open(os.path.join(a.out, "rows.json"), "w") as f:  # kept if the run is stopped before the end
                json.dump(rows, f)
            clock["marks_done"] += at_mark
            clock["eval"] += time.process_time() - t0
            if clock["marks_done"] == len(marks):
                self.model.stop_training = True

    workdir = os.path.join(a.out, "workdir")
    train(config, workdir, callbacks=[Clock()], verbose=0)
    metrics = os.path.join(workdir, "metrics.csv")  # absent when the run stopped before its first row
    with open(metrics, newline="") if os.path.exists(metrics) else open(os.devnull) as f:
        w = [(int(r["generator_iterations"]), float(r["w_distance"])) for r in csv.DictReader(f) if r["w_distance"]]
    previous = 0
    for row in rows:  # the W estimate averaged over the window since the previous score
        window = [v for gi, v in w if previous < gi <= row["generator_iterations"]]
        row["w_window"] = float(np.mean(window)) if window else None
        previous = row["generator_iterations"]
    scored = [r for r in rows if r["w_window"] is not None]
    rho = spearman([r["w_window"] for r in scored], [r["fd"] for r in scored]) if len(scored) > 1 else None
    print(f"Spearman(W estimate, FD) = {rho} over {len(scored)} points")
    with open(os.path.join(a.out, "result.json"), "w") as f:
        json.dump({"config": config.to_dict(), "rows": rows, "spearman_w_fd": rho,
                   "date": time.strftime("%Y-%m-%d %H:%M:%S")}, f, indent=1)


if __name__ == "__main__":
    main()

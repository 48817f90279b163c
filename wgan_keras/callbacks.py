"""Callbacks of `wgan-train`: metrics log, sample grids, atomic checkpoints, NaN guard.

All of them act on generator iterations (the model's own counter), not on fit
steps, so their schedule survives resumption and the "reference" critic schedule.
"""
import csv
import math
import os
import time

import keras
import numpy as np

from wgan_edge.atomic import atomic_path
from wgan_keras.images import generate_images, save_image_grid, to_uint8

METRICS = ("w_distance", "critic_loss", "generator_loss", "gradient_penalty")
QUALITY = ("frechet_distance", "kid")  # from a QualityEvaluator (--eval_every); empty in other rows
COLUMNS = ("epoch", "generator_iterations", "critic_iterations") + METRICS + ("wall_time",) + QUALITY


def counter(model, name):
    return int(keras.ops.convert_to_numpy(getattr(model, name)))


def _crossed(model, every, last):
    """The generator iteration if it is a new multiple of `every`, else None."""
    gi = counter(model, "generator_iterations")
    return gi if gi != last and gi % every == 0 else None


class NaNGuard(keras.callbacks.Callback):
    """Stops training as soon as a logged metric is NaN/Inf.

    `keras.callbacks.TerminateOnNaN` only watches logs["loss"], which a WGAN does
    not report, and it cannot tell the checkpointer that the weights in memory
    are now bad; this guard does both (see `Checkpointer`)."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = raise_error  # WGAN.fit's own guard: a Python-API user gets an exception
        self.tripped = None  # (generator_iterations, metric, value)

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if not math.isfinite(float(value)):
                self.tripped = (counter(self.model, "generator_iterations"), name, float(value))
                self.model.stop_training = True
                if self.raise_error:
                    raise FloatingPointError(f"{name} became {float(value)} at generator iteration "
                                             f"{self.tripped[0]}: check the data for NaN/Inf, or lower the "
                                             f"learning rate")
                return


def non_finite_weight(model):
    """'ema_generator weight dense_3/kernel' for the first weight holding NaN/Inf, else None."""
    for w in model.weights:
        if keras.backend.standardize_dtype(w.dtype).startswith("float") and \
                not np.isfinite(keras.ops.convert_to_numpy(w)).all():
            part = next((p for p in ("ema_generator", "generator", "critic") if getattr(model, p, None) is not None
                         and any(v is w for v in getattr(model, p).weights)), None)
            return f"{part} weight {w.path}" if part else w.path
    return None


class Checkpointer(keras.callbacks.Callback):
    """Writes `path` (a .keras file) atomically every `every` generator iterations,
    and never with non-finite weights: the last good checkpoint stays in place."""

    def __init__(self, path, every, guard):
        super().__init__()
        self.path, self.every, self.guard = path, every, guard
        self.last = None
        self.saved_at = None
        self.bad = None

    def on_train_batch_end(self, batch, logs=None):
        gi = _crossed(self.model, self.every, self.last)
        if gi is not None:
            self.save()

    def save(self):
        """Writes the checkpoint; False when the weights in memory are not fit to keep. Non-finite weights
        with finite losses (an EMA gone NaN, say) stop training and are reported in `bad`: (gi, weight)."""
        if self.guard.tripped or self.bad:
            return False
        bad = non_finite_weight(self.model)
        if bad is not None:
            self.bad = (counter(self.model, "generator_iterations"), bad)
            self.model.stop_training = True
            return False
        with atomic_path(self.path) as tmp:
            self.model.save(tmp)
        self.last = self.saved_at = counter(self.model, "generator_iterations")
        return True


class MetricsLogger(keras.callbacks.Callback):
    """Every `every` generator iterations: one metrics.csv row and TensorBoard scalars.

    Keras reports running means over the epoch so far; differencing two of them
    gives the mean over just the last window, so rows are not smoothed by the epoch.
    With `quality` (a `QualityEvaluator` placed before this logger) a row is also written
    at each of its evaluations, with its frechet_distance and kid (it writes their
    TensorBoard scalars itself).
    """

    def __init__(self, csv_path, every, writer, quality=None):
        super().__init__()
        self.csv_path, self.every, self.writer, self.quality = csv_path, every, writer, quality
        self.last = None
        self.epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch, self.sums, self.steps = epoch, {}, 0

    def on_train_batch_end(self, batch, logs=None):
        logs = logs or {}
        gi = counter(self.model, "generator_iterations")
        result = self.quality.result_at(gi) if self.quality is not None else None
        if gi == self.last or (gi % self.every and result is None):
            return
        self.last = gi
        steps = batch + 1
        row = {"epoch": self.epoch, "generator_iterations": gi,
               "critic_iterations": counter(self.model, "critic_iterations"), "wall_time": round(time.time(), 3)}
        for name in METRICS:
            if name in logs:
                total = float(logs[name]) * steps
                row[name] = (total - self.sums.get(name, 0.0)) / (steps - self.steps)
                self.sums[name] = total
        for name in QUALITY if result is not None else ():
            row[name] = result[name]
        self.steps = steps
        new = not os.path.exists(self.csv_path)
        with open(self.csv_path, "a", newline="") as f:
            out = csv.DictWriter(f, COLUMNS)
            if new:
                out.writeheader()
            out.writerow(row)
        import tensorflow as tf  # here, not at the top: WGAN.fit's NaNGuard also runs where TF is absent
        with self.writer.as_default(step=gi):
            for name in METRICS:
                if name in row:
                    tf.summary.scalar(name, row[name])


class Sampler(keras.callbacks.Callback):
    """Every `every` generator iterations: g(z) for a fixed z as samples/gen_%06d.png
    (a scatter over the real points for 2-D toys) and a TensorBoard image; g is the
    model's `sampling_generator` (its EMA when it keeps one). With `labels` (a conditional model) g(z, labels),
    drawn as a grid of ROW_SAMPLES columns: one row per class when the labels are laid out so."""

    def __init__(self, folder, every, z, writer, guard, real_points=None, labels=None):
        super().__init__()
        self.folder, self.every, self.z, self.writer, self.real = folder, every, z, writer, real_points
        self.labels = labels
        self.guard = guard
        self.last = None

    def on_train_batch_end(self, batch, logs=None):
        gi = _crossed(self.model, self.every, self.last)
        if gi is not None and not self.guard.tripped:  # no grids of NaNs
            self.write(gi)

    def write(self, gi):
        self.last = gi
        fake = generate_images(self.model.sampling_generator, self.z, len(self.z), self.labels)
        if not np.isfinite(fake).all():  # an EMA gone NaN: no grid of noise (the Checkpointer reports it)
            return None
        path = os.path.join(self.folder, f"gen_{gi:06d}.png")
        if fake.ndim == 4:
            save_image_grid(path, fake, None if self.labels is None else len(self.labels) // len(set(self.labels)))
            import tensorflow as tf  # as in MetricsLogger
            with self.writer.as_default(step=gi):
                tf.summary.image("samples", to_uint8(fake[:16]), max_outputs=16)
        else:
            scatter_png(path, self.real, fake, f"generator iteration {gi}")
        return path


def _axes(figsize):
    # A bare Figure draws through Agg without pyplot, so training never switches the
    # backend of the user's session (a notebook's inline plots keep working).
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize)
    return fig, fig.subplots()


def scatter_png(path, real, fake, title):
    fig, ax = _axes((4, 4))
    if real is not None:
        ax.scatter(real[:, 0], real[:, 1], s=2, c="tab:blue", alpha=0.3, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=2, c="tab:orange", label="generated")
    ax.set_title(title)
    ax.legend(loc="upper right", markerscale=4)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)


def plot_w_estimate(csv_path, png_path):
    """The paper's Figure 3 for this run: the critic's W estimate against generator iterations."""
    if not os.path.exists(csv_path):
        return None
    with open(csv_path, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("w_distance")]
    if not rows:
        return None
    fig, ax = _axes((6, 4))
    ax.plot([int(r["generator_iterations"]) for r in rows], [float(r["w_distance"]) for r in rows])
    ax.set_xlabel("generator iterations")
    ax.set_ylabel("Wasserstein estimate")
    ax.grid(alpha=0.3)
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    return png_path

"""Progress over the whole run, not per Keras epoch: generator iterations done / planned, rate, ETA.

Keras's own bar restarts at every epoch ("Epoch 17/17"), and `wgan-train` runs one `fit`
call per epoch, so a user could not tell how far a run was. On a terminal the line updates
in place; in a log file (or a notebook's captured output) a line is printed every 5 %.
"""
import sys
import time

import keras

from wgan_keras.callbacks import counter


def _duration(seconds):
    seconds = int(seconds)
    return f"{seconds // 3600}h{seconds // 60 % 60:02d}m" if seconds >= 3600 else \
        f"{seconds // 60}m{seconds % 60:02d}s" if seconds >= 60 else f"{seconds}s"


class Progress(keras.callbacks.Callback):
    """Prints `generator iteration 120/200 (60 %) · 3.1 it/s · ETA 26s · W 0.0123`, and with `quality` (a
    `QualityEvaluator` that runs before this callback) `· FD 55.2 @100`, its latest Fréchet distance, at once
    when a new one is computed."""

    def __init__(self, target, stream=None, interval=0.5, quality=None):
        super().__init__()
        self.quality = quality
        self.target, self.interval, self.start = max(1, target), interval, None
        self.stream = stream or sys.stdout
        self.tty = getattr(self.stream, "isatty", lambda: False)()
        self.t0 = self.shown = None
        self.last_percent = -5

    def on_train_batch_end(self, batch, logs=None):
        gi = counter(self.model, "generator_iterations")
        now = time.perf_counter()
        if self.t0 is None:  # the rate starts after the first step: that one includes tracing
            self.t0, self.start = now, gi
        percent = 100 * gi // self.target
        scored = self.quality is not None and self.quality.result_at(gi) is not None  # a new FD: show it now
        if self.tty and (self.shown is None or now - self.shown >= self.interval or gi >= self.target or scored):
            self.shown = now
            self.stream.write("\r" + self.line(gi, now, logs) + " " * 4)
            self.stream.flush()
        elif not self.tty and (percent >= self.last_percent + 5 or scored):
            self.last_percent = max(self.last_percent, percent - percent % 5)
            print(self.line(gi, now, logs), file=self.stream, flush=True)

    def line(self, gi, now, logs):
        text = f"generator iteration {gi}/{self.target} ({100 * gi / self.target:.0f} %)"
        if gi > self.start and now > self.t0:
            rate = (gi - self.start) / (now - self.t0)
            text += f" · {rate:.2f} it/s" + (f" · ETA {_duration((self.target - gi) / rate)}" if gi < self.target
                                              else "")
        if logs and "w_distance" in logs:
            text += f" · W {float(logs['w_distance']):.4g}"
        if self.quality is not None and self.quality.history:
            last = self.quality.history[-1]
            text += f" · FD {last['frechet_distance']:.4g} @{last['generator_iterations']}"
        return text

    def close(self):
        if self.tty and self.shown is not None:
            self.stream.write("\n")
            self.stream.flush()

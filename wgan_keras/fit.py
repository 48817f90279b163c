"""Fitting a run to its target: whole epochs in one `fit` call, partial ones in their own, every epoch in
`epoch_dataset`'s order; stopped at --generator_iters, and by Ctrl-C or SIGTERM after the step in flight."""
import signal
import threading
import warnings

import keras

from wgan_keras.callbacks import counter
from wgan_keras.data import epoch_dataset, epochs_dataset
from wgan_keras.workdir import CHECKPOINT


class StopOnCtrlC(keras.callbacks.Callback):
    """The first Ctrl-C (or SIGTERM) ends training after the step in flight and its callbacks (its metrics row
    included), so the checkpoint saved then continues the log without a gap; a second one stops at once."""

    def __init__(self, model):
        super().__init__()
        self.gan, self.requested, self.previous = model, False, None

    def on_train_batch_end(self, batch, logs=None):
        if self.requested:  # also after a Ctrl-C between two fit calls (fit resets stop_training)
            self.model.stop_training = True

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = self.gan.stop_training = True

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():  # signals reach the main thread only
            # SIGTERM too (a scheduler's preemption, `kill`): it saves and says how to resume, like Ctrl-C,
            # instead of ending the process with up to --checkpoint_every iterations unsaved.
            self.previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
        return self

    def __exit__(self, *exc):
        for s, handler in (self.previous or {}).items():
            signal.signal(s, handler)


class StopAt(keras.callbacks.Callback):
    def __init__(self, generator_iters):
        super().__init__()
        self.generator_iters = generator_iters

    def on_train_batch_end(self, batch, logs=None):
        if counter(self.model, "generator_iterations") >= self.generator_iters:
            self.model.stop_training = True


def fit_run(model, data, config, spe, target, made, extra=(), labels=None):
    """Trains to the run's `target` fit steps with the callbacks `run_callbacks.make_callbacks` made (and `extra` ones);
    on Ctrl-C or SIGTERM saves a checkpoint and returns what to tell the user, else None."""
    writer, _, saver, _, _, ours = made
    # WGAN.fit does not forward shuffle=False; our epochs are shuffled by `epoch_dataset`.
    warnings.filterwarnings("ignore", message="`shuffle=True` was passed")
    try:
        with StopOnCtrlC(model) as ctrl_c:
            _fit_all(model, data, config, spe, target, [*ours, *extra], ctrl_c, labels)
        if ctrl_c.requested:
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        saved = saver.save()
        return (f"interrupted at generator iteration {counter(model, 'generator_iterations')}; "
                + (f"saved {CHECKPOINT}" if saved else "kept the last checkpoint")
                + "; run the same command again to resume")
    finally:
        writer.flush()
        for callback in ours:
            getattr(callback, "close", lambda: None)()
    return None


def _fit_all(model, data, config, spe, target, callbacks, ctrl_c, labels=None):
    """Whole epochs in one `fit` call, a partial epoch (a resumed run's first, a run's last) in its own;
    every epoch in `epoch_dataset`'s order either way."""
    done = counter(model, "critic_iterations") // config.n_critic
    while done < target and not model.stop_training and not ctrl_c.requested:
        epoch, first = divmod(done, spe)
        if first or target - done < spe:
            steps = min(spe - first, target - done)
            ds = epoch_dataset(data, config.batch_size, config.n_critic, config.seed, epoch, first, steps, labels)
            epochs = 1
        else:  # with steps_per_epoch set, Keras keeps one iterator across these epochs
            steps, epochs = spe, (target - done) // spe
            ds = epochs_dataset(data, config.batch_size, config.n_critic, config.seed, epoch, epochs, labels)
        model.fit(ds, epochs=epoch + epochs, initial_epoch=epoch, steps_per_epoch=steps,
                  callbacks=[*callbacks, ctrl_c], shuffle=False, verbose=0)
        done = counter(model, "critic_iterations") // config.n_critic

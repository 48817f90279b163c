"""End-to-end runs of `train` and `wgan-train`: outputs, resumption, divergence, user errors."""
import csv
import dataclasses
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from wgan_keras.config import TrainConfig
from wgan_keras.train import train

# Tiny models; mnist_4k with m=400, n_critic=2 gives 5 steps per epoch, so runs cross epochs.
TINY = dict(base_filters=8, latent_dim=8, batch_size=400, n_critic=2, sample_every=2, checkpoint_every=2,
            log_every=1, generator_iters=7)


def tiny(**overrides):
    return TrainConfig(**{**TINY, **overrides})


def decode(path):
    return tf.io.decode_png(tf.io.read_file(path)).numpy()


def rows(workdir):
    with open(os.path.join(workdir, "metrics.csv"), newline="") as f:
        return list(csv.DictReader(f))


class _Interrupt(keras.callbacks.Callback):
    """Kills a run right after generator iteration `at`, like Ctrl-C or a preempted VM."""

    def __init__(self, at, action=None):
        super().__init__()
        self.at, self.action = at, action

    def on_train_batch_end(self, batch, logs=None):
        if int(self.model.generator_iterations.numpy()) == self.at:
            if self.action:
                self.action(self.model)
            else:
                raise KeyboardInterrupt


def test_bundled_run_writes_everything(tmp_path):
    workdir = str(tmp_path / "run")
    model = train(tiny(), workdir, verbose=0)
    assert int(model.generator_iterations.numpy()) == 7 and int(model.critic_iterations.numpy()) == 14
    for name in ("checkpoint.keras", "config.json", "metrics.csv", "w_estimate.png"):
        assert os.path.getsize(os.path.join(workdir, name)) > 0, name
    assert sorted(os.listdir(os.path.join(workdir, "samples"))) == \
        ["gen_000002.png", "gen_000004.png", "gen_000006.png", "gen_000007.png"]
    assert decode(os.path.join(workdir, "samples", "gen_000004.png")).shape == (8 * 30 + 2, 8 * 30 + 2, 1)
    assert decode(os.path.join(workdir, "w_estimate.png")).shape[-1] in (3, 4)
    table = rows(workdir)
    columns = {"epoch", "generator_iterations", "w_distance", "critic_loss", "generator_loss", "wall_time"}
    assert columns <= set(table[0])
    assert [int(r["generator_iterations"]) for r in table] == list(range(1, 8))
    assert [int(r["epoch"]) for r in table] == [0] * 5 + [1] * 2
    assert all(np.isfinite(float(r["w_distance"])) for r in table)
    assert any(f.startswith("events.out.tfevents") for f in os.listdir(os.path.join(workdir, "tensorboard")))
    assert not [f for f in os.listdir(workdir) if f.startswith(".tmp")]  # no atomic-write leftovers
    # Rerun with more iterations: it extends the run, counters continue rather than restart.
    model = train(tiny(generator_iters=9), workdir, verbose=0)
    assert int(model.generator_iterations.numpy()) == 9
    assert [int(r["generator_iterations"]) for r in rows(workdir)] == list(range(1, 10))


def test_interrupted_run_resumes_to_the_same_weights(tmp_path):
    reference = train(tiny(), str(tmp_path / "straight"), verbose=0)
    workdir = str(tmp_path / "interrupted")
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C at 5 saves where the run stands (checkpoint_every is 2)
        train(tiny(), workdir, callbacks=[_Interrupt(5)], verbose=0)
    saved = keras.saving.load_model(os.path.join(workdir, "checkpoint.keras"))
    assert int(saved.generator_iterations.numpy()) == 5
    assert decode(os.path.join(workdir, "w_estimate.png")).ndim == 3  # the curve so far, after Ctrl-C too
    resumed = train(tiny(), workdir, verbose=0)  # the same command again
    assert int(resumed.generator_iterations.numpy()) == 7
    for a, b in zip(reference.weights, resumed.weights):
        np.testing.assert_allclose(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), atol=1e-6,
                                   err_msg=a.path)
    # metrics.csv continues from the checkpoint: no duplicated or missing iterations
    assert [int(r["generator_iterations"]) for r in rows(workdir)] == list(range(1, 8))


def test_divergence_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    workdir = str(tmp_path / "run")

    def poison(model):
        model.critic.weights[0].assign(np.full(model.critic.weights[0].shape, np.nan, "float32"))

    with pytest.raises(FloatingPointError, match="diverged.*kept the last good"):
        train(tiny(lipschitz="gp", checkpoint_every=1), workdir, callbacks=[_Interrupt(3, poison)], verbose=0)
    kept = keras.saving.load_model(os.path.join(workdir, "checkpoint.keras"))
    assert int(kept.generator_iterations.numpy()) == 3  # saved before the poison; 4 was refused
    assert all(np.isfinite(keras.ops.convert_to_numpy(w)).all() for w in kept.critic.weights)


def test_tfds_mock_and_image_folder_runs(tmp_path):
    with tfds.testing.mock_data(num_examples=64):
        model = train(tiny(dataset="mnist", batch_size=16, n_critic=2, generator_iters=2, image_size=32),
                      str(tmp_path / "tfds"), verbose=0)
    assert model.sample_shape == (32, 32, 1)
    folder = tmp_path / "pics"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        (folder / f"{i}.jpg").write_bytes(tf.io.encode_jpeg(rng.integers(0, 256, (50, 40, 3), np.uint8)).numpy())
    workdir = str(tmp_path / "folder")
    model = train(tiny(images=str(folder), image_size=28, channels=3, batch_size=4, n_critic=2, generator_iters=2),
                  workdir, verbose=0)
    assert model.sample_shape == (28, 28, 3)
    assert decode(os.path.join(workdir, "samples", "gen_000002.png")).shape == (8 * 30 + 2, 8 * 30 + 2, 3)


def test_toy_run(tmp_path):
    model = train(tiny(dataset="ring8", batch_size=64, n_critic=5, generator_iters=2, latent_dim=2, mlp_units=16,
                       base_filters=64),  # the default: a DCGAN width does not apply to a toy (config.APPLIES)
                  str(tmp_path / "toy"), verbose=0)
    assert model.sample_shape == (2,)
    assert decode(str(tmp_path / "toy" / "samples" / "gen_000002.png")).ndim == 3


def test_toy_run_with_gp_weight_beta1_and_linear_decay(tmp_path):
    config = tiny(dataset="ring8", batch_size=64, n_critic=5, generator_iters=4, latent_dim=2, mlp_units=16,
                  base_filters=64, lipschitz="gp", gp_weight=0.1, adam_beta1=0.5, learning_rate=1e-3, lr_decay="linear")
    model = train(config, str(tmp_path / "toy"), verbose=0)
    assert model.gp_weight == 0.1 and float(model.generator_optimizer.beta_1) == 0.5
    # The rate falls linearly from 1e-3 to exactly 0 at the run's last planned update, for both networks.
    for opt, updates in ((model.critic_optimizer, 20), (model.generator_optimizer, 4)):
        assert int(opt.iterations.numpy()) == updates
        assert float(opt.learning_rate.numpy()) == 0.0
        schedule = keras.optimizers.schedules.deserialize(keras.optimizers.serialize(opt)["config"]["learning_rate"])
        assert float(schedule(updates // 2)) == pytest.approx(5e-4)
    # The schedule's horizon is part of the run: extending a decayed run is refused, not silently flat.
    with pytest.raises(ValueError, match="generator_iters 4 vs 8"):
        train(dataclasses.replace(config, generator_iters=8), str(tmp_path / "toy"), verbose=0)


def test_validate_names_the_field_and_value():
    """The API's check (the flags' cases, each value once: tests/error_cases.py)."""
    with pytest.raises(ValueError, match=r"n_critic must be an integer in \[1, 1000\], got n_critic=0"):
        dataclasses.replace(TrainConfig(), n_critic=0).validate()


def test_workdir_guards(tmp_path):
    workdir = tmp_path / "run"
    train(tiny(generator_iters=1, checkpoint_every=1), str(workdir), verbose=0)
    before = (workdir / "checkpoint.keras").read_bytes()
    with pytest.raises(ValueError, match=r"holds a run with a different config: latent_dim 8 vs 9"):
        train(tiny(latent_dim=9), str(workdir), verbose=0)
    assert (workdir / "checkpoint.keras").read_bytes() == before
    assert json.loads((workdir / "config.json").read_text())["latent_dim"] == 8
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "checkpoint.keras").write_bytes(b"the user's own file")
    with pytest.raises(ValueError, match="no config.json"):
        train(tiny(), str(foreign), verbose=0)
    assert (foreign / "checkpoint.keras").read_bytes() == b"the user's own file"


@pytest.mark.parametrize("stored, now, hint", [
    (dict(images="/data/my photos"), {}, "(that run had --images '/data/my photos')"),  # quoted for the shell
    ({}, dict(images="/data/x"), "(that run had no --images)"),  # --images takes no "none"
    (dict(conditional=False), dict(conditional=True), "(that run had --conditional false)"),
    (dict(ema_decay=None), dict(ema_decay=0.9), "(that run had --ema_decay none)"),
    (dict(image_size=None), dict(image_size=32), "(that run had no --image_size)"),  # a choice list: no "none"
    # the same preset with one value changed: that value's flag, not "pass the preset again"
    (TrainConfig.from_preset("fast").to_dict(), {**TrainConfig.from_preset("fast").to_dict(), "ema_decay": None},
     "(that run had --ema_decay 0.999)"),
    ({**TrainConfig.from_preset("fast").to_dict(), "ema_decay": None}, TrainConfig.from_preset("fast").to_dict(),
     "(that run had --ema_decay none)"),
    (TrainConfig.from_preset("fast").to_dict(), {}, "(that run used --preset fast: pass it again)"),
])
def test_a_different_config_names_the_flag_that_resumes(tmp_path, stored, now, hint):
    """The flag in the refusal, passed again, gives that field the stored run's value."""
    from wgan_keras import workdir
    (tmp_path / "config.json").write_text(json.dumps(TrainConfig(**stored).to_dict()))
    with pytest.raises(ValueError, match="different config") as e:
        workdir.check(str(tmp_path), TrainConfig(**now))
    assert str(e.value).endswith(hint), str(e.value)


def test_unknown_dataset_and_unwritable_workdir_in_process(tmp_path):
    with pytest.raises(ValueError, match="dataset='no_such_dataset_xyz' is neither"):
        train(tiny(dataset="no_such_dataset_xyz"), str(tmp_path / "w"), verbose=0)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(OSError):
        train(tiny(), str(tmp_path / "file.txt" / "run"), verbose=0)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no"):
        train(tiny(images=str(empty)), str(tmp_path / "w2"), verbose=0)


def test_upsample_flag_builds_the_resize_generator_and_is_part_of_the_run(tmp_path):
    from wgan_keras.build import build_model
    gan = build_model(tiny(upsample="resize"), (28, 28, 1))
    names = {type(layer).__name__ for layer in gan.generator.layers}
    assert "Conv2DTranspose" not in names and "Resizing" in names
    assert build_model(tiny(), (28, 28, 1)).generator.upsample == "transpose"
    train(tiny(generator_iters=1), str(tmp_path / "w"), verbose=0)
    with pytest.raises(ValueError, match="different config: upsample"):
        train(tiny(generator_iters=2, upsample="resize"), str(tmp_path / "w"), verbose=0)


def test_eval_every_and_ema_log_quality_and_resume_to_the_same_weights(tmp_path):
    config = tiny(ema_decay=0.9, eval_every=3)
    reference = train(config, str(tmp_path / "straight"), verbose=0)
    assert reference.ema_generator is not None
    table = rows(str(tmp_path / "straight"))
    scored = [r for r in table if r["frechet_distance"]]
    assert [int(r["generator_iterations"]) for r in scored] == [3, 6, 7]  # every 3rd and the run's last
    assert all(float(r["frechet_distance"]) > 0 and np.isfinite(float(r["kid"])) for r in scored)
    workdir = str(tmp_path / "interrupted")
    with pytest.raises(KeyboardInterrupt):
        train(config, workdir, callbacks=[_Interrupt(5)], verbose=0)
    resumed = train(config, workdir, verbose=0)
    for a, b in zip(reference.ema_generator.weights, resumed.ema_generator.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), err_msg=a.path)
    assert [r["frechet_distance"] for r in rows(workdir)] == [r["frechet_distance"] for r in table]

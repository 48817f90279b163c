"""Hostile input, by class of failure (issue 16): data loss, hangs and memory blow-ups, silent bad
training, self-contradicting workdirs, edited files we own, wrongly typed models, concurrent runs,
machine faults, and messages that name the flag. One test per class, several cases each; every
command error must be one line and exit 2 (130 for Ctrl-C), and nothing of the user's may change."""
import errno
import json
import os
import shutil
import socket
import threading

import keras
import numpy as np
import pytest
import tensorflow as tf
from commands import in_process

from wgan_edge import atomic
from wgan_keras import WGAN, DCGANCritic, DCGANGenerator
from wgan_keras.config import TrainConfig
from wgan_keras.train import train

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
CHECKPOINT = os.path.join(FIXTURES, "checkpoint_v0_1_0.keras")
TFLITE = os.path.join(FIXTURES, "tiny_generator.tflite")
TINY = dict(base_filters=4, latent_dim=4, batch_size=400, n_critic=2, sample_every=2, checkpoint_every=2,
            log_every=1)
FLAGS = [f"--{k}={v}" for k, v in TINY.items()]


def one_line(result, tool, *words, code=2):
    assert result.code == code, (result.code, result.err)
    assert "Traceback" not in result.err and len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith(f"{tool}: error: "), result.err
    assert all(w in result.err_lines[0] for w in words), result.err_lines[0]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A finished tiny run (generator_iters=2) to copy and damage."""
    work = tmp_path_factory.mktemp("run") / "w"
    train(TrainConfig(**TINY, generator_iters=2), str(work), verbose=0)
    return work


def copy_of(run, tmp_path):
    work = tmp_path / "w"
    shutil.copytree(run, work)
    return work


def files(root):
    return {os.path.join(d, n): open(os.path.join(d, n), "rb").read() for d, _, ns in os.walk(root) for n in ns}


def test_only_our_own_dead_temporaries_are_ever_removed(run, tmp_path):
    work = copy_of(run, tmp_path)
    mine = work / ".tmp-my-notes"  # a user's own folder with the old prefix
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    fake = work / (atomic.PREFIX + "lookalike")  # our prefix, but no owner file: not provably ours
    fake.mkdir()
    dead = work / (atomic.PREFIX + "checkpoint.keras-dead")
    dead.mkdir()
    (dead / atomic.OWNER).write_text(f"999999999 {socket.gethostname()}\n")  # no such process
    alive = work / (atomic.PREFIX + "checkpoint.keras-alive")
    alive.mkdir()
    (alive / atomic.OWNER).write_text(f"{os.getpid()} {socket.gethostname()}\n")
    train(TrainConfig(**TINY, generator_iters=3), str(work), verbose=0)
    assert (mine / "notes.txt").read_text() == "keep" and fake.exists() and alive.exists()
    assert not dead.exists()


def test_special_and_huge_files_in_an_image_folder_are_skipped_not_read(tmp_path):
    folder = tmp_path / "pics"
    folder.mkdir()
    for i in range(8):
        (folder / f"{i}.png").write_bytes(tf.io.encode_png(np.full((28, 28, 1), 20 * i, np.uint8)).numpy())
    os.mkfifo(folder / "pipe.png")  # reading it would block forever
    os.symlink("/dev/zero", folder / "zero.jpg")  # reading it would never end
    bomb = bytearray(tf.io.encode_png(np.zeros((8, 8, 1), np.uint8)).numpy())
    bomb[16:24] = (100_000).to_bytes(4, "big") * 2  # the header claims 100,000 x 100,000 pixels
    (folder / "bomb.png").write_bytes(bytes(bomb))
    result = []
    thread = threading.Thread(target=lambda: result.append(
        train(TrainConfig(**{**TINY, "batch_size": 4}, images=str(folder), image_size=28, channels=1,
                          generator_iters=1), str(tmp_path / "w"), verbose=0)), daemon=True)
    with pytest.warns(UserWarning, match="skipped 3 of 11"):
        thread.start()
        thread.join(timeout=240)
    assert not thread.is_alive() and result, "the loader hung on a special file"


def test_sizes_that_cannot_fit_are_refused_before_any_work(tmp_path, monkeypatch):
    from wgan_edge import sample
    monkeypatch.setattr(sample, "MAX_GRID_BYTES", 1 << 20)  # as 65,536 RGB 64x64 samples overrun 256 MiB
    one_line(in_process("wgan-sample", ["--model", TFLITE, "--num", "4096", "--columns", "1", "--out",
                                        tmp_path / "g.png"]), "wgan-sample", "--num=4096", "MiB")
    monkeypatch.undo()
    one_line(in_process("wgan-export", ["--checkpoint", CHECKPOINT, "--batch_size", "100000000", "--out",
                                        tmp_path / "g.tflite"]), "wgan-export", "--batch_size=100000000")
    one_line(in_process("wgan-export", ["--checkpoint", CHECKPOINT, "--fidelity_samples", "-1", "--out",
                                        tmp_path / "g.tflite"]), "wgan-export", "--fidelity_samples=-1")
    assert os.listdir(tmp_path) == []


def test_fit_refuses_nan_data_and_stops_on_nan_metrics():
    gan = WGAN(DCGANCritic((28, 28, 1), base_filters=4), DCGANGenerator(4, (28, 28, 1), base_filters=4), n_critic=1)
    gan.compile()
    x = np.zeros((16, 28, 28, 1), np.float32)
    x[3, 4, 5, 0] = np.nan
    with pytest.raises(ValueError, match="x: holds 1 NaN/Inf"):
        gan.fit(x, batch_size=8, verbose=0)
    poisoned = tf.data.Dataset.from_tensor_slices(np.full((16, 28, 28, 1), np.inf, np.float32)).batch(8)
    with pytest.raises(FloatingPointError, match="became (nan|inf) at generator iteration 1"):
        gan.fit(poisoned, verbose=0)


def test_a_workdir_that_contradicts_itself_is_refused(run, tmp_path):
    work = copy_of(run, tmp_path)
    config = json.loads((work / "config.json").read_text())
    (work / "config.json").write_text(json.dumps({**config, "n_critic": 3}))  # the checkpoint says 2
    before = files(work)
    one_line(in_process("wgan-train", [*FLAGS[:3], "--n_critic=3", *FLAGS[4:], f"--workdir={work}",
                                       "--generator_iters=4"]), "wgan-train", "n_critic=2", "n_critic")
    assert files(work) == before


@pytest.mark.parametrize("damage, words", [
    (lambda w: (w / "config.json").write_text("[" * 100_000 + "]" * 100_000), ("config.json", "nested")),
    (lambda w: (w / "metrics.csv").write_text("a,b\n1,2\n"), ("metrics.csv", "move it away")),
    (lambda w: (shutil.rmtree(w / "tensorboard"), (w / "tensorboard").write_text("mine")), ("tensorboard",)),
    (lambda w: (w / "checkpoint.keras").unlink() or (w / "checkpoint.keras").mkdir(), ("checkpoint.keras",)),
])
def test_files_we_own_but_a_user_edited_give_one_line(run, tmp_path, damage, words):
    work = copy_of(run, tmp_path)
    damage(work)
    before = files(work)
    one_line(in_process("wgan-train", [*FLAGS, f"--workdir={work}", "--generator_iters=4"]), "wgan-train", *words)
    assert files(work) == before


def _tflite(fn, spec, tmp_path):
    """A .tflite with a `generate` signature around `fn` (output names from its dict)."""
    module = tf.Module()
    module.generate = tf.function(fn, input_signature=[spec])
    path = str(tmp_path / f"sm{len(os.listdir(tmp_path))}")
    tf.saved_model.save(module, path, signatures={"generate": module.generate.get_concrete_function()})
    return tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=["generate"]).convert()


def test_models_of_the_right_signature_but_wrong_types_give_one_line(tmp_path):
    cases = {
        "int32 z": (_tflite(lambda z: {"images": tf.zeros([1, 8, 8, 1]) + tf.cast(z[0, 0], tf.float32)},
                            tf.TensorSpec([1, 4], tf.int32, name="z"), tmp_path), "'z' is int32"),
        "images only, not images": (_tflite(lambda z: {"images": z * 2.0},
                                             tf.TensorSpec([1, 4], tf.float32, name="z"), tmp_path), "not images"),
        "float pixels": (_tflite(lambda z: {"pixels": tf.zeros([1, 8, 8, 1]) + z[0, 0]},
                                 tf.TensorSpec([1, 4], tf.float32, name="z"), tmp_path), "'pixels' is float32"),
    }
    for name, (model, words) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.tflite"
        path.write_bytes(model)
        one_line(in_process("wgan-sample", ["--model", path, "--out", tmp_path / "g.png"]), "wgan-sample", words)
    assert not (tmp_path / "g.png").exists()


def test_a_second_run_on_a_busy_workdir_is_refused_at_once(run, tmp_path):
    import fcntl
    work = copy_of(run, tmp_path)
    holder = os.open(work / ".wgan-keras.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(holder, fcntl.LOCK_EX)  # as a running wgan-train holds it
    try:
        before = files(work)
        one_line(in_process("wgan-train", [*FLAGS, f"--workdir={work}", "--generator_iters=4"]), "wgan-train",
                 "in use by process", str(os.getpid()))
        assert files(work) == before
    finally:
        os.close(holder)
    assert in_process("wgan-train", [*FLAGS, f"--workdir={work}", "--generator_iters=3"]).code == 0


def test_publishing_without_overwrite_never_replaces_a_file_that_appeared_meanwhile(tmp_path):
    target = tmp_path / "g.tflite"
    with pytest.raises(FileExistsError):
        with atomic.atomic_path(str(target), overwrite=False) as tmp:
            open(tmp, "wb").write(b"ours")
            target.write_bytes(b"the other writer's")  # a second export finished first
    assert target.read_bytes() == b"the other writer's" and os.listdir(tmp_path) == ["g.tflite"]


def test_machine_faults_and_ctrl_c_are_one_line(run, tmp_path, monkeypatch):
    work = copy_of(run, tmp_path)

    def full(*a, **k):
        raise tf.errors.ResourceExhaustedError(None, None, "tensorboard/events: No space left on device\nmore")
    monkeypatch.setattr(tf.summary, "create_file_writer", full)
    one_line(in_process("wgan-train", [*FLAGS, f"--workdir={work}", "--generator_iters=4"]), "wgan-train",
             "ResourceExhaustedError", "No space left")
    monkeypatch.undo()

    def efbig(*a, **k):
        raise OSError(errno.EFBIG, os.strerror(errno.EFBIG))
    from wgan_export import lib
    monkeypatch.setattr(lib, "load_generator", efbig)
    one_line(in_process("wgan-export", ["--checkpoint", CHECKPOINT, "--out", tmp_path / "a.tflite"]), "wgan-export",
             "File too large")

    def interrupt(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(lib, "load_generator", interrupt)
    one_line(in_process("wgan-export", ["--checkpoint", CHECKPOINT, "--out", tmp_path / "b.tflite"]), "wgan-export",
             "interrupted", code=130)
    assert not (tmp_path / "a.tflite").exists() and not (tmp_path / "b.tflite").exists()


def test_a_killed_exports_temporary_is_cleaned_by_the_next_export(tmp_path):
    stale = tmp_path / (atomic.PREFIX + "g.tflite-killed")
    stale.mkdir()
    (stale / atomic.OWNER).write_text(f"999999999 {socket.gethostname()}\n")
    (stale / "g.tflite").write_bytes(b"half")
    result = in_process("wgan-export", ["--checkpoint", CHECKPOINT, "--fidelity_samples", "2", "--out",
                                        tmp_path / "g.tflite"])
    assert result.code == 0, result.err
    assert sorted(os.listdir(tmp_path)) == ["g.json", "g.tflite"]  # the model and its metadata, nothing stale


def test_messages_name_the_folder_that_could_not_be_read(tmp_path, monkeypatch):
    """(The flags' messages: tests/error_cases.py.)"""
    w = f"--workdir={tmp_path / 'w'}"
    folder = tmp_path / "pics"
    (folder / "private").mkdir(parents=True)
    real_scandir = os.scandir

    def scandir(path="."):  # root reads every folder: simulate the permission error
        if str(path) == str(folder / "private"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)
    monkeypatch.setattr(os, "scandir", scandir)
    one_line(in_process("wgan-train", [*FLAGS, w, f"--images={folder}"]), "wgan-train", "could not read",
             "private")
    assert not (tmp_path / "w").exists()


def test_checkpoint_of_another_class_or_shape_is_named(run, tmp_path):
    work = copy_of(run, tmp_path)
    keras.saving.load_model(str(work / "checkpoint.keras")).generator.save(str(work / "checkpoint.keras"))
    one_line(in_process("wgan-train", [*FLAGS, f"--workdir={work}", "--generator_iters=4"]), "wgan-train",
             "not a WGAN")

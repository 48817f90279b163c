"""Hostile input that is not a row of the error table (tests/error_cases.py holds the command lines that must
fail in one line): only our own dead temporaries are removed, special and huge files in an image folder are
skipped unread, fit refuses NaN data, a busy workdir is refused while its lock is held and works once it is
released, a file that appears while we publish is kept, and a killed export's temporary is cleaned."""
import os
import shutil
import socket
import threading

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


def test_a_killed_exports_temporary_is_cleaned_by_the_next_export(tmp_path):
    stale = tmp_path / (atomic.PREFIX + "g.tflite-killed")
    stale.mkdir()
    (stale / atomic.OWNER).write_text(f"999999999 {socket.gethostname()}\n")
    (stale / "g.tflite").write_bytes(b"half")
    result = in_process("wgan-export", ["--checkpoint", CHECKPOINT, "--fidelity_samples", "2", "--out",
                                        tmp_path / "g.tflite"])
    assert result.code == 0, result.err
    assert sorted(os.listdir(tmp_path)) == ["g.json", "g.tflite"]  # the model and its metadata, nothing stale

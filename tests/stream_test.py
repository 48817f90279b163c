"""Image folders streamed from disk: indexing, epoch order, resumption without reading the skipped files,
bad files during training, worker shares, and `train` on a folder too large for the cache."""
import dataclasses
import os
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf
from harness import run_two_workers

import wgan_keras.data.source as source
from wgan_keras.config import TrainConfig
from wgan_keras.data import epochs_dataset, files, stream
from wgan_keras.data.pipeline import epoch_dataset
from wgan_keras.train import train

HERE = os.path.dirname(os.path.abspath(__file__))
CLASSES = ("cat", "dog", "owl")


def write_folder(root, n=48, classes=CLASSES):
    """n small JPEGs of distinct brightness, spread over class subfolders (one nested), plus hidden entries
    that image_dataset_from_directory leaves out."""
    rng = np.random.default_rng(0)
    for i in range(n):
        folder = os.path.join(root, classes[i % len(classes)], "deep" if i % 4 == 0 else "")
        os.makedirs(folder, exist_ok=True)
        image = np.clip(rng.integers(0, 40, (20, 20, 3)) + 4 * i, 0, 255).astype(np.uint8)
        with open(os.path.join(folder, f"{i:03d}.jpg"), "wb") as f:
            f.write(tf.io.encode_jpeg(image).numpy())
    os.makedirs(os.path.join(root, ".ipynb_checkpoints"), exist_ok=True)
    for hidden in (os.path.join(root, ".ipynb_checkpoints", "x.jpg"), os.path.join(root, classes[0], ".y.jpg")):
        with open(hidden, "wb") as f:
            f.write(b"not an image, and hidden")
    return root


@pytest.fixture
def folder(tmp_path):
    return write_folder(str(tmp_path / "pics"))


def everything(ds):
    return np.concatenate([(b[0] if isinstance(b, tuple) else b).numpy() for b in ds])


def test_index_orders_classes_as_keras_and_skips_hidden_entries(folder, monkeypatch):
    lines = []
    monkeypatch.setattr(files, "PROGRESS_EVERY", 20)
    index = files.index_folder(folder, conditional=True, log=lines.append)
    assert index.classes == list(CLASSES) and len(index) == 48
    assert not any(p.startswith(".") or "/." in p for p in index.paths)
    np.testing.assert_array_equal(np.bincount(index.labels), [16, 16, 16])
    assert all(p.split("/")[0] == CLASSES[label] for p, label in zip(index.paths, index.labels))
    assert lines == ["indexed 20 files…", "indexed 40 files…", "indexed 48 files"]
    keras_classes = keras.utils.image_dataset_from_directory(folder, image_size=(20, 20), batch_size=8).class_names
    assert keras_classes == index.classes  # hidden .ipynb_checkpoints is no class for either
    assert len(files.index_folder(folder)) == 48


def test_streamed_epochs_equal_the_in_memory_pipeline(folder):
    index = files.index_folder(folder, conditional=True)
    images, labels, bad = stream.load_all(index, 16, 3)
    assert images.shape == (48, 16, 16, 3) and bad == []
    streamed = source.Streamed(48, 16, 3, index=index, classes=index.classes)
    # 48 files, m=4, n_critic=2: 6 steps per epoch; three epochs, each its own (seed, epoch) permutation
    got = list(epochs_dataset(streamed, 4, 2, seed=5, first_epoch=1, num_epochs=3))
    want = list(epochs_dataset(images, 4, 2, seed=5, first_epoch=1, num_epochs=3, labels=labels))
    assert len(got) == len(want) == 36
    for (x, y), (x0, y0) in zip(got, want):
        assert x.shape == (4, 16, 16, 3) and x.dtype == tf.float32
        np.testing.assert_array_equal(x.numpy(), x0.numpy())
        np.testing.assert_array_equal(y.numpy(), y0.numpy())


def test_resume_reads_only_the_files_of_the_steps_left(folder):
    index = files.index_folder(folder)
    streamed = source.Streamed(48, 16, 3, index=index)
    whole = everything(epoch_dataset(streamed, 4, 2, seed=1, epoch=2))
    # the files of the first 4 steps (32 of 48) disappear: a resumed run at step 4 must not miss them
    order = stream.positions(48, 4, 2, seed=1, first_epoch=2, first_step=0, num_steps=4)
    for i in np.concatenate(list(order.as_numpy_iterator())):
        os.remove(os.path.join(folder, index.paths[i]))
    before = stream.bad_files[0]
    tail = everything(epoch_dataset(streamed, 4, 2, seed=1, epoch=2, first_step=4))
    np.testing.assert_array_equal(tail, whole[4 * 8:])
    assert stream.bad_files[0] == before  # none of the removed files was opened


def test_a_file_that_turns_bad_takes_a_row_of_its_batch_and_is_counted(folder):
    index = files.index_folder(folder)
    streamed = source.Streamed(48, 16, 3, index=index)
    first = next(iter(stream.positions(48, 4, 2, 0, 0, 0, 1))).numpy()
    with open(os.path.join(folder, index.paths[first[1]]), "wb") as f:
        f.write(b"\xff\xd8 truncated")
    os.remove(os.path.join(folder, index.paths[first[2]]))
    before = stream.bad_files[0]
    batch = next(iter(epoch_dataset(streamed, 4, 2, seed=0, epoch=0))).numpy()
    assert batch.shape == (4, 16, 16, 3) and stream.bad_files[0] == before + 2
    assert any(np.array_equal(batch[1], batch[j]) for j in (0, 3))
    assert any(np.array_equal(batch[2], batch[j]) for j in (0, 3))


def test_worker_shares_are_disjoint_and_form_the_one_worker_batches():
    single = np.stack(list(stream.positions(100, 8, 2, seed=3, first_epoch=0, first_step=0, num_steps=12)
                           .as_numpy_iterator()))
    shares = [np.stack(list(stream.positions(100, 8, 2, 3, 0, 0, 12, worker=w, workers=2).as_numpy_iterator()))
              for w in (0, 1)]
    assert shares[0].shape == shares[1].shape == (24, 4)  # 12 steps of n_critic=2 batches, half of m=8 each
    np.testing.assert_array_equal(np.concatenate(shares, axis=1), single)  # global batches unchanged
    for epoch in (slice(0, 12), slice(12, 24)):  # 6 steps (12 batches) per epoch: 96 of the 100 files
        a, b = set(shares[0][epoch].ravel()), set(shares[1][epoch].ravel())
        assert not a & b and len(a | b) == 96


def test_two_replicas_resuming_see_the_batches_of_one_device(folder):
    """MirroredStrategy over two logical CPUs, trained in two fit calls (a resume at step 3), ends where one
    device trained in one call ends: each replica got its half of the very same batches (in a process of its
    own: stream_worker.py says why)."""
    r = subprocess.run([sys.executable, os.path.join(HERE, "stream_worker.py"), "replicas", str(folder)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "replicas equal" in r.stdout, (r.stdout + r.stderr)[-3000:]


def test_two_worker_processes_read_disjoint_files(folder, tmp_path):
    """A two-worker MultiWorkerMirroredStrategy job trains an epoch on a streamed folder, logging the files
    each worker opens: no file is opened by both, together they read the epoch, and the workers agree."""
    run_two_workers(lambda w: [os.path.join(HERE, "stream_worker.py"), "share", folder, str(tmp_path / f"worker{w}")],
                    timeout=300)
    read = [set((tmp_path / f"worker{w}.txt").read_text().split()) for w in (0, 1)]
    assert read[0] and not read[0] & read[1] and len(read[0] | read[1]) == 48
    chief, other = np.load(tmp_path / "worker0.npz"), np.load(tmp_path / "worker1.npz")
    assert int(chief["generator_iterations"]) == 6
    for key in chief.files:
        np.testing.assert_array_equal(chief[key], other[key], err_msg=key)


def tiny(folder, **overrides):
    return TrainConfig(**{**dict(images=folder, image_size=28, channels=3, base_filters=4, latent_dim=4,
                                 batch_size=4, n_critic=2, generator_iters=9, checkpoint_every=1), **overrides})


@pytest.mark.parametrize("conditional", [False, True])
def test_train_on_a_streamed_folder_resumes_exactly(folder, tmp_path, monkeypatch, capsys, conditional):
    monkeypatch.setattr(source, "CACHE_BYTES", 0)
    config = tiny(folder, conditional=conditional)
    whole = train(config, str(tmp_path / "whole"), verbose=1)
    assert "data: streaming 48 files" in capsys.readouterr().out
    train(dataclasses.replace(config, generator_iters=4), str(tmp_path / "parts"), verbose=0)
    parts = train(config, str(tmp_path / "parts"), verbose=0)
    assert int(parts.generator_iterations.numpy()) == 9  # 6 steps an epoch: the resume crosses an epoch
    for a, b in zip(whole.weights, parts.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), err_msg=a.path)


def test_a_folder_that_changed_before_the_resume_is_reported_and_continues(folder, tmp_path, capsys):
    config = tiny(folder, generator_iters=2)
    train(config, str(tmp_path / "w"), verbose=1)
    assert "cached in memory" in capsys.readouterr().out
    os.remove(os.path.join(folder, "cat", "003.jpg"))
    model = train(dataclasses.replace(config, generator_iters=3), str(tmp_path / "w"), verbose=1)
    out = capsys.readouterr().out
    assert "held 48 image files at the last start of this run and holds 47 now; continuing" in out
    assert int(model.generator_iterations.numpy()) == 3


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_streamed_resume_is_exact_on_other_backends(folder, tmp_path, backend):
    """Keras 3 takes tf.data on every backend: an interrupted and resumed run ends with the uninterrupted
    run's weights under JAX and PyTorch too (tests/stream_worker.py, one process per backend)."""
    import importlib.util
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = dict(os.environ, KERAS_BACKEND=backend)
    proc = subprocess.run([sys.executable, os.path.join(HERE, "stream_worker.py"), "resume", folder, str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.split()[-2:] == [backend, "identical"]


def test_a_users_dataset_with_labels_out_of_range_is_one_line():
    import wgan_keras as wk
    gan = wk.WGAN(wk.MLPCritic((2,), (8,), num_classes=10), wk.MLPGenerator(2, (2,), (8,), num_classes=10))
    gan.compile()
    ds = tf.data.Dataset.from_tensor_slices((np.zeros((20, 2), np.float32), np.full(20, 10))).batch(4)
    with pytest.raises(ValueError, match=r"^y: labels must lie in \[0, 9\], got \[10, 10\]$"):
        gan.fit(ds, epochs=1, verbose=0)

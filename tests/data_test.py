"""Data sources, the input pipeline and the 2-D toy protocols."""
import os
import warnings

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds

from wgan_edge.png import encode_png
from wgan_keras.data import (
    TOY_SIGMA,
    check_array,
    epoch_dataset,
    epochs_dataset,
    load_bundled,
    load_folder,
    load_tfds,
    sample_toy,
    steps_per_epoch,
    toy_centers,
)
from wgan_keras.data.sources import fit_to_size, match_channels

# ------------------------------------------------------------------ toys

@pytest.mark.parametrize("name, k, radius", [("ring8", 8, 1.0), ("grid25", 25, None)])
def test_toy_mixture_protocol(name, k, radius):
    centers = toy_centers(name)
    assert centers.shape == (k, 2)
    if radius:  # 8 points on the unit circle, 45 degrees apart
        np.testing.assert_allclose(np.linalg.norm(centers, axis=1), 1.0, atol=1e-6)
        angles = np.sort(np.mod(np.arctan2(centers[:, 1], centers[:, 0]), 2 * np.pi))
        np.testing.assert_allclose(np.diff(angles), np.pi / 4, atol=1e-6)
    else:  # 5 x 5 grid, spacing 2, over [-4, 4]^2
        assert sorted(set(centers[:, 0].tolist())) == [-4, -2, 0, 2, 4]
        assert sorted(set(centers[:, 1].tolist())) == [-4, -2, 0, 2, 4]
    x = sample_toy(name, 20000, seed=3)
    assert x.dtype == np.float32 and x.shape == (20000, 2)
    nearest = np.argmin(((x[:, None] - centers[None]) ** 2).sum(-1), axis=1)
    residual = x - centers[nearest]
    # sigma per coordinate within 5% (std error of a std over 20000 samples is ~0.5%)
    np.testing.assert_allclose(residual.std(axis=0), TOY_SIGMA[name], rtol=0.05)
    np.testing.assert_allclose(residual.mean(axis=0), 0, atol=TOY_SIGMA[name] * 0.05)
    counts = np.bincount(nearest, minlength=k)  # uniform mixture weights
    assert np.all(np.abs(counts - 20000 / k) < 5 * np.sqrt(20000 / k))


def test_toys_are_seeded_and_swissroll_is_a_roll():
    np.testing.assert_array_equal(sample_toy("ring8", 100, 1), sample_toy("ring8", 100, 1))
    assert not np.array_equal(sample_toy("ring8", 100, 1), sample_toy("ring8", 100, 2))
    roll = sample_toy("swissroll", 5000, 0)
    radius = np.linalg.norm(roll, axis=1)
    # the spiral's radius t / 7.5 runs over [1.5 pi, 4.5 pi] / 7.5, blurred by noise 0.25 / 7.5
    assert 0.4 < radius.min() and radius.max() < 2.1
    assert np.all(np.isfinite(roll)) and roll.dtype == np.float32
    with pytest.raises(ValueError, match="swissroll"):
        toy_centers("swissroll")
    with pytest.raises(ValueError, match="name="):
        sample_toy("ring9", 10)
    with pytest.raises(ValueError, match="n="):
        sample_toy("ring8", 0)


# -------------------------------------------------------------- pipeline

def test_epoch_dataset_scales_batches_and_orders_by_seed_and_epoch():
    x = np.arange(40 * 28 * 28, dtype=np.int64).reshape(40, 28, 28, 1) % 256
    x = x.astype(np.uint8)
    ds = epoch_dataset(x, batch_size=4, n_critic=2, seed=7, epoch=0)
    batches = [b.numpy() for b in ds]
    assert len(batches) == steps_per_epoch(40, 4, 2) * 2 == 10
    assert all(b.shape == (4, 28, 28, 1) and b.dtype == np.float32 for b in batches)
    everything = np.concatenate(batches)
    assert everything.min() == -1.0 and everything.max() == 1.0
    again = np.concatenate([b.numpy() for b in epoch_dataset(x, 4, 2, seed=7, epoch=0)])
    np.testing.assert_array_equal(everything, again)
    other = np.concatenate([b.numpy() for b in epoch_dataset(x, 4, 2, seed=7, epoch=1)])
    assert not np.array_equal(everything, other)
    # a resumed epoch sees exactly the tail of the full one
    tail = np.concatenate([b.numpy() for b in epoch_dataset(x, 4, 2, seed=7, epoch=0, first_step=3)])
    np.testing.assert_array_equal(tail, everything[3 * 8:])


def test_epochs_dataset_is_the_epochs_back_to_back():
    """One fit call over whole epochs sees the batches that a call per epoch saw (42 samples: the last
    2 of each permutation are dropped, per epoch)."""
    x = np.random.default_rng(0).normal(size=(42, 2)).astype(np.float32)
    joined = np.concatenate([b.numpy() for b in epochs_dataset(x, 4, 2, seed=5, first_epoch=3, num_epochs=3)])
    apart = np.concatenate([b.numpy() for e in (3, 4, 5) for b in epoch_dataset(x, 4, 2, seed=5, epoch=e)])
    assert joined.shape == (3 * 40, 2)
    np.testing.assert_array_equal(joined, apart)


def test_array_batches_permute_every_epoch_reproducibly():
    import random

    from wgan_keras.data.grouping import array_batches
    x = np.arange(50, dtype=np.float32)[:, None]
    random.seed(3)
    ds = array_batches(x, 8, shuffle=True)
    assert ds.element_spec.shape == (8, 1)
    epochs = [np.concatenate([b.numpy()[:, 0] for b in ds]) for _ in range(3)]
    for e in epochs:  # 6 full batches of distinct samples; the remainder is dropped
        assert len(e) == 48 and len(set(e.tolist())) == 48
    assert not np.array_equal(epochs[0], epochs[1]) and not np.array_equal(epochs[1], epochs[2])
    random.seed(3)
    np.testing.assert_array_equal(np.concatenate([b.numpy()[:, 0] for b in array_batches(x, 8, True)]), epochs[0])
    in_order = np.concatenate([b.numpy()[:, 0] for b in array_batches(x, 8, shuffle=False)])
    np.testing.assert_array_equal(in_order, np.arange(48))
    with pytest.raises(ValueError, match="batch_size=64 is larger than the 50 samples"):
        array_batches(x, 64, True)


def test_in_memory_pipelines_turn_autotune_off_and_user_datasets_keep_theirs():
    # TF 2.21: destroying an autotuned iterator waits out its model thread's sleep (seconds per fit call).
    from wgan_keras.data.grouping import array_batches, group_batches
    x = np.zeros((40, 2), np.float32)
    ours = [array_batches(x, 4, True), array_batches(x, 4, False), epoch_dataset(x, 4, 2, seed=0, epoch=0)]
    for ds in ours:
        assert ds.options().autotune.enabled is False
        assert group_batches(ds, 2).options().autotune.enabled is False  # options flow downstream
    users = tf.data.Dataset.from_tensor_slices(x).batch(4)
    assert group_batches(users, 2).options().autotune.enabled is not False


@pytest.mark.parametrize("x, match", [
    (np.zeros((0, 28, 28, 1), np.uint8), "empty"),
    (np.zeros((5, 28, 28), np.uint8), "shape"),
    (np.zeros((5, 28, 28, 2), np.uint8), "channels"),
    (np.array([[0.0, np.nan]] * 4, np.float32), "NaN"),
    (np.zeros((5, 28, 28, 1), np.float32), "uint8"),
])
def test_check_array_rejects_bad_input(x, match):
    with pytest.raises(ValueError, match=match):
        check_array(x, "x")


def test_too_few_samples_for_one_step():
    with pytest.raises(ValueError, match="batch_size"):
        steps_per_epoch(100, 64, 5)


def test_fit_to_size_pads_small_and_resizes_large():
    img = np.full((2, 28, 28, 1), 255, np.uint8)
    padded = fit_to_size(img, 32)
    assert padded.shape == (2, 32, 32, 1) and padded[:, 2:30, 2:30].min() == 255 and padded[:, :2].max() == 0
    big = fit_to_size(np.full((1, 80, 64, 3), 200, np.uint8), 28)
    assert big.shape == (1, 28, 28, 3) and np.all(big == 200)
    assert match_channels(np.zeros((1, 4, 4, 1), np.uint8), 3).shape == (1, 4, 4, 3)
    assert match_channels(np.zeros((1, 4, 4, 3), np.uint8), 1).shape == (1, 4, 4, 1)


# --------------------------------------------------------------- sources

def test_bundled_mnist():
    x = load_bundled()
    assert x.shape == (4000, 28, 28, 1) and x.dtype == np.uint8 and x.max() > 200


def test_tfds_mock_data():
    with tfds.testing.mock_data(num_examples=20):
        x = load_tfds("mnist")
    assert x.shape == (20, 28, 28, 1) and x.dtype == np.uint8


def test_tfds_offline_failure_names_the_ways_out(tmp_path):
    with pytest.raises(ValueError) as e:
        load_tfds("mnist", data_dir=str(tmp_path), download=False)
    message = str(e.value)
    assert "\n" not in message and "--data_dir" in message and "--images" in message and "mnist_4k" in message
    with pytest.raises(ValueError, match="neither bundled"):
        load_tfds("no_such_dataset_xyz", data_dir=str(tmp_path))


def write_image_folder(root, n=6, size=(40, 36)):
    """PNG (grey and RGB) and JPEG files in nested folders, plus one corrupt PNG and a text file."""
    rng = np.random.default_rng(0)
    os.makedirs(os.path.join(root, "sub", "deeper"), exist_ok=True)
    for i in range(n):
        image = rng.integers(0, 256, size + (3,), dtype=np.uint8)
        folder = os.path.join(root, "sub") if i % 2 else os.path.join(root, "sub", "deeper")
        if i % 3 == 0:
            with open(os.path.join(folder, f"{i}.JPG"), "wb") as f:
                f.write(tf.io.encode_jpeg(image).numpy())
        else:
            with open(os.path.join(folder, f"{i}.png"), "wb") as f:
                f.write(encode_png(image[..., :1] if i % 2 else image))
    with open(os.path.join(root, "broken.png"), "wb") as f:
        f.write(b"\x89PNG not really")
    with open(os.path.join(root, "notes.txt"), "w") as f:
        f.write("not an image")
    return root


def test_image_folder_skips_corrupt_files_with_one_warning(tmp_path):
    root = write_image_folder(str(tmp_path))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x = load_folder(root, 32, 3)
    assert x.shape == (6, 32, 32, 3) and x.dtype == np.uint8
    messages = [str(w.message) for w in caught if "skipped" in str(w.message)]
    assert len(messages) == 1 and "1 of 7" in messages[0] and "broken.png" in messages[0]
    assert load_folder(root, 28, 1).shape == (6, 28, 28, 1)


def test_image_folder_errors(tmp_path):
    with pytest.raises(ValueError, match="holds no"):
        load_folder(str(tmp_path), 28, 1)
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(ValueError, match="holds no"):
        load_folder(str(tmp_path), 28, 1)
    (tmp_path / "bad.jpg").write_bytes(b"nope")
    with pytest.raises(ValueError, match="none of its 1"):
        load_folder(str(tmp_path), 28, 1)
    with pytest.raises(ValueError, match="not a directory"):
        load_folder(str(tmp_path / "missing"), 28, 1)

"""TFDS for real, on whatever stack runs the suite (.ci/oldest runs this file on TF 2.16): `import
tensorflow_datasets` works beside this TensorFlow's protobuf, a dataset prepared on disk by TFDS's own
builder is read back, and `wgan-train --dataset NAME --data_dir DIR` trains on it offline."""
import json
from importlib.metadata import version

import numpy as np
import pytest
import tensorflow_datasets as tfds
from commands import in_process

import wgan_keras.data.source as source
from wgan_keras.config import TrainConfig
from wgan_keras.data import epoch_dataset, epochs_dataset, load_bundled, load_bundled_labeled, load_tfds
from wgan_keras.data.sources import check_tfds_protos

N = 64


class WganTinyDigits(tfds.core.GeneratorBasedBuilder):
    """64 bundled digits as a TFDS dataset (registered as `wgan_tiny_digits`): the on-disk layout any
    prepared TFDS dataset has (dataset_info.json, features.json, TFRecord shards)."""
    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict(
            {"image": tfds.features.Image(shape=(28, 28, 1)), "label": tfds.features.ClassLabel(num_classes=10)}))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        images, labels, _ = load_bundled_labeled()
        for i in range(N):
            yield i, {"image": images[i], "label": labels[i]}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("tfds")
    WganTinyDigits(data_dir=str(root)).download_and_prepare()
    return root


def test_prepared_data_is_read_back_from_disk(data_dir):
    images = load_tfds("wgan_tiny_digits", str(data_dir))
    assert images.shape == (N, 28, 28, 1) and images.dtype == np.uint8
    key = lambda x: sorted(map(bytes, x))  # noqa: E731  (TFDS may shuffle the order)
    assert key(images) == key(load_bundled()[:N])


def test_wgan_train_trains_on_a_prepared_tfds_dataset(data_dir, tmp_path):
    r = in_process("wgan-train", ["--dataset", "wgan_tiny_digits", "--data_dir", data_dir, "--workdir", tmp_path / "w",
                                  "--batch_size", "16", "--n_critic", "2", "--generator_iters", "2",
                                  "--base_filters", "4", "--latent_dim", "4"])
    assert r.code == 0, r.err
    assert json.loads((tmp_path / "w" / "config.json").read_text())["dataset"] == "wgan_tiny_digits"
    assert (tmp_path / "w" / "samples" / "gen_000002.png").exists()


def test_a_split_too_large_for_the_cache_streams_in_a_seeded_order_and_resumes_undecoded(data_dir):
    streamed = source.open_tfds("wgan_tiny_digits", str(data_dir), False, 28, 1, conditional=True, limit=0)
    assert isinstance(streamed, source.Streamed) and streamed.shape == (N, 28, 28, 1)
    # m=8, n_critic=2: 4 steps an epoch, the whole split; two epochs, each a permutation of it
    batches = list(epochs_dataset(streamed, 8, 2, seed=3, first_epoch=0, num_epochs=2))
    images = np.concatenate([b[0].numpy() for b in batches])
    labels = np.concatenate([b[1].numpy() for b in batches])
    digits, digit_labels, _ = load_bundled_labeled()
    truth = {bytes(image): label for image, label in zip(digits[:N], digit_labels[:N])}
    pixels = [bytes(np.rint((x + 1) * 127.5).astype(np.uint8)) for x in images]
    assert [truth[p] for p in pixels] == labels.tolist()  # every image with its own label
    assert sorted(pixels[:N]) == sorted(pixels[N:]) == sorted(truth) and pixels[:N] != pixels[N:]
    again = np.concatenate([b[0].numpy() for b in epochs_dataset(streamed, 8, 2, seed=3, first_epoch=0,
                                                                  num_epochs=2)])
    np.testing.assert_array_equal(again, images)
    tail = np.concatenate([b[0].numpy() for b in epoch_dataset(streamed, 8, 2, seed=3, epoch=1, first_step=3)])
    np.testing.assert_array_equal(tail, images[N + 3 * 16:])


def test_a_streamed_tfds_run_resumes_exactly(data_dir, tmp_path, monkeypatch):
    import dataclasses

    import keras

    from wgan_keras.train import train
    monkeypatch.setattr(source, "CACHE_BYTES", 0)
    config = TrainConfig(dataset="wgan_tiny_digits", data_dir=str(data_dir), batch_size=8, n_critic=2,
                         generator_iters=6, base_filters=4, latent_dim=4, checkpoint_every=1, conditional=True)
    whole = train(config, str(tmp_path / "whole"), verbose=0)
    train(dataclasses.replace(config, generator_iters=3), str(tmp_path / "parts"), verbose=0)
    parts = train(config, str(tmp_path / "parts"), verbose=0)
    for a, b in zip(whole.weights, parts.weights):
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b), err_msg=a.path)


def test_the_protobuf_check_passes_here_and_names_the_fix_when_it_would_fail(monkeypatch):
    check_tfds_protos()  # this environment imports tensorflow_datasets (above), so the check must agree
    import importlib.metadata
    fake = {"tensorflow-metadata": "1.21.0", "protobuf": "5.29.6"}  # pip's pick beside TF 2.19 without the cap
    monkeypatch.setattr(importlib.metadata, "version", lambda name: fake.get(name) or version(name))
    with pytest.raises(ValueError, match=r"tensorflow-metadata 1.21.0 needs protobuf >= 6.31 .* 5.29.6.*<1.18"):
        check_tfds_protos()

"""The digit generator shipped in the package draws recognisable digits of the class asked for, through
every entry point a newcomer meets before training anything: `wk.pretrained` + `wk.sample`, `wgan-sample
--model mnist` (no TensorFlow needed) and `wgan-export --checkpoint mnist`."""
import os

import numpy as np
import pytest

import wgan_keras as wk
from wgan_edge import pretrained as edge_pretrained
from wgan_edge import sample
from wgan_edge.contract import latent_vectors
from wgan_edge.runner import TFLiteGenerator
from wgan_keras.packaged import pretrained_path


def classes_seen(images):
    from wgan_keras.evaluation import ClassQualityEvaluator
    return np.argmax(np.asarray(ClassQualityEvaluator().classifier(images)), -1)


def test_both_files_ship_within_two_megabytes():
    keras_file, tflite_file = pretrained_path("mnist"), edge_pretrained.tflite_path("mnist")
    meta = os.path.splitext(tflite_file)[0] + ".json"
    assert all(os.path.isfile(p) for p in (keras_file, tflite_file, meta))
    assert os.path.getsize(keras_file) + os.path.getsize(tflite_file) <= 2 * 1024 * 1024
    with pytest.raises(KeyError, match="packaged: mnist"):
        wk.pretrained("cifar10")


def test_keras_generator_draws_the_digit_asked_for():
    generator = wk.pretrained("mnist")
    assert (generator.latent_dim, generator.num_classes) == (100, 10)
    images = wk.sample(generator, 500, seed=0)  # the classes in turn: 50 of each
    assert images.shape == (500, 28, 28, 1) and images.dtype == np.float32
    assert np.mean(classes_seen(images) == np.arange(500) % 10) >= 0.85  # the held-out real digits: 0.94


def test_int8_tflite_draws_what_the_keras_generator_draws():
    z, labels = latent_vectors(200, 100, 3), np.arange(200, dtype=np.int32) % 10
    lite = TFLiteGenerator(edge_pretrained.tflite_path("mnist"))(z, labels)["images"]
    keras_images = wk.sample(wk.pretrained("mnist"), 200, seed=3)
    psnr = 10 * np.log10(4 / np.mean((lite - keras_images) ** 2))  # range [-1, 1]: peak-to-peak 2
    assert psnr >= 30, psnr
    assert np.mean(classes_seen(lite) == labels) >= 0.85


def test_wgan_sample_model_mnist_before_any_training(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert sample.main(["--model", "mnist", "--out", "digits.png"]) == 0
    assert "one row per class (10 rows)" in capsys.readouterr().out
    assert sample.main(["--model", "mnist", "--label", "7", "--num", "16", "--out", "sevens.png"]) == 0
    assert (tmp_path / "digits.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    (tmp_path / "mnist").write_bytes(b"mine")  # a user's own file of that name is never shadowed
    assert edge_pretrained.resolve("mnist") == "mnist"


def test_wgan_export_checkpoint_mnist(tmp_path):
    from wgan_export import main as export_main
    with pytest.raises(SystemExit) as exit_:
        export_main.run(["--checkpoint", "mnist", "--out", str(tmp_path / "digits.tflite")])
    assert exit_.value.code == 0
    assert TFLiteGenerator(str(tmp_path / "digits.tflite")).conditional

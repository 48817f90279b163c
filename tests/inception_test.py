"""FID/KID in InceptionV3 pool features for any images: weights resolution (offline), the resize and scaling
conventions, the reference statistics kept in the workdir, and --eval_every on colour images. The weights
are a randomly initialised InceptionV3's, written here: nothing is downloaded."""
import csv
import os

import keras
import numpy as np
import pytest
from PIL import Image

from wgan_keras.config import TrainConfig
from wgan_keras.evaluation import inception
from wgan_keras.train import train


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = keras.applications.InceptionV3(include_top=False, pooling="avg", weights=None, input_shape=(299, 299, 3))
    path = str(tmp_path_factory.mktemp("inception") / "inception.weights.h5")
    model.save_weights(path)
    return path


@pytest.fixture(scope="module")
def extractor(weights):
    return inception.InceptionExtractor(weights, batch_size=3)


def colour_images(n, size=32, seed=0):
    return np.random.RandomState(seed).randint(0, 256, (n, size, size, 3)).astype(np.uint8)


def test_weights_flag_then_environment_then_keras_cache(weights, tmp_path, monkeypatch):
    assert inception.weights_path(weights, {}) == weights
    assert inception.weights_path(None, {inception.ENV: weights}) == weights
    with pytest.raises(ValueError, match=r"^inception_weights: no weights file at '/nonexistent.h5'"):
        inception.weights_path("/nonexistent.h5", {})
    with pytest.raises(ValueError, match=r"^WGAN_INCEPTION_WEIGHTS: no weights file"):
        inception.weights_path(None, {inception.ENV: str(tmp_path / "missing.h5")})
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    cached = tmp_path / "keras_home" / "models" / inception.KERAS_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"cached")
    assert inception.weights_path(None, {}) == str(cached)


def test_offline_without_weights_is_one_line_naming_the_flag_and_the_variable(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise Exception("URL fetch failure on https://x: None -- [Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(keras.utils, "get_file", offline)
    with pytest.raises(ValueError) as e:
        inception.weights_path(None, {})
    message = str(e.value)
    assert "\n" not in message and "--inception_weights PATH" in message and "WGAN_INCEPTION_WEIGHTS" in message
    assert "Temporary failure in name resolution" in message


def test_features_are_the_pool_of_bilinear_299_in_minus_one_to_one(extractor):
    images = colour_images(4)
    features = extractor(images)
    assert features.shape == (4, 2048) and features.dtype == np.float32
    x = images.astype(np.float32) / 127.5 - 1.0
    resized = keras.ops.image.resize(x, (299, 299), interpolation="bilinear", antialias=False)
    expected = keras.ops.convert_to_numpy(extractor.model(resized, training=False))
    np.testing.assert_allclose(features, expected, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(extractor(x), features, rtol=1e-4, atol=1e-5)  # uint8 == its [-1, 1] floats
    grey = images[..., :1]
    np.testing.assert_allclose(extractor(grey), extractor(np.repeat(grey, 3, axis=-1)), rtol=1e-4, atol=1e-5)


def test_reference_is_computed_once_per_workdir_and_again_for_other_data(extractor, tmp_path, monkeypatch):
    data = colour_images(10)
    first = inception.reference_features(extractor, data, str(tmp_path), n=6)
    assert first.shape == (6, 2048) and (tmp_path / inception.REFERENCE_FILE).exists()
    calls = []
    monkeypatch.setattr(type(extractor), "__call__", lambda self, x: calls.append(len(x)) or np.zeros((len(x), 2048)))
    np.testing.assert_array_equal(inception.reference_features(extractor, data, str(tmp_path), n=6), first)
    assert calls == []  # read back, not computed
    inception.reference_features(extractor, colour_images(10, seed=1), str(tmp_path), n=6)
    assert calls == [6]  # other images: computed again


def write_folder(folder, n=24, size=32):
    os.makedirs(folder)
    for i, image in enumerate(colour_images(n, size, seed=2)):
        Image.fromarray(image).save(os.path.join(folder, f"{i:03d}.png"))
    return folder


def test_eval_every_scores_colour_images_and_resume_reuses_the_reference(weights, tmp_path, monkeypatch):
    monkeypatch.setattr(inception, "SAMPLES", 6)
    folder = write_folder(str(tmp_path / "images"))
    settings = dict(images=folder, image_size=32, architecture="resnet", base_filters=2, latent_dim=4, batch_size=4,
                    n_critic=1, eval_every=2, inception_weights=weights, sample_every=100, checkpoint_every=2)
    workdir = str(tmp_path / "run")
    train(TrainConfig(**settings, generator_iters=2), workdir, verbose=0)
    reference = os.path.join(workdir, inception.REFERENCE_FILE)
    stamp = os.stat(reference).st_mtime_ns
    train(TrainConfig(**settings, generator_iters=4), workdir, verbose=0)
    assert os.stat(reference).st_mtime_ns == stamp
    with open(os.path.join(workdir, "metrics.csv"), newline="") as f:
        scored = [r for r in csv.DictReader(f) if r["frechet_distance"]]
    assert [int(r["generator_iterations"]) for r in scored] == [2, 4]
    assert all(float(r["frechet_distance"]) > 0 and np.isfinite(float(r["kid"])) for r in scored)


def test_cli_eval_every_offline_without_weights_exits_2_in_one_line(tmp_path):
    from commands import as_process, user_env
    folder = write_folder(str(tmp_path / "images"), n=4)
    env = user_env(KERAS_HOME=str(tmp_path / "keras"), WGAN_INCEPTION_WEIGHTS=str(tmp_path / "none.h5"))
    result = as_process("wgan-train", ["--images", folder, "--batch_size", "2", "--n_critic", "1", "--eval_every", "5",
                                       "--workdir", str(tmp_path / "w")],
                        env=env)
    assert result.code == 2 and result.err_lines == [
        f"wgan-train: error: WGAN_INCEPTION_WEIGHTS: no weights file at '{tmp_path / 'none.h5'}' (an InceptionV3 "
        f"include_top=False weights file, .h5 or .weights.h5)"], result.err
    assert not os.path.exists(tmp_path / "w" / "checkpoint.keras")


def test_inception_weights_without_eval_every_is_refused():
    with pytest.raises(ValueError, match="inception_weights.*without --eval_every"):
        TrainConfig(inception_weights="w.h5").validate()

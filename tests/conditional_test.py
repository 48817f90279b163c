"""Conditional WGAN: projection critic, clipping of every critic weight, labels through fit/generate,
exact resumption, and `wgan-train --conditional` on labelled and unlabelled data."""
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from harness import assert_same_weights, max_abs, run_resume_test

import wgan_keras as wk
from wgan_keras.config import TrainConfig
from wgan_keras.train import train

SHAPE = (28, 28, 1)


def tiny_gan(seed=1, classes=10, **kwargs):
    return wk.WGAN(wk.DCGANCritic(SHAPE, base_filters=4, num_classes=classes),
                   wk.DCGANGenerator(8, SHAPE, base_filters=4, num_classes=classes), seed=seed, **kwargs)


def pairs(n=160, seed=0, classes=10):
    rng = np.random.RandomState(seed)
    return rng.uniform(-1, 1, (n,) + SHAPE).astype("float32"), rng.randint(0, classes, n).astype("int32")


def dataset(x, y, m=16):
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(m, drop_remainder=True)


def test_projection_critic_is_psi_of_phi_plus_the_class_embedding_dot_phi():
    critic = wk.MLPCritic((2,), hidden_units=(16, 16), num_classes=3)
    x = np.random.RandomState(0).normal(size=(6, 2)).astype("float32")
    y = np.array([0, 1, 2, 2, 1, 0], "int32")
    phi = keras.Model(critic.inputs[0], critic.get_layer("projection").input[1])(x)  # the last hidden layer
    assert phi.shape == (6, 16)
    dense = [layer for layer in critic.layers if isinstance(layer, keras.layers.Dense)][-1]  # psi
    psi = keras.ops.convert_to_numpy(dense(phi))
    embedding = keras.ops.convert_to_numpy(critic.get_layer("class_embedding").embeddings)
    expected = psi[:, 0] + np.sum(embedding[y] * keras.ops.convert_to_numpy(phi), axis=1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(critic([x, y]))[:, 0], expected, rtol=1e-5, atol=1e-6)
    other = keras.ops.convert_to_numpy(critic([x, (y + 1) % 3]))[:, 0]
    assert np.abs(other - expected).max() > 1e-4  # the class matters


def test_clipping_bounds_every_critic_weight_the_class_embedding_included():
    gan = tiny_gan()
    gan.compile(critic_optimizer=keras.optimizers.RMSprop(1e-2))  # big steps push weights past c
    gan.fit(*pairs(), batch_size=16, epochs=1, verbose=0)
    embedding = gan.critic.get_layer("class_embedding").embeddings
    assert any(v is embedding for v in gan.critic.trainable_variables)
    assert max_abs(gan.critic.trainable_variables) <= 0.01 + 1e-7
    assert np.isclose(np.abs(keras.ops.convert_to_numpy(embedding)), 0.01).mean() > 0.3  # clipping acted on it


@pytest.mark.parametrize("lipschitz", ["gp", "sn"])
def test_gradient_penalty_and_spectral_norm_train_with_labels(lipschitz):
    critic = wk.DCGANCritic(SHAPE, base_filters=4, num_classes=10, spectral_norm=lipschitz == "sn")
    gan = wk.WGAN(critic, wk.DCGANGenerator(8, SHAPE, base_filters=4, num_classes=10), lipschitz=lipschitz,
                  n_critic=2, seed=1)
    gan.compile()
    logs = gan.fit(dataset(*pairs(64)), epochs=1, verbose=0).history
    assert all(np.isfinite(v[-1]) for v in logs.values())
    if lipschitz == "gp":
        assert logs["gradient_penalty"][-1] > 0
    else:
        wrapper = next(layer for layer in critic.layers if getattr(layer, "layer", None) is not None
                       and layer.layer.name == "class_embedding")
        assert isinstance(wrapper, keras.layers.SpectralNormalization)
        x, y = pairs(4)
        with tf.GradientTape() as tape:  # the normalized embedding learns (Keras's own wrapper blocks it)
            scores = critic([x, y], training=True)
        assert tape.gradient(scores, wrapper.layer.embeddings) is not None


def test_generate_draws_the_requested_classes_and_checks_labels():
    gan = tiny_gan()
    a = gan.generate(4, seed=3, labels=7)
    np.testing.assert_array_equal(a, gan.generate(4, seed=3, labels=[7, 7, 7, 7]))
    assert np.abs(a - gan.generate(4, seed=3, labels=2)).max() > 0  # same z, another class
    np.testing.assert_array_equal(gan.generate(12, seed=3), gan.generate(12, seed=3, labels=np.arange(12) % 10))
    for labels, match in ((10, r"\[0, 9\]"), ([-1, 0, 0, 0], r"\[0, 9\]"), ([1, 2], "4 of them"), (1.5, "int")):
        with pytest.raises(ValueError, match=match):
            gan.generate(4, labels=labels)
    plain = wk.WGAN(wk.DCGANCritic(SHAPE, base_filters=4), wk.DCGANGenerator(8, SHAPE, base_filters=4))
    with pytest.raises(ValueError, match="unconditional"):
        plain.generate(2, labels=1)


def test_labels_are_required_and_must_fit():
    gan = tiny_gan()
    gan.compile()
    x, y = pairs(64)
    with pytest.raises(ValueError, match="y: a conditional WGAN"):
        gan.fit(x, batch_size=16, verbose=0)
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 9\]"):
        gan.fit(x, y + 10, batch_size=16, verbose=0)
    with pytest.raises(ValueError, match="needs \\(images, labels\\) batches"):
        gan.fit(tf.data.Dataset.from_tensor_slices(x).batch(16), verbose=0)
    with pytest.raises(ValueError, match="critic for None"):
        wk.WGAN(wk.DCGANCritic(SHAPE, base_filters=4), wk.DCGANGenerator(8, SHAPE, base_filters=4, num_classes=10))
    plain = wk.WGAN(wk.DCGANCritic(SHAPE, base_filters=4), wk.DCGANGenerator(8, SHAPE, base_filters=4))
    with pytest.raises(ValueError, match="num_classes"):
        plain.fit(x, y, batch_size=16)


def test_conditional_resumes_to_the_same_weights_and_keeps_its_sample_seed(tmp_path):
    x, y = pairs(64)

    def make():
        keras.utils.set_random_seed(7)
        gan = tiny_gan(lipschitz="gp", n_critic=2, ema_decay=0.9)
        gan.compile()
        return gan

    straight, resumed = run_resume_test(make, lambda gan, n: gan.fit(dataset(x, y), epochs=n, verbose=0),
                                        str(tmp_path / "c.keras"))
    assert resumed.num_classes == 10 and resumed.get_config()["num_classes"] == 10
    assert_same_weights(straight, resumed, atol=1e-6)
    np.testing.assert_allclose(resumed.generate(8, seed=1, labels=3), straight.generate(8, seed=1, labels=3),
                               atol=1e-6)


TINY = dict(base_filters=8, latent_dim=8, batch_size=200, n_critic=2, sample_every=2, checkpoint_every=2,
            log_every=1, generator_iters=2, conditional=True)


def test_bundled_conditional_run_writes_classes_rows_per_class_and_per_class_quality(tmp_path):
    workdir = str(tmp_path / "run")
    model = train(TrainConfig(**TINY, eval_every=2), workdir, verbose=0)
    assert model.num_classes == 10
    with open(os.path.join(workdir, "classes.json")) as f:
        assert json.load(f)["classes"] == [str(c) for c in range(10)]
    grid = tf.io.decode_png(tf.io.read_file(os.path.join(workdir, "samples", "gen_000002.png"))).numpy()
    assert grid.shape == (10 * 30 + 2, 8 * 30 + 2, 1)  # a row of 8 per class
    with open(os.path.join(workdir, "class_quality.csv")) as f:
        rows = f.read().splitlines()
    assert rows[0] == "generator_iterations,class,frechet_distance,agreement" and len(rows) == 1 + 11
    assert rows[-1].startswith("2,all,")
    with pytest.raises(ValueError, match="different config: conditional True vs False .that run had --conditional."):
        train(TrainConfig(**{**TINY, "conditional": False, "generator_iters": 3}), workdir, verbose=0)


def test_class_folders_and_tfds_labels(tmp_path):
    root = tmp_path / "pics"
    rng = np.random.default_rng(0)
    for name, n in (("cat", 3), ("dog", 5)):
        (root / name / "sub").mkdir(parents=True)
        for i in range(n):
            (root / name / "sub" / f"{i}.png").write_bytes(tf.io.encode_png(rng.integers(0, 256, (30, 30, 1),
                                                                                          np.uint8)).numpy())
    (root / "loose.png").write_bytes((root / "cat" / "sub" / "0.png").read_bytes())  # in no class: left out
    images, labels, classes = wk.data.load_class_folders(str(root), 28, 1)
    assert classes == ["cat", "dog"] and images.shape == (8, 28, 28, 1)
    np.testing.assert_array_equal(labels, [0] * 3 + [1] * 5)
    with pytest.raises(ValueError, match="no class subfolders"):
        wk.data.load_class_folders(str(root / "cat" / "sub"), 28, 1)
    with tfds.testing.mock_data(num_examples=20):
        images, labels, classes = wk.data.load_tfds("mnist", with_labels=True)
    assert images.shape == (20, 28, 28, 1) and labels.shape == (20,) and classes == [str(c) for c in range(10)]


def test_conditional_without_labels_is_one_line_naming_the_data(tmp_path):
    with pytest.raises(ValueError, match="the 2-D toy dataset='ring8' has none") as e:
        TrainConfig(dataset="ring8", conditional=True).validate()
    assert "\n" not in str(e.value)
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "a.png").write_bytes(tf.io.encode_png(np.zeros((28, 28, 1), np.uint8)).numpy())
    with pytest.raises(ValueError, match=f"images='{flat}' has no class subfolders") as e:
        train(TrainConfig(images=str(flat), conditional=True, generator_iters=1), str(tmp_path / "w"), verbose=0)
    assert "\n" not in str(e.value) and not os.path.exists(tmp_path / "w" / "config.json")

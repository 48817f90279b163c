"""Differentiable augmentation (`wgan_keras.augment`, `WGAN(augment=...)`): each transform against a
numpy reference, gradients through T, its place in train_step, and exact resumption."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from harness import (
    TINY_SHAPE,
    assert_same_weights,
    max_abs,
    run_resume_test,
    run_serialization_test,
    tiny_dataset,
    tiny_gan,
    tiny_images,
)

import wgan_keras as wk
from wgan_keras import augment
from wgan_keras.config import TrainConfig

SHAPE = TINY_SHAPE
images, dataset = tiny_images, tiny_dataset


def numpy_translation(x, dy, dx):
    out = np.zeros_like(x)
    h, w = x.shape[:2]
    for i in range(h):
        for j in range(w):
            if 0 <= i - dy < h and 0 <= j - dx < w:
                out[i, j] = x[i - dy, j - dx]
    return out


def test_translation_is_a_zero_filled_shift_by_at_most_an_eighth():
    x = images(9)
    # u = (k + 0.5) / 9 picks offset k - 4 of the 9 possible shifts (-4 .. 4) for a side of 28.
    u = np.stack([(np.arange(9) + 0.5) / 9, (np.arange(9)[::-1] + 0.5) / 9], axis=1).astype("float32")
    got = keras.ops.convert_to_numpy(augment.diff_augment(x, "translation", u))
    for b in range(9):
        np.testing.assert_array_equal(got[b], numpy_translation(x[b], b - 4, 4 - b))


def test_cutout_zeroes_one_square_of_half_the_side_clipped_at_the_border():
    x = np.ones((64,) + SHAPE, "float32")
    u = np.random.RandomState(1).uniform(size=(64, 2)).astype("float32")
    got = keras.ops.convert_to_numpy(augment.TRANSFORMS["cutout"](x, u))
    for b in range(64):
        rows, cols = np.nonzero(got[b, ..., 0] == 0)
        assert set(np.unique(got[b])) <= {0.0, 1.0}
        if rows.size:  # a rectangle: its bounding box is all zero
            assert rows.size == (np.ptp(rows) + 1) * (np.ptp(cols) + 1)
            assert np.ptp(rows) + 1 <= 14 and np.ptp(cols) + 1 <= 14
    inside = [(got[b] == 0).sum() for b in range(64)]
    assert max(inside) == 14 * 14 and min(inside) >= 7 * 7  # whole squares, and ones cut by a border


def test_color_moves_brightness_and_contrast_within_the_published_ranges():
    x = images(4)
    u = np.array([[0.0, 0.5, 0.5], [1.0, 0.5, 0.5], [0.5, 0.5, 0.0], [0.5, 0.5, 1.0]], "float32")
    got = keras.ops.convert_to_numpy(augment.diff_augment(x, "color,translation,cutout", np.concatenate(
        [u, np.full((4, 4), 0.5, "float32")], axis=1)))
    # brightness -0.5 / +0.5 (saturation x1 and contrast x1 leave it), then a centred shift and a cutout.
    kept = got[0] != 0
    np.testing.assert_allclose(got[0][kept], (x[0] - 0.5)[kept], atol=1e-6)
    np.testing.assert_allclose(got[1][kept], (x[1] + 0.5)[kept], atol=1e-6)
    assert np.std(got[2][got[2] != 0]) < np.std(got[3][got[3] != 0])  # contrast x0.5 vs x1.5


def test_gradients_flow_through_every_policy():
    x = tf.constant(images(8))
    u = tf.random.stateless_uniform((8, augment.uniforms_needed("color,translation,cutout")), (1, 2))
    for policy in augment.POLICIES:
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = augment.diff_augment(x, policy, u[:, :augment.uniforms_needed(policy)])
            loss = tf.reduce_sum(y * y)
        grad = tape.gradient(loss, x).numpy()
        assert np.isfinite(grad).all() and np.abs(grad).sum() > 0, policy


def test_a_step_with_augmentation_differs_keeps_the_clip_and_round_trips():
    x = images(16 * 5)
    runs = {}
    for policy in (None, "translation,cutout"):
        keras.utils.set_random_seed(3)
        gan = tiny_gan(seed=3, augment=policy)
        gan.compile()
        gan.fit(dataset(x), epochs=1, verbose=0)
        runs[policy] = gan
        assert max_abs(gan.critic.trainable_variables) <= 0.01 + 1e-7  # WeightClip still holds
    a, b = (keras.ops.convert_to_numpy(g.critic.trainable_variables[0]) for g in runs.values())
    assert not np.array_equal(a, b)  # the critic saw other images
    assert run_serialization_test(tiny_gan(augment="translation,cutout")).augment == "translation,cutout"


@pytest.mark.parametrize("lipschitz", ["gp", "sn"])
def test_every_lipschitz_mode_trains_with_augmentation(lipschitz):
    critic = wk.DCGANCritic(SHAPE, base_filters=4, spectral_norm=lipschitz == "sn")
    gan = wk.WGAN(critic, wk.DCGANGenerator(8, SHAPE, base_filters=4), n_critic=2, lipschitz=lipschitz,
                  augment="color,translation,cutout", seed=0)
    gan.compile()
    history = gan.fit(dataset(images(64)), epochs=1, verbose=0)
    assert np.isfinite(history.history["w_distance"]).all()


def test_resume_draws_the_same_augmentations(tmp_path):
    x = images(16 * 5 * 2)

    def fresh():
        keras.utils.set_random_seed(7)
        gan = tiny_gan(seed=7, augment="translation,cutout")
        gan.compile()
        return gan

    straight, resumed = run_resume_test(fresh, lambda gan, epochs: gan.fit(dataset(x), epochs=epochs, verbose=0),
                                        tmp_path / "run.keras")
    assert_same_weights(straight, resumed)


@pytest.mark.parametrize("bad", ["flip", "cutout", ""])
def test_unknown_policy_is_named(bad):
    with pytest.raises(ValueError, match="augment must be None or one of"):
        tiny_gan(augment=bad)


def test_samples_that_are_not_images_are_refused():
    with pytest.raises(ValueError, match="augment="):
        wk.WGAN(wk.MLPCritic((2,), (8,)), wk.MLPGenerator(2, (2,), (8,)), augment="translation")
    with pytest.raises(ValueError, match="augment"):
        TrainConfig(dataset="ring8", augment="translation").validate()

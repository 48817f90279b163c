import numpy as np
import pytest
import tensorflow as tf

import wgan_keras as wk


def test_signs_on_a_hand_computed_case():
    real, fake = tf.constant([[1.0], [3.0]]), tf.constant([[0.0], [2.0]])
    # E[f(real)] = 2, E[f(fake)] = 1
    assert float(wk.wasserstein_distance_estimate(real, fake)) == pytest.approx(1.0)
    assert float(wk.wasserstein_critic_loss(real, fake)) == pytest.approx(-1.0)
    assert float(wk.wasserstein_generator_loss(fake)) == pytest.approx(-1.0)


def test_gradients_push_the_right_way():
    real, fake = tf.Variable([[1.0], [3.0]]), tf.Variable([[0.0], [2.0]])
    with tf.GradientTape(persistent=True) as tape:
        critic_loss = wk.wasserstein_critic_loss(real, fake)
        generator_loss = wk.wasserstein_generator_loss(fake)
    # Descending the critic loss raises real scores and lowers fake ones.
    np.testing.assert_allclose(tape.gradient(critic_loss, real), [[-0.5], [-0.5]])
    np.testing.assert_allclose(tape.gradient(critic_loss, fake), [[0.5], [0.5]])
    # Descending the generator loss raises the fake scores.
    np.testing.assert_allclose(tape.gradient(generator_loss, fake), [[-0.5], [-0.5]])


def linear_critic(w):
    w = tf.constant(w, tf.float32)
    return lambda x, training=False: tf.reduce_sum(x * w, axis=-1, keepdims=True)


def test_gradient_penalty_of_a_linear_critic():
    real, fake = tf.random.normal([16, 2]), tf.random.normal([16, 2])
    penalty, norms = wk.gradient_penalty(linear_critic([3.0, 4.0]), real, fake)
    np.testing.assert_allclose(norms, np.full(16, 5.0), rtol=1e-5)  # ||grad|| = ||w|| everywhere
    assert float(penalty) == pytest.approx(16.0, rel=1e-5)  # (5 - 1)^2


def test_gradient_penalty_interpolates_with_given_alpha():
    critic = lambda x, training=False: tf.reduce_sum(x ** 2, axis=-1, keepdims=True)  # grad = 2x
    real, fake = tf.constant([[1.0, 0.0]]), tf.constant([[0.0, 0.0]])
    _, norms = wk.gradient_penalty(critic, real, fake, alpha=tf.constant([0.25]))
    assert float(norms[0]) == pytest.approx(0.5, rel=1e-5)  # x_hat = 0.25 * real


def test_gradient_penalty_is_finite_where_the_gradient_vanishes():
    w = tf.Variable([[0.0], [0.0]])
    critic = lambda x, training=False: tf.matmul(x, w)
    with tf.GradientTape() as tape:
        penalty, _ = wk.gradient_penalty(critic, tf.ones([4, 2]), tf.zeros([4, 2]))
    grad = tape.gradient(penalty, w)
    assert float(penalty) == pytest.approx(1.0, abs=1e-5)
    assert np.all(np.isfinite(grad))  # epsilon inside the sqrt


def test_weight_clip():
    clip = wk.WeightClip(0.5)
    np.testing.assert_allclose(clip(tf.constant([-2.0, 0.1, 3.0])), [-0.5, 0.1, 0.5])
    assert wk.WeightClip.from_config(clip.get_config()).clip_value == 0.5
    for bad in (0, -1, float("nan")):
        with pytest.raises(ValueError, match="clip_value"):
            wk.WeightClip(bad)


def test_reference_schedule_table():
    f = lambda g: wk.critic_iterations_for(g, 5, "reference")
    assert [f(g) for g in (0, 24, 25, 26, 499, 500, 501, 1000)] == [100, 100, 5, 5, 5, 100, 5, 100]
    assert wk.critic_iterations_for(7, 3, "paper") == 3
    assert int(wk.critic_iterations_for(tf.constant(1000, tf.int64), 5, "reference")) == 100
    with pytest.raises(ValueError, match="schedule"):
        wk.critic_iterations_for(0, 5, "fast")

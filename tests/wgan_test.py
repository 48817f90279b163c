import keras
import numpy as np
import pytest
import tensorflow as tf
from harness import assert_same_weights, max_abs, run_resume_test, run_serialization_test

import wgan_keras as wk

SHAPE = (28, 28, 1)


def tiny_gan(seed=1, **kwargs):
    return wk.WGAN(wk.DCGANCritic(SHAPE, base_filters=4, normalization=kwargs.pop("normalization", None)),
                   wk.DCGANGenerator(8, SHAPE, base_filters=4), seed=seed, **kwargs)


def images(n=160, seed=0):
    return np.random.RandomState(seed).uniform(-1, 1, (n,) + SHAPE).astype("float32")


def dataset(x, m=16):
    return tf.data.Dataset.from_tensor_slices(x).batch(m, drop_remainder=True)


def test_clip_invariant_after_real_fit_steps():
    gan = tiny_gan(normalization="layer")  # LayerNorm gamma/beta must be clipped too
    gan.compile(critic_optimizer=keras.optimizers.RMSprop(1e-2))  # big steps push weights past c
    gan.fit(dataset(images()), epochs=2, verbose=0)
    names = [v.path for v in gan.critic.trainable_variables]
    assert any("layer_normalization" in n and "gamma" in n for n in names)
    assert max_abs(gan.critic.trainable_variables) <= 0.01 + 1e-7
    at_bound = np.mean([np.isclose(np.abs(np.asarray(v)), 0.01).mean() for v in gan.critic.trainable_variables])
    assert at_bound > 0.3  # the constraint really acted (gamma starts at 1, kernels beyond c)
    assert max_abs(gan.generator.trainable_variables) > 0.01  # the generator is not clipped


def test_one_fit_step_is_one_generator_iteration_over_fresh_batches():
    gan = tiny_gan()
    gan.compile()

    gan.fit(dataset(images(16 * 5 * 3)), epochs=1, verbose=0)  # 15 batches of m=16
    assert int(gan.generator_iterations.numpy()) == 3
    assert int(gan.critic_iterations.numpy()) == 15
    assert int(gan.critic_optimizer.iterations.numpy()) == 15
    assert int(gan.generator_optimizer.iterations.numpy()) == 3


def test_critic_steps_see_distinct_real_batches():
    # Round r of a step must get batch r: a critic that records the mean of its real input.
    from wgan_keras.data.grouping import group_batches
    x = np.concatenate([np.full((4,) + SHAPE, i / 10, "float32") for i in range(10)])
    groups = list(group_batches(dataset(x, 4), n_critic=5))
    assert len(groups) == 2
    for g, group in enumerate(groups):
        means = [float(b.numpy().mean()) for b in tf.split(group, 5)]
        np.testing.assert_allclose(means, [(5 * g + k) / 10 for k in range(5)], atol=1e-6)


def test_grouping_is_replica_major():
    from wgan_keras.data.grouping import group_batches
    x = np.arange(2 * 4, dtype="float32").reshape(8, 1)  # batches [0..3], [4..7]
    (group,) = list(group_batches(dataset(x, 4), n_critic=2, replicas=2))
    # replica 0 takes the first half of each batch, replica 1 the second half
    np.testing.assert_array_equal(group.numpy().ravel(), [0, 1, 4, 5, 2, 3, 6, 7])


def test_unknown_cardinality_runs_each_update_once():
    gan = tiny_gan()
    gan.compile()
    ds = dataset(images(16 * 5)).filter(lambda b: True)  # unknown length
    gan.fit(ds, epochs=3, verbose=0)
    assert int(gan.generator_iterations.numpy()) == 3
    assert int(gan.critic_optimizer.iterations.numpy()) == 15


def fixed_sampler(shift=0.0):
    z = keras.Input((1,))
    return keras.Model(z, keras.layers.Rescaling(1.0, offset=shift)(z))


def train_estimator(real, lipschitz, steps=300, m=256, lr=1e-3, seed=0, gp_weight=10.0):
    """Trains a critic of `real` against N(0, 1); returns its W estimate on fresh samples."""
    keras.utils.set_random_seed(seed)
    critic = wk.MLPCritic((1,), hidden_units=(64, 64))
    gan = wk.WGAN(critic, fixed_sampler(), n_critic=1, lipschitz=lipschitz, latent_dim=1, seed=seed,
                  gp_weight=gp_weight)
    optimizer = keras.optimizers.Adam(lr, 0.5, 0.9) if lipschitz == "gp" else keras.optimizers.RMSprop(lr)
    gan.compile(critic_optimizer=optimizer, generator_optimizer=keras.optimizers.SGD(0.0))
    train = tf.data.Dataset.from_tensor_slices(real).repeat().batch(m, drop_remainder=True)
    gan.fit(train, steps_per_epoch=steps, epochs=1, verbose=0)
    fresh = np.random.RandomState(seed + 99).normal(real.mean(), real.std(), real.shape).astype("float32")
    held_out = tf.data.Dataset.from_tensor_slices(fresh).batch(1024)
    return gan.evaluate(held_out, verbose=0, return_dict=True)["w_distance"]


def test_theory_gp_critic_estimates_w1_of_shifted_gaussians():
    real = np.random.RandomState(0).normal(3.0, 1.0, (8192, 1)).astype("float32")  # N(3,1) vs N(0,1): W1 = 3
    # The penalty is soft: a critic of slope s scores 3s - lambda (s - 1)^2, best at s = 1 + 3 / (2 lambda),
    # so the estimate is 3 (1 + 3 / (2 lambda)): 3.45 at the default lambda = 10, 3.09 at lambda = 50.
    assert train_estimator(real, "gp", gp_weight=50.0) == pytest.approx(3.0, rel=0.10)
    assert train_estimator(real, "gp", gp_weight=10.0) == pytest.approx(3.0 * (1 + 3 / 20), rel=0.05)


def test_theory_clipped_estimate_is_positive_and_grows_with_the_shift():
    rng = np.random.RandomState(1)
    estimates = [train_estimator(rng.normal(s, 1.0, (4096, 1)).astype("float32"), "clip", steps=150, lr=5e-3)
                 for s in (0.5, 1.0, 2.0, 4.0)]
    assert all(e > 0 for e in estimates)
    assert all(a < b for a, b in zip(estimates, estimates[1:])), estimates


def test_reference_schedule_runs_100_then_5_critic_iterations():
    keras.utils.set_random_seed(0)
    gan = wk.WGAN(wk.MLPCritic((2,), hidden_units=(8,)), wk.MLPGenerator(2, (2,), hidden_units=(8,)),
                  critic_schedule="reference", seed=0)
    gan.compile()
    trace = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: trace.append(
        (int(gan.critic_iterations.numpy()), int(gan.generator_iterations.numpy()),
         np.asarray(gan.generator.trainable_variables[0]).copy(), int(gan.generator_optimizer.iterations.numpy()))))
    x = np.random.RandomState(0).normal(size=(8, 2)).astype("float32")
    ds = tf.data.Dataset.from_tensor_slices(x).repeat().batch(8)
    gan.fit(ds, steps_per_epoch=25 * 20 + 3, epochs=1, verbose=0, callbacks=[record])
    critic_at_generator_step, previous = [], 0
    for critic_iterations, generator_iterations, *_ in trace:
        if generator_iterations != previous:
            critic_at_generator_step.append(critic_iterations)
            previous = generator_iterations
    assert critic_at_generator_step == [100 * (k + 1) for k in range(25)] + [2505, 2510, 2515]
    # Inside a 100-iteration round the generator and its optimizer do not move.
    first, last_in_round = trace[0], trace[18]
    assert first[1] == last_in_round[1] == 0
    np.testing.assert_array_equal(first[2], last_in_round[2])
    assert last_in_round[3] == 0
    assert not np.array_equal(trace[19][2], trace[18][2])  # the 20th step moves it


def test_save_load_resumes_exactly(tmp_path):
    x = images(16 * 5 * 2)

    def fresh():
        keras.utils.set_random_seed(7)
        gan = tiny_gan(seed=7)
        gan.compile()
        return gan

    def counters(halves, resumed):
        assert int(resumed.generator_iterations.numpy()) == 4
        assert int(resumed.critic_optimizer.iterations.numpy()) == 20

    straight, resumed = run_resume_test(fresh, lambda gan, epochs: gan.fit(dataset(x), epochs=epochs, verbose=0),
                                        tmp_path / "run.keras", counters)
    assert_same_weights(straight, resumed, atol=1e-6)
    for a, b in zip(straight.critic_optimizer.variables + straight.generator_optimizer.variables,
                    resumed.critic_optimizer.variables + resumed.generator_optimizer.variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


def test_config_round_trip():
    gan = tiny_gan(n_critic=3, clip_value=0.05, critic_schedule="reference")
    revived = run_serialization_test(gan)
    assert (revived.n_critic, revived.clip_value, revived.critic_schedule, revived.seed) == (3, 0.05, "reference", 1)


def test_seeded_runs_are_identical():
    def run():
        keras.utils.set_random_seed(3)
        gan = tiny_gan(seed=None)
        gan.compile()
        gan.fit(images(16 * 5 * 2), batch_size=16, epochs=1, verbose=0)
        return gan

    assert_same_weights(run(), run())


def test_metrics_and_validation():
    gan = tiny_gan()
    gan.compile()
    history = gan.fit(dataset(images()), validation_data=dataset(images(32, seed=1)), epochs=1, verbose=0).history
    assert {"w_distance", "critic_loss", "generator_loss", "val_w_distance"} <= set(history)
    np.testing.assert_allclose(history["w_distance"], np.negative(history["critic_loss"]), rtol=1e-6)


def test_gp_and_sn_train():
    gp = tiny_gan(lipschitz="gp")
    gp.compile()
    history = gp.fit(dataset(images()), epochs=1, verbose=0).history
    assert history["gradient_penalty"][0] > 0
    sn = wk.WGAN(wk.DCGANCritic(SHAPE, base_filters=4, spectral_norm=True), wk.DCGANGenerator(8, SHAPE, base_filters=4),
                 lipschitz="sn")
    sn.compile()
    sn.fit(dataset(images()), epochs=1, verbose=0)
    dense = [l for l in sn.critic.layers if isinstance(l, keras.layers.SpectralNormalization)][-1].layer
    assert np.linalg.svd(np.asarray(dense.kernel), compute_uv=False)[0] <= 1.05


def test_generate_and_uint8():
    gan = tiny_gan()
    a, b = gan.generate(5, seed=3), gan.generate(5, seed=3)
    np.testing.assert_array_equal(a, b)
    assert a.shape == (5,) + SHAPE and np.all(np.abs(a) <= 1)
    assert not np.array_equal(gan.generate(5), gan.generate(5))  # unseeded draws advance
    np.testing.assert_array_equal(wk.to_uint8(np.array([-1.0, 0.0, 1.0, 2.0])), [0, 128, 255, 255])


@pytest.mark.parametrize("kwargs,arg", [
    (dict(clip_value=0), "clip_value"), (dict(clip_value=-0.1), "clip_value"),
    (dict(n_critic=0), "n_critic"), (dict(n_critic=2.5), "n_critic"),
    (dict(lipschitz="l2"), "lipschitz"), (dict(critic_schedule="fast"), "critic_schedule"),
    (dict(lipschitz="sn"), "lipschitz='sn'"), (dict(gp_weight=-1), "gp_weight"),
])
def test_bad_arguments(kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        tiny_gan(**kwargs)


def test_mismatched_shapes_name_the_model():
    with pytest.raises(ValueError, match="critic"):
        wk.WGAN(wk.DCGANCritic((32, 32, 1), base_filters=4), wk.DCGANGenerator(8, SHAPE, base_filters=4))
    gan = tiny_gan()
    gan.compile()
    with pytest.raises(ValueError, match="x:"):
        gan.fit(np.zeros((160, 32, 32, 1), "float32"), batch_size=16, verbose=0)
    with pytest.raises(ValueError, match="dtype"):
        gan.fit(dataset(np.zeros((160,) + SHAPE, "uint8")), verbose=0)

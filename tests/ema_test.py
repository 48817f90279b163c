"""Generator EMA (`wgan_keras.ema`, `WGAN(ema_decay=...)`): the math, its place in train_step,
and its survival through .keras files and resumption."""
import keras
import numpy as np
import pytest
import tensorflow as tf
from harness import TINY_SHAPE, run_resume_test, run_serialization_test, tiny_dataset, tiny_gan, tiny_images

from wgan_edge.contract import latent_vectors
from wgan_keras import ema

SHAPE = TINY_SHAPE
images, dataset = tiny_images, tiny_dataset


def numpy_weights(model):
    return [keras.ops.convert_to_numpy(v).copy() for v in model.weights]


def test_update_after_k_steps_is_the_closed_form():
    rng = np.random.default_rng(0)
    e0, ws, d = rng.normal(size=(3, 4)), rng.normal(size=(5, 3, 4)), 0.9
    average, target = keras.Variable(e0.astype("float32")), keras.Variable(np.zeros((3, 4), "float32"))
    for w in ws:
        target.assign(w.astype("float32"))
        ema.update([average], [target], d)
    k = len(ws)
    closed = d ** k * e0 + (1 - d) * sum(d ** (k - 1 - i) * ws[i] for i in range(k))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(average), closed, rtol=1e-5, atol=1e-6)


def test_warm_up_schedule():
    assert float(ema.decay_at(0.999, 0)) == pytest.approx(0.1)
    assert float(ema.decay_at(0.999, 90)) == pytest.approx(91 / 100)
    assert float(ema.decay_at(0.999, 10 ** 6)) == pytest.approx(0.999)
    for bad in (0, 1, 1.5, -0.1, True, "0.9"):
        with pytest.raises(ValueError, match="ema_decay"):
            ema.check_decay(bad)
    with pytest.raises(ValueError, match="ema_decay"):
        tiny_gan(ema_decay=1.0)


def test_train_step_averages_each_generator_update():
    keras.utils.set_random_seed(0)
    gan = tiny_gan(ema_decay=0.95)
    gan.compile()
    start = numpy_weights(gan.generator)
    np.testing.assert_array_equal(numpy_weights(gan.ema_generator)[0], start[0])  # starts as a copy
    seen = []
    record = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(
        (numpy_weights(gan.generator), numpy_weights(gan.ema_generator))))
    gan.fit(dataset(images(16 * 5 * 3)), epochs=1, verbose=0, callbacks=[record])
    assert len(seen) == 3
    expected = start
    for t, (generator, average) in enumerate(seen):
        d = min(0.95, (1 + t) / (10 + t))
        expected = [d * e + (1 - d) * w for e, w in zip(expected, generator)]
        for e, a in zip(expected, average):
            np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)
    assert not np.allclose(seen[-1][0][0], seen[-1][1][0])  # the average lags the generator
    assert len(gan.ema_generator.trainable_weights) == 0  # never trained, only averaged


def test_generate_uses_the_average_with_standing_statistics():
    gan = tiny_gan(ema_decay=0.9)
    gan.compile()
    gan.fit(dataset(images(16 * 5 * 2)), epochs=1, verbose=0)
    kept = numpy_weights(gan.ema_generator)
    standing = gan.sampling_generator
    assert standing is not gan.ema_generator and gan.sampling_generator is standing  # made once per weights
    for a, b in zip(standing.trainable_weights, gan.ema_generator.trainable_weights):  # the average's weights,
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    moving = [w for w in standing.non_trainable_weights if "moving" in w.path]
    assert moving and not all(np.allclose(keras.ops.convert_to_numpy(w), keras.ops.convert_to_numpy(e)) for w, e in zip(
        moving, [w for w in gan.ema_generator.non_trainable_weights if "moving" in w.path]))  # its own statistics
    z = latent_vectors(4, gan.latent_dim, 3)  # generate's z for seed 3
    np.testing.assert_allclose(gan.generate(4, seed=3), keras.ops.convert_to_numpy(standing(z, training=False)),
                               atol=1e-6)
    assert not np.allclose(gan.generate(4, seed=3), keras.ops.convert_to_numpy(gan.generator(z, training=False)))
    for a, b in zip(kept, numpy_weights(gan.ema_generator)):  # sampling leaves the average (and checkpoints) alone
        np.testing.assert_array_equal(a, b)
    gan.fit(dataset(images(16 * 5)), epochs=1, verbose=0)
    for a, b in zip(gan.sampling_generator.trainable_weights, gan.ema_generator.trainable_weights):  # follows it
        np.testing.assert_array_equal(keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b))
    plain = tiny_gan()
    assert plain.ema_generator is None and plain.sampling_generator is plain.generator


def test_checkpoints_hold_the_average_and_no_standing_copy(tmp_path):
    """The copy is derived: a .keras file holds what it held before 0.3.0 (older checkpoints load), and the
    reloaded WGAN samples what the saved one did."""
    import io
    import zipfile

    import h5py
    gan = tiny_gan(ema_decay=0.9)
    gan.compile()
    gan.fit(dataset(images(16 * 5 * 2)), epochs=1, verbose=0)
    before = gan.generate(4, seed=3)  # makes the copy before saving
    gan.save(tmp_path / "run.keras")
    with zipfile.ZipFile(tmp_path / "run.keras") as archive:
        stored = h5py.File(io.BytesIO(archive.read("model.weights.h5")), "r")
        paths = []
        stored.visit(paths.append)
    assert any("ema_generator" in p for p in paths) and not any("sampling_generator" in p for p in paths)
    revived = keras.saving.load_model(tmp_path / "run.keras")
    np.testing.assert_allclose(revived.generate(4, seed=3), before, atol=1e-6)


@pytest.mark.parametrize("batch_size", [64, 24])
def test_standing_statistics_are_the_statistics_of_its_own_samples(batch_size):
    """With one batch, inference with the re-estimated statistics reproduces training mode on that batch
    (every BatchNormalization sees the same input, so the same mean and variance); with several, the
    statistics are the mean of the batches' and close to it. The frozen copy's layers are left as found."""
    import wgan_keras as wk
    generator = wk.DCGANGenerator(8, (28, 28, 1), base_filters=4)
    z = latent_vectors(64, 8, 0)
    generator(z[:16], training=True)  # moves the moving statistics away from their initial values
    frozen = ema.clone_generator(generator)
    assert ema.standing_statistics(frozen, n=64, seed=0, batch_size=batch_size) == 2  # 28x28: two
    expected = keras.ops.convert_to_numpy(generator(z, training=True))  # batch statistics of these 64 z
    got = keras.ops.convert_to_numpy(frozen(z, training=False))
    np.testing.assert_allclose(got, expected, atol=1e-4 if batch_size == 64 else 0.1)
    assert batch_size == 64 or not np.allclose(got, expected, atol=1e-4)
    norms = [layer for layer in frozen._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]
    assert all(layer.momentum == 0.99 and not layer.trainable for layer in norms)
    again = ema.clone_generator(frozen)
    ema.standing_statistics(again, n=64, seed=0, batch_size=batch_size)  # a function of the weights
    for a, b in zip(numpy_weights(frozen), numpy_weights(again)):
        np.testing.assert_array_equal(a, b)
    assert ema.standing_statistics(wk.MLPGenerator(8, (4,), hidden_units=(16,)), n=8) == 0  # nothing to re-estimate


def test_config_round_trip_keeps_the_decay():
    revived = run_serialization_test(tiny_gan(ema_decay=0.99))
    assert revived.ema_decay == 0.99 and revived.ema_generator is not None
    assert run_serialization_test(tiny_gan()).ema_generator is None


def test_save_load_and_resume_are_bitwise(tmp_path):
    x = images(16 * 5 * 2)

    def fresh():
        keras.utils.set_random_seed(7)
        gan = tiny_gan(seed=7, ema_decay=0.9)
        gan.compile()
        return gan

    def same_average(halves, resumed):
        for a, b in zip(numpy_weights(halves.ema_generator), numpy_weights(resumed.ema_generator)):
            np.testing.assert_array_equal(a, b)  # the file holds the average exactly

    straight, resumed = run_resume_test(fresh, lambda gan, epochs: gan.fit(dataset(x), epochs=epochs, verbose=0),
                                        tmp_path / "run.keras", same_average)
    for a, b in zip(numpy_weights(straight.ema_generator), numpy_weights(resumed.ema_generator)):
        np.testing.assert_array_equal(a, b)


def test_mirrored_over_two_devices_averages_like_one_device():
    def run(strategy):
        keras.utils.set_random_seed(0)
        with strategy.scope():
            gan = tiny_gan(seed=3, ema_decay=0.9)
            gan.compile()
        gan.fit(dataset(images(16 * 5 * 2)), epochs=1, verbose=0)
        return numpy_weights(gan.ema_generator)

    single = run(tf.distribute.get_strategy())
    mirrored = run(tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    for a, b in zip(single, mirrored):
        np.testing.assert_allclose(a, b, atol=1e-5)

import keras
import numpy as np
import pytest

from wgan_keras.evaluation import W1Tracker, exact_w1, mode_coverage, spearman
from wgan_keras.models import MLPCritic, MLPGenerator
from wgan_keras.wgan import WGAN


def test_exact_w1_of_shifted_1d_sets_is_the_shift():
    a = np.random.default_rng(0).normal(size=500)
    assert exact_w1(a, a + 0.7) == pytest.approx(0.7)
    assert exact_w1(a, np.random.default_rng(1).permutation(a)) == pytest.approx(0.0)
    assert exact_w1(a[:, None], a[:, None] - 2.0) == pytest.approx(2.0)


def test_exact_w1_2d_matches_a_shift_and_a_hand_case():
    a = np.random.default_rng(0).normal(size=(200, 2))
    # A translation is optimal for translated sets: W1 = |shift|.
    assert exact_w1(a, a + [3.0, 4.0]) == pytest.approx(5.0)
    # Crossing pairs: the assignment uncrosses them.
    assert exact_w1([[0, 0], [1, 0]], [[1, 1], [0, 1]]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same shape"):
        exact_w1(a, a[:10])


def test_mode_coverage_on_synthetic_samples():
    centers = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    sigma = 0.01
    rng = np.random.default_rng(0)
    # 90 samples on the first two modes, 10 far off: 2 modes, 90 % HQ.
    on = np.concatenate([centers[rng.integers(0, 2, 90)] + sigma * 0.5 * rng.standard_normal((90, 2))])
    off = np.full((10, 2), 0.5) + 0.01 * rng.standard_normal((10, 2))
    covered, hq = mode_coverage(np.concatenate([on, off]), centers, sigma)
    assert covered == 2
    assert hq == pytest.approx(0.9)
    # A sample just outside 3 sigma is not HQ, just inside is.
    assert mode_coverage([[0.0, 0.031]], centers, sigma) == (0, 0.0)
    assert mode_coverage([[0.0, 0.029]], centers, sigma) == (1, 1.0)


def test_spearman():
    x = np.arange(10.0)
    assert spearman(x, x ** 3) == pytest.approx(1.0)
    assert spearman(x, -np.exp(x)) == pytest.approx(-1.0)
    assert spearman([1, 2, 2, 3], [1, 2, 2, 3]) == pytest.approx(1.0)
    scipy_stats = pytest.importorskip("scipy.stats")
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=50), rng.normal(size=50)
    assert spearman(a, b) == pytest.approx(scipy_stats.spearmanr(a, b).statistic)


def test_w1_tracker_records_critic_and_exact_w1():
    keras.utils.set_random_seed(0)
    gan = WGAN(MLPCritic((2,), (16,)), MLPGenerator(2, (2,), (16,)), n_critic=2, seed=1)
    gan.compile()
    real = np.random.default_rng(0).normal(size=(256, 2)).astype("float32") + 3.0
    tracker = W1Tracker(real, n=100, every=1, per="batch")
    gan.fit(real, batch_size=32, epochs=1, steps_per_epoch=3, verbose=0, callbacks=[tracker])
    assert [h["step"] for h in tracker.history] == [1, 2, 3]
    for h in tracker.history:
        assert np.isfinite(h["critic_w"]) and h["exact_w1"] > 1.0  # the data sits ~3*sqrt(2) away


# ----------------------------------------------------------- Fréchet distance, KID, features

from wgan_keras.evaluation import (  # noqa: E402
    FeatureExtractor,
    QualityEvaluator,
    class_histogram,
    frechet_distance,
    gaussian_frechet_distance,
    kernel_inception_distance,
)
from wgan_keras.evaluation.digits import load_bundled_digits, reference_images, split_indices, to_unit_range  # noqa


def test_frechet_distance_of_identical_sets_is_zero_and_symmetric():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(500, 8)), rng.normal(0.3, 1.2, size=(400, 8))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-6)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-6)
    with pytest.raises(ValueError, match="same dimension"):
        frechet_distance(a, b[:, :4])


def test_frechet_distance_matches_the_closed_form_for_gaussians():
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))  # commuting covariances: a shared eigenbasis
    va, vb, mu = np.array([1.0, 2.0, 0.5, 3.0]), np.array([0.5, 1.0, 2.0, 3.0]), np.array([1.0, -1.0, 0.0, 2.0])
    closed = mu @ mu + np.sum((np.sqrt(va) - np.sqrt(vb)) ** 2)
    sa, sb = q @ np.diag(va) @ q.T, q @ np.diag(vb) @ q.T
    assert gaussian_frechet_distance(np.zeros(4), sa, mu, sb) == pytest.approx(closed, rel=1e-6)
    a = rng.multivariate_normal(np.zeros(4), sa, 20000)
    b = rng.multivariate_normal(mu, sb, 20000)
    assert frechet_distance(a, b) == pytest.approx(closed, rel=0.05)


def test_kid_is_unbiased_for_one_distribution_and_grows_with_a_shift():
    rng = np.random.default_rng(2)
    same = [kernel_inception_distance(rng.normal(size=(100, 16)), rng.normal(size=(100, 16)), subsets=1)[0]
            for _ in range(200)]
    stderr = np.std(same) / np.sqrt(len(same))
    assert abs(np.mean(same)) < 3 * stderr  # zero in expectation (the biased estimator is ~2/n*E[k] > 0)
    shifted = kernel_inception_distance(rng.normal(size=(300, 16)), rng.normal(0.5, 1, size=(300, 16)), 10, 200)[0]
    assert shifted > 20 * stderr


def test_digit_features_load_offline_and_separate_real_digits_from_noise():
    images, labels = load_bundled_digits()
    train, held = split_indices(labels)
    assert len(held) == 1000 and np.all(np.bincount(labels[held]) == 100) and not set(train) & set(held)
    features = FeatureExtractor()
    reference = features(reference_images())
    assert reference.shape == (1000, 64)
    real = features(to_unit_range(images[train[::3]]))
    noise = features(np.random.default_rng(0).uniform(-1, 1, (1000, 28, 28, 1)).astype("float32"))
    floor, noisy = frechet_distance(real, reference), frechet_distance(noise, reference)
    assert floor < 5 and noisy > 100 * floor
    # 32x32 images (the digits padded with background) give the 28x28 features
    padded = np.pad(reference_images()[:50], ((0, 0), (2, 2), (2, 2), (0, 0)), constant_values=-1.0)
    np.testing.assert_allclose(features(padded), reference[:50], atol=1e-5)
    np.testing.assert_allclose(features(images[held][:50]), reference[:50], atol=1e-5)  # uint8 is rescaled


def test_feature_extractor_takes_any_keras_model():
    inputs = keras.Input((16, 16, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(5, 3)(inputs))  # spatial output: averaged
    out = FeatureExtractor(model)(np.zeros((3, 28, 28, 1), "float32"))
    assert out.shape == (3, 5)


def test_quality_evaluator_scores_every_n_generator_iterations():
    gan = WGAN(MLPCritic((28, 28, 1), (8,)), MLPGenerator(4, (28, 28, 1), (8,), output_activation="tanh"),
               n_critic=1, seed=0, ema_decay=0.9)
    gan.compile()
    evaluator = QualityEvaluator(every=2, n=100, kid_subsets=5, kid_subset_size=100)
    gan.fit(np.random.default_rng(0).uniform(-1, 1, (64, 28, 28, 1)).astype("float32"), batch_size=16,
            epochs=1, verbose=0, callbacks=[evaluator])
    assert [h["generator_iterations"] for h in evaluator.history] == [2, 4]
    assert all(np.isfinite(h["frechet_distance"]) and h["frechet_distance"] > 0 for h in evaluator.history)
    again = evaluator.score(gan.generate(100, seed=0))
    assert again[0] == pytest.approx(evaluator.history[-1]["frechet_distance"], rel=1e-6)


def test_inception_v3_features_for_other_datasets():
    """The literature's feature network plugs in unchanged (random weights here: nothing can be downloaded).
    InceptionV3's preprocess_input maps [0, 255] to [-1, 1], the generator's range, so none is needed."""
    inception = keras.applications.InceptionV3(weights=None, include_top=False, pooling="avg",
                                               input_shape=(75, 75, 3))  # 75: the smallest input it takes
    extractor = FeatureExtractor(inception, batch_size=16)
    digits = reference_images()[:24]  # 28x28x1: resized to 75x75 and given three channels
    features = extractor(digits)
    assert features.shape == (24, 2048) and np.all(np.isfinite(features))
    np.testing.assert_allclose(extractor(np.repeat(digits, 3, axis=-1)), features, atol=1e-5)
    evaluator = QualityEvaluator(reference=digits, extractor=extractor, kid_subsets=2, kid_subset_size=12)
    assert evaluator.score(digits)[0] == pytest.approx(0, abs=1e-3)


def test_class_histogram_sees_every_held_out_digit_class():
    counts = class_histogram(reference_images())
    assert counts.sum() == 1000 and np.all(np.abs(counts - 100) <= 15)  # 93.8 % held-out accuracy
    ones = reference_images()[np.arange(100, 200)]  # the held-out 1s (the file is sorted by class)
    assert np.argmax(class_histogram(ones)) == 1

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

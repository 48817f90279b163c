"""Evaluation helpers: exact Wasserstein-1, mode coverage, and a W1-tracking callback.

`exact_w1(a, b)`: the exact W1 between two equal-size point sets (uniform
weights) -- by sorting in 1-D, by linear assignment otherwise (for equal
sizes and uniform weights an optimal transport plan is a permutation).
`mode_coverage(samples, centers, sigma)`: the toy protocol of the PacGAN /
VEEGAN papers -- a sample is high quality when it lies within 3 sigma of its
nearest centre; a mode is covered when at least one HQ sample is nearest to it.
`W1Tracker`: records the critic's W estimate next to the exact W1 of ~1,000
generated vs real points, to check that the WGAN loss is meaningful.
"""
import keras
import numpy as np

from wgan_keras.evaluation.distances import spearman


def _as_points(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty array of shape (n,) or (n, d), got shape {x.shape}")
    return x


def exact_w1(a, b):
    """Exact W1 (Euclidean ground cost) between equal-size point sets a and b of shape (n,) or (n, d)."""
    a, b = _as_points(a, "a"), _as_points(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.shape[1] == 1:  # monotone coupling is optimal on the line
        return float(np.mean(np.abs(np.sort(a[:, 0]) - np.sort(b[:, 0]))))
    from scipy.optimize import linear_sum_assignment
    from scipy.spatial.distance import cdist
    cost = cdist(a, b)
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].mean())


def mode_coverage(samples, centers, sigma):
    """(modes_covered, hq_fraction): HQ = within 3*sigma of its nearest centre; a mode is
    covered when at least one HQ sample has it as nearest centre."""
    samples, centers = _as_points(samples, "samples"), _as_points(centers, "centers")
    if samples.shape[1] != centers.shape[1]:
        raise ValueError(f"samples have dimension {samples.shape[1]} but centers {centers.shape[1]}")
    d = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)
    nearest = d.argmin(axis=1)
    hq = d[np.arange(len(samples)), nearest] <= 3.0 * float(sigma)
    return int(len(np.unique(nearest[hq]))), float(hq.mean())


class W1Tracker(keras.callbacks.Callback):
    """Every `every` epochs (or batches, with `per="batch"`) records the critic's W
    estimate, E[f(x)] - E[f(g(z))], and the exact W1 between `n` generated and `n`
    real points, in `self.history` as dicts (step, critic_w, exact_w1).

    Args:
        real: array of real samples (at least n); n of them are drawn each time.
        n: points per side (exact W1 by linear assignment is O(n^3): keep ~1,000).
        every: record every this many epochs / batches.
        per: "epoch" or "batch" (a batch is one generator iteration).
        seed: seed of the real-point draws and of the generator's z.
    """

    def __init__(self, real, n=1000, every=1, per="epoch", seed=0):
        super().__init__()
        if per not in ("epoch", "batch"):
            raise ValueError(f"per must be 'epoch' or 'batch', got per={per!r}")
        self.real = np.asarray(real, dtype=np.float32)
        if len(self.real) < 1:
            raise ValueError("real must hold at least one sample")
        self.n = min(int(n), len(self.real))
        self.every = max(1, int(every))
        self.per = per
        self.seed = int(seed)
        self.history = []
        self._step = 0

    def measure(self):
        """(critic_w, exact_w1) now, on fresh draws."""
        rng = np.random.default_rng(self.seed + len(self.history))
        real = self.real[rng.choice(len(self.real), self.n, replace=False)]
        fake = self.model.generate(self.n, seed=self.seed + 7919 * (len(self.history) + 1))
        critic = self.model.critic
        real_scores = keras.ops.convert_to_numpy(critic(real, training=False))
        fake_scores = keras.ops.convert_to_numpy(critic(fake, training=False))
        critic_w = float(np.mean(real_scores) - np.mean(fake_scores))
        return critic_w, exact_w1(fake.reshape(self.n, -1), real.reshape(self.n, -1))

    def _record(self, step):
        critic_w, w1 = self.measure()
        self.history.append({"step": int(step), "critic_w": critic_w, "exact_w1": w1})

    def on_epoch_end(self, epoch, logs=None):
        if self.per == "epoch" and (epoch + 1) % self.every == 0:
            self._record(epoch + 1)

    def on_train_batch_end(self, batch, logs=None):
        if self.per == "batch":
            self._step += 1
            if self._step % self.every == 0:
                self._record(self._step)

    def correlation(self):
        """Spearman correlation of the recorded critic estimates with the exact W1."""
        return spearman([h["critic_w"] for h in self.history], [h["exact_w1"] for h in self.history])

"""`QualityEvaluator`: a Keras callback that scores samples against a reference set
(Fréchet distance and unbiased KID in a feature network's space) every N generator iterations."""
import time

import keras
import numpy as np

from wgan_keras.evaluation.distances import frechet_distance, kernel_inception_distance


class QualityEvaluator(keras.callbacks.Callback):
    """Every `every` generator iterations (the model's `generator_iterations` counter, so the
    schedule survives resumption): `model.generate(n, seed=seed)` -- the EMA generator when the
    model keeps one -- is scored against `reference`.

    Each result is a dict appended to `history`: generator_iterations, frechet_distance, kid,
    kid_std, seconds (the evaluation's own wall time). With `writer` (a tf.summary writer) the
    first three go to TensorBoard as scalars; `train()` also puts them in metrics.csv.

    Args:
        every: generator iterations between evaluations (None: only when `evaluate()` is called).
        reference: real images (n, H, W, C) in [-1, 1] or uint8; None: the 1,000 held-out
            bundled digits (`digits.reference_images()`).
        extractor: a `FeatureExtractor` (or any images -> features callable); None: the bundled
            digit network.
        n: samples per evaluation (the protocol: 1,000 vs the 1,000 reference digits).
        seed: the fixed seed of the samples' z, the same every time.
        kid_subsets: KID's subset count (see `kernel_inception_distance`).
        kid_subset_size: samples per KID subset.
        writer: a `tf.summary` writer for TensorBoard scalars, or None.
        at: generator iterations to evaluate at besides every `every`-th (e.g. a run's last one).
        reference_features: the reference's features when already computed (instead of `reference`).
    """

    def __init__(self, every=None, reference=None, extractor=None, n=1000, seed=0, kid_subsets=10,
                 kid_subset_size=500, writer=None, at=(),
                 reference_features=None):
        super().__init__()
        self.at = frozenset(int(i) for i in at)  # also at these generator iterations (wgan-train: the last)
        if every is not None and (isinstance(every, bool) or int(every) < 1):
            raise ValueError(f"every must be a positive integer or None, got every={every!r}")
        if isinstance(n, bool) or int(n) < 2:
            raise ValueError(f"n must be an integer >= 2, got n={n!r}")
        self.every, self.n, self.seed = (None if every is None else int(every)), int(n), int(seed)
        self.kid_subsets, self.kid_subset_size, self.writer = kid_subsets, kid_subset_size, writer
        self._reference, self._extractor = reference, extractor
        self._reference_features = None if reference_features is None else np.asarray(reference_features, np.float64)
        self.history = []
        self.last = None

    @property
    def extractor(self):
        if self._extractor is None:
            from wgan_keras.evaluation.features import FeatureExtractor
            self._extractor = FeatureExtractor()
        return self._extractor

    @property
    def reference_features(self):
        if self._reference_features is None:
            reference = self._reference
            if reference is None:
                from wgan_keras.evaluation.digits import reference_images
                reference = reference_images()
            self._reference_features = np.asarray(self.extractor(reference), np.float64)
        return self._reference_features

    def score(self, images):
        """(frechet_distance, kid, kid_std) of `images` against the reference."""
        features = np.asarray(self.extractor(images), np.float64)
        kid, kid_std = kernel_inception_distance(features, self.reference_features, self.kid_subsets,
                                                 self.kid_subset_size, seed=self.seed)
        return frechet_distance(features, self.reference_features), kid, kid_std

    def evaluate(self, generator_iterations=None):
        """Scores `model.generate(n, seed)` now; appends the result to `history` and returns it."""
        start = time.perf_counter()
        gi = int(keras.ops.convert_to_numpy(self.model.generator_iterations)) if generator_iterations is None \
            else int(generator_iterations)
        fd, kid, kid_std = self.score(self.model.generate(self.n, seed=self.seed))
        result = {"generator_iterations": gi, "frechet_distance": fd, "kid": kid, "kid_std": kid_std,
                  "seconds": time.perf_counter() - start}
        self.history.append(result)
        self.last = gi
        if self.writer is not None:
            import tensorflow as tf  # only where a tf.summary writer was given
            with self.writer.as_default(step=gi):
                for name in ("frechet_distance", "kid"):
                    tf.summary.scalar(name, result[name])
        return result

    def result_at(self, generator_iterations):
        """The result logged at that generator iteration, or None."""
        if self.history and self.history[-1]["generator_iterations"] == generator_iterations:
            return self.history[-1]
        return None

    def on_train_batch_end(self, batch, logs=None):
        if self.every is None and not self.at:
            return
        gi = int(keras.ops.convert_to_numpy(self.model.generator_iterations))
        if gi != self.last and ((self.every is not None and gi % self.every == 0) or gi in self.at):
            self.evaluate(gi)

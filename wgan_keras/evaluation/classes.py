"""Per-class quality of a conditional generator: for each requested class, the Fréchet distance to the
reference images of that class and the share of samples the bundled digit classifier assigns to it.

Both need classes the bundled network knows: the digits "0".."9" (`digits.DIGIT_CLASSES`), as the bundled
set, TFDS mnist or a folder with subfolders 0-9 name them. Other class sets get the overall scores only.
"""
import csv
import os

import keras
import numpy as np

from wgan_keras.evaluation.distances import frechet_distance
from wgan_keras.evaluation.quality import QualityEvaluator

CLASS_COLUMNS = ("generator_iterations", "class", "frechet_distance", "agreement")


def knows_classes(classes):
    """True when `classes` (the run's class names) are the bundled digit network's own."""
    from wgan_keras.evaluation.digits import DIGIT_CLASSES
    return classes is not None and tuple(str(c) for c in classes) == DIGIT_CLASSES


def class_scores(images, labels, extractor, reference_features, reference_labels, classifier):
    """Per class c: {"class", "frechet_distance" (samples of c vs reference of c), "agreement" (share of
    the samples of c classified as c)}, then one row "all" (agreement over all samples). Images in [-1, 1]."""
    labels = np.asarray(labels)
    features = np.asarray(extractor(images), np.float64)
    predicted = np.argmax(np.asarray(keras.ops.convert_to_numpy(classifier(images))), -1)
    rows = []
    for c in np.unique(labels):
        mine = labels == c
        rows.append({"class": int(c), "agreement": float(np.mean(predicted[mine] == c)),
                     "frechet_distance": frechet_distance(features[mine], reference_features[reference_labels == c])})
    rows.append({"class": "all", "agreement": float(np.mean(predicted == labels)),
                 "frechet_distance": frechet_distance(features, reference_features)})
    return rows


class ClassQualityEvaluator(QualityEvaluator):
    """A `QualityEvaluator` for a conditional WGAN over the digit classes: `model.generate(n, seed)`
    draws every class equally often (n / 10 each), the overall FD and KID are scored as for an
    unconditional model (against the 1,000 held-out digits, 100 per class), and each result also
    holds `per_class` (`class_scores`) and `class_agreement` (the overall share). With `csv_path`
    each evaluation appends its rows there (CLASS_COLUMNS); with `writer` they go to TensorBoard as
    frechet_distance/class_C and class_agreement/class_C."""

    def __init__(self, every=None, csv_path=None, **kwargs):
        super().__init__(every, **kwargs)
        self.csv_path = csv_path
        self._classifier = None

    @property
    def classifier(self):
        if self._classifier is None:
            from wgan_keras.evaluation.digits import digit_classifier
            from wgan_keras.evaluation.features import FeatureExtractor
            self._classifier = FeatureExtractor(digit_classifier())  # resizes 32x32 samples as the features do
        return self._classifier

    def evaluate(self, generator_iterations=None):
        result = super().evaluate(generator_iterations)
        labels = self.model.check_labels(None, self.n)  # what generate(n, seed) drew: the classes in turn
        images = self.model.generate(self.n, seed=self.seed)  # the same draw as the overall score's
        from wgan_keras.evaluation.digits import reference_labels
        rows = class_scores(images, labels, self.extractor, self.reference_features, reference_labels(),
                            self.classifier)
        result["per_class"], result["class_agreement"] = rows[:-1], rows[-1]["agreement"]
        self._log(result["generator_iterations"], rows)
        return result

    def _log(self, gi, rows):
        if self.csv_path is not None:
            new = not os.path.exists(self.csv_path)
            with open(self.csv_path, "a", newline="") as f:
                out = csv.DictWriter(f, CLASS_COLUMNS)
                if new:
                    out.writeheader()
                out.writerows({"generator_iterations": gi, **row} for row in rows)
        if self.writer is not None:
            import tensorflow as tf  # only where a tf.summary writer was given
            with self.writer.as_default(step=gi):
                for row in rows:
                    tf.summary.scalar(f"class_agreement/class_{row['class']}", row["agreement"])
                    tf.summary.scalar(f"frechet_distance/class_{row['class']}", row["frechet_distance"])

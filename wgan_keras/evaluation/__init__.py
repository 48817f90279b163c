"""Evaluation: sample quality (Fréchet distance, KID), exact W1 and mode coverage for the toys.

Image quality: `frechet_distance` / `kernel_inception_distance` between feature sets,
`FeatureExtractor` (the bundled digit network, or any Keras feature model),
`InceptionExtractor` (FID/KID in InceptionV3 pool features, for any images; see `inception`),
the `QualityEvaluator` callback and `class_histogram` (the digits the
bundled classifier sees in samples). Toys: `exact_w1`, `mode_coverage`,
`W1Tracker`. `spearman`: rank correlation (e.g. of the critic's W estimate with a distance).
"""
from wgan_keras.evaluation.classes import ClassQualityEvaluator, class_scores, knows_classes  # noqa: F401
from wgan_keras.evaluation.digits import class_histogram  # noqa: F401
from wgan_keras.evaluation.distances import (  # noqa: F401
                                             frechet_distance,
                                             gaussian_frechet_distance,
                                             kernel_inception_distance,
                                             spearman,
)
from wgan_keras.evaluation.features import FeatureExtractor  # noqa: F401
from wgan_keras.evaluation.inception import InceptionExtractor, inception_model, reference_features  # noqa: F401
from wgan_keras.evaluation.quality import QualityEvaluator  # noqa: F401
from wgan_keras.evaluation.w1 import W1Tracker, exact_w1, mode_coverage  # noqa: F401

"""FID and KID for any images: InceptionV3's pool features, the statistics every GAN paper reports.

Conventions (those of the FID papers' TensorFlow code, which `keras.applications` reproduces): images in
[-1, 1] (uint8 rescaled by x / 127.5 - 1, which is also InceptionV3's own `preprocess_input`); grey tiled
to 3 channels; resized bilinearly (no antialiasing) to 299 x 299; the 2,048 features are the global
average pool of the last mixed block (`include_top=False, pooling="avg"`), in float32. FID is the
Fréchet distance between Gaussians fitted to them; KID the unbiased polynomial-kernel MMD (see
`distances`). Figures from here compare within this package: other implementations differ in resizing.

Weights: `--inception_weights PATH`, else $WGAN_INCEPTION_WEIGHTS, else Keras's ImageNet file, fetched
once into ~/.keras/models (where the network allows); offline with none of those, one line says what to do.
"""
import hashlib
import os

import keras
import numpy as np

from wgan_keras.evaluation.features import FeatureExtractor

ENV = "WGAN_INCEPTION_WEIGHTS"
SIZE = 299
KERAS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
URL = "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/" + KERAS_FILE
REFERENCE_IMAGES = 2000  # real images whose features are the reference (a fixed-seed subset of the data)
REFERENCE_FILE = "inception_reference.npz"  # in the workdir: computed once, reused on resume
SAMPLES = 1000  # generated images per --eval_every evaluation


def digit_scored(data):
    """Grey images at 28 or 32 pixels are scored in the bundled digit network's features; others here."""
    return data.ndim == 4 and data.shape[-1] == 1 and data.shape[1] in (28, 32)


def weights_path(path=None, environ=None):
    """The local weights file to use: `path`, $WGAN_INCEPTION_WEIGHTS, or Keras's cached (or now fetched)
    ImageNet file. Raises a one-line ValueError naming the flag and the variable when there is none."""
    environ = os.environ if environ is None else environ
    for value, name in ((path, "inception_weights"), (environ.get(ENV), ENV)):
        if value:
            if not os.path.isfile(value):
                raise ValueError(f"{name}: no weights file at {value!r} (an InceptionV3 include_top=False "
                                 f"weights file, .h5 or .weights.h5)")
            return value
    cached = os.path.join(os.path.expanduser(os.environ.get("KERAS_HOME", "~/.keras")), "models", KERAS_FILE)
    if os.path.isfile(cached):
        return cached
    try:
        return keras.utils.get_file(KERAS_FILE, URL, cache_subdir="models",
                                    file_hash="bcbd6486424b2319ff4ef7d526e38f63")
    except Exception as e:  # offline, proxy, disk: whatever get_file met ("URL fetch failure on URL: ... -- why")
        why = str(e).split(" -- ")[-1].strip()[:100] or type(e).__name__
        raise ValueError(f"inception_weights: InceptionV3's ImageNet weights are not cached and could not be "
                         f"fetched ({why}); download {URL} and pass --inception_weights PATH or set "
                         f"{ENV}=PATH") from None


def inception_model(path=None):
    """InceptionV3(include_top=False, pooling="avg") at 299x299x3 with the weights of `weights_path(path)`."""
    return keras.applications.InceptionV3(include_top=False, pooling="avg", weights=weights_path(path),
                                          input_shape=(SIZE, SIZE, 3))


class InceptionExtractor(FeatureExtractor):
    """`FeatureExtractor` in InceptionV3's pool features, resizing one batch at a time (1,000 images at
    299x299x3 would take 1 GiB at once). `model`: a prebuilt feature model (tests); None: `inception_model`."""

    def __init__(self, weights=None, model=None, batch_size=50):
        super().__init__(model if model is not None else inception_model(weights), batch_size=batch_size)

    def __call__(self, images):
        images = np.asarray(images)
        chunks = [FeatureExtractor.__call__(self, images[i:i + self.batch_size])
                  for i in range(0, len(images), self.batch_size)]
        return np.concatenate(chunks) if chunks else np.zeros((0, self.model.outputs[0].shape[-1]), np.float32)


def reference_features(extractor, data, workdir=None, n=None):
    """Features of a fixed-seed subset of `data` (uint8 or [-1, 1] images, at most `n`, default
    REFERENCE_IMAGES): read from workdir/inception_reference.npz when it holds those same images (their
    SHA-256 and the feature size match), else computed and saved there (atomically) for the next resume."""
    n = min(len(data), REFERENCE_IMAGES if n is None else int(n))
    subset = np.asarray(data)[np.sort(np.random.default_rng(0).choice(len(data), n, replace=False))]
    digest = hashlib.sha256(np.ascontiguousarray(subset).tobytes()).hexdigest()
    path = os.path.join(workdir, REFERENCE_FILE) if workdir else None
    if path and os.path.isfile(path):
        try:
            with np.load(path) as saved:
                size = tuple(extractor.model.outputs[0].shape[1:])
                if str(saved["sha256"]) == digest and saved["features"].shape[1:] == size:
                    return saved["features"]
        except (OSError, ValueError, KeyError):
            pass  # unreadable or from other data: computed again below
    features = np.asarray(extractor(subset), np.float32)
    if path:
        from wgan_edge.atomic import atomic_path
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as f:
                np.savez(f, features=features, sha256=digest)
    return features


def evaluator(config, data, workdir, writer=None, at=()):
    """wgan-train's --eval_every `QualityEvaluator` for images the digit network does not cover: SAMPLES
    samples against `reference_features` of the run's data, in InceptionV3 pool features."""
    from wgan_keras.evaluation.quality import QualityEvaluator
    extractor = InceptionExtractor(config.inception_weights)
    return QualityEvaluator(config.eval_every, extractor=extractor, writer=writer, at=at, n=SAMPLES,
                            reference_features=reference_features(extractor, data, workdir))

"""Stage 1, load: a `.keras` file (or a model in memory) -> the generator to export, validated.

`load_generator` refuses in one line what cannot be exported (a missing or corrupt file, a critic, NaN
weights, another Keras backend); `describe` is the one reading of a generator's shapes and classes that
every later stage uses.
"""
import os

import keras
import numpy as np

from wgan_edge.cli import first_line
from wgan_edge.contract import labels_in_turn
from wgan_keras import WGAN  # noqa: F401  (loads the core, which registers the model classes for .keras loading)
from wgan_keras.models.common import check_num_classes


class ExportError(ValueError):
    """A bad input the user can fix (wrong file, a critic, an existing output): one line."""


def load_generator(source):
    """A WGAN, a generator, or a path to either's `.keras` file -> the generator model.

    Raises ExportError (one line) for a missing or corrupt file, or a model that
    is not an image generator (e.g. a critic).
    """
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise ExportError(f"checkpoint not found: {path}")
        try:
            model = keras.saving.load_model(path, compile=False)
        except Exception as e:  # zip errors, unknown classes, truncated files
            raise ExportError(f"cannot load {path} as a Keras model: {first_line(e)[:200]}") from None
    else:
        model = source
    check_backend()
    # A WGAN keeping a generator EMA exports the average (`sampling_generator`), as it samples.
    generator = getattr(model, "sampling_generator", None)
    if generator is None:
        generator = getattr(model, "generator", model)
    if not isinstance(generator, keras.Model):
        raise ExportError(f"expected a WGAN or a generator keras.Model, got {type(model).__name__}")
    describe(generator)  # validates
    check_finite(generator)
    return generator


def check_backend():
    """The export traces the generator into TensorFlow graphs: a torch or JAX Keras cannot do that."""
    if keras.backend.backend() != "tensorflow":
        raise ExportError(f"the export needs Keras's TensorFlow backend, this process runs "
                          f"{keras.backend.backend()!r}: run wgan-export (it picks TensorFlow itself) or set "
                          f"KERAS_BACKEND=tensorflow before importing keras")


def check_finite(generator):
    """NaN or inf weights would export silently into a model that draws nothing: refused, naming them."""
    bad = [w.path if hasattr(w, "path") else w.name for w in generator.weights
           if not np.isfinite(keras.ops.convert_to_numpy(w)).all()]
    if bad:
        kind = "EMA " if "ema" in generator.name.lower() else ""
        raise ExportError(f"the {kind}generator has NaN or inf weights ({len(bad)} of {len(generator.weights)}: "
                          f"{', '.join(bad[:3])}{' ...' if len(bad) > 3 else ''}); nothing to export "
                          f"(resume from an earlier checkpoint)")


def describe(generator):
    """{'latent_dim', 'image_shape'} of an image generator, plus 'num_classes' for a conditional one
    (inputs [z, labels]), or ExportError."""
    inputs = getattr(generator, "inputs", None)
    outputs = getattr(generator, "outputs", None)
    if not inputs or not outputs or len(inputs) not in (1, 2) or len(outputs) != 1:
        raise ExportError(f"{generator.name}: expected a generator with an input z (and, conditional, labels) "
                          f"and one image output")
    extra = {}
    if len(inputs) == 2:  # a conditional generator: [z, labels], labels int (batch,)
        extra["num_classes"] = _num_classes(generator, inputs[1])
    in_shape, out_shape = tuple(inputs[0].shape), tuple(outputs[0].shape)
    if len(in_shape) != 2:
        raise ExportError(f"{generator.name} takes inputs of shape {in_shape[1:]}, not a latent vector: "
                          f"is it a critic? export the generator (or the WGAN)")
    if len(out_shape) != 4 or out_shape[-1] not in (1, 3) or None in out_shape[1:]:
        raise ExportError(f"{generator.name} returns shape {out_shape[1:]}, not images (H, W, 1|3): "
                          f"only image generators can be exported")
    return {"latent_dim": int(in_shape[1]), "image_shape": [int(d) for d in out_shape[1:]], **extra}


def _num_classes(generator, labels):
    """A two-input generator's class count: its own `num_classes` (wgan_keras's generators), else its label
    Embedding's rows (a BatchNorm-folded copy, wgan_export.fold), validated by the core's one rule."""
    num_classes = getattr(generator, "num_classes", None)
    if num_classes is None:
        embedding = _embedding(generator)
        num_classes = None if embedding is None else embedding.input_dim
    try:
        num_classes = check_num_classes(num_classes)
    except ValueError:
        num_classes = None
    if not num_classes or len(labels.shape) != 1 or "int" not in str(labels.dtype):
        raise ExportError(f"{generator.name}: a two-input generator must take [z, labels] with int labels "
                          f"(batch,) and know its num_classes (wgan_keras's DCGANGenerator/MLPGenerator)")
    return num_classes


def reference_labels(generator, n):
    """The labels the export measures a generator on: the classes in turn (None: unconditional)."""
    num_classes = describe(generator).get("num_classes")
    return None if num_classes is None else labels_in_turn(n, num_classes)


def _embedding(generator):
    return next((layer for layer in generator.layers if isinstance(layer, keras.layers.Embedding)), None)


def label_embedding(generator):
    """The Embedding layer a conditional generator looks its label up in (`models.common.join_label`)."""
    embedding = _embedding(generator)
    if embedding is None:
        raise ExportError(f"{generator.name}: a conditional generator needs a label Embedding layer")
    return embedding


def class_names(checkpoint, num_classes):
    """A conditional run's class names (its workdir's classes.json, beside checkpoint.keras) when they fit
    the generator, else None (`metadata` then names the classes "0".."num_classes - 1")."""
    if num_classes is None:
        return None
    from wgan_keras.workdir import read_classes
    try:
        names = read_classes(os.path.dirname(os.path.abspath(checkpoint))) if checkpoint else None
    except (OSError, ValueError, KeyError, TypeError):  # unreadable: the numbers still name the classes
        names = None
    return [str(n) for n in names] if names and len(names) == num_classes else None


def float32_twin(generator):
    """The generator computing in float32: TFLite has no bfloat16/float16 builtins for MatMul or
    Concatenate, so a generator built under a mixed-precision policy (--preset fast picks mixed_bfloat16 where
    the CPU has it) in the exporting process is rebuilt under float32, weights copied. Our models rebuild from
    their constructor arguments; another model under a mixed policy is refused in one line."""
    if all(getattr(layer, "compute_dtype", "float32") == "float32" for layer in generator.layers
           if not isinstance(layer, keras.layers.InputLayer)):  # an Input's policy computes nothing
        return generator
    if not hasattr(type(generator), "from_config") or "latent_dim" not in generator.get_config():
        raise ExportError(f"{generator.name} computes in {generator.compute_dtype}; build it under a float32 "
                          f"dtype policy (or save it and export the .keras file) to export it")
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        twin = type(generator).from_config(generator.get_config())
    finally:
        keras.config.set_dtype_policy(previous)
    twin.set_weights(generator.get_weights())
    return twin

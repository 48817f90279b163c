"""Generator export: load a generator, write it as a SavedModel with a `generate`
signature, and (through `wgan_export.tflite`) as fixed-batch TFLite files.

Every function here is pure: it returns bytes, a path or a dict. The CLI
(`wgan_export.main`) adds flags, atomic publishing and printing. The contract an
app relies on is stated once, in `wgan_edge.contract`.
"""
import json
import os

import keras
import numpy as np
import tensorflow as tf

from wgan_edge.cli import first_line
from wgan_edge.contract import (
    INPUT,
    LABEL,
    LATENT_PRIOR,
    LATENT_RULE,
    METADATA_FILE,
    OUTPUTS,
    SIGNATURE,
    labels_in_turn,
    latent_vectors,
)
from wgan_keras import WGAN  # noqa: F401  (loads the core, which registers the model classes for .keras loading)

# Calibration: 1,024 z from the prior plus their negatives. Measured (docs/export.md) against 200 prior z:
# max |d| 0.40 -> 0.12 on a trained generator, and the input range becomes symmetric, so neither tail of
# N(0, 1) is clipped first (200 z gave [-3.81, 4.22]); 4,096 + antithetic gained nothing more.
CALIBRATION_SIZE = 1024
# Integer models put `images` on the pixel grid: int8 with scale 1/127.5 and zero point 0, so pixel = q + 128
# for all 256 levels (wgan_export.graph). int8 TANH always outputs q/128; x 128/127.5 maps that q onto
# the grid unchanged (an exact requantization), where a plain requantization would round -1.0 to
# level 1 and never produce black. The stretch moves images by at most 1/255 (half an int8 step).
PIXEL_GRID = (-128 / 127.5, 127 / 127.5)
STRETCH = 128 / 127.5
# Integer modes clamp the final tanh's input to +-TANH_CLAMP in the exported graph. The converter calibrates
# that input to its observed range (about [-63, 8.75] on a trained MNIST generator: an int8 step of 0.28,
# where near 0 one step jumps ~35 pixel levels); beyond +-3.2 tanh is saturated anyway
# (tanh(3.2)*127.5 + 128 >= 255), so the clamp costs nothing and buys a step of 0.024 (measured in
# docs/export.md, "Integer models that keep the generator's look").
TANH_CLAMP = 3.2
# Rounding to the pixel grid gives round(y*127.5) + 128, the pixel rule floor(y*127.5 + 128): half a level
# lower first makes the two agree (the 16-bit tail, wgan_export.tail16).
HALF_LEVEL = 0.5 / 127.5


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
        num_classes = getattr(generator, "num_classes", None)
        labels = inputs[1]
        if not num_classes or len(labels.shape) != 1 or "int" not in str(labels.dtype):
            raise ExportError(f"{generator.name}: a two-input generator must take [z, labels] with int labels "
                              f"(batch,) and know its num_classes (wgan_keras's DCGANGenerator/MLPGenerator)")
        extra["num_classes"] = int(num_classes)
    in_shape, out_shape = tuple(inputs[0].shape), tuple(outputs[0].shape)
    if len(in_shape) != 2:
        raise ExportError(f"{generator.name} takes inputs of shape {in_shape[1:]}, not a latent vector: "
                          f"is it a critic? export the generator (or the WGAN)")
    if len(out_shape) != 4 or out_shape[-1] not in (1, 3) or None in out_shape[1:]:
        raise ExportError(f"{generator.name} returns shape {out_shape[1:]}, not images (H, W, 1|3): "
                          f"only image generators can be exported")
    return {"latent_dim": int(in_shape[1]), "image_shape": [int(d) for d in out_shape[1:]], **extra}


def reference_labels(generator, n):
    """The labels the export measures a generator on: the classes in turn (None: unconditional)."""
    num_classes = describe(generator).get("num_classes")
    return None if num_classes is None else labels_in_turn(n, num_classes)


def to_pixels(images):
    """In-graph twin of `wgan_edge.contract.to_uint8`: [-1, 1] -> uint8 [0, 255] (round half up, clip).

    Floor-by-cast instead of tf.round: under full-integer quantization ROUND broke the
    pixels output (a constant), while add/mul/clip/cast quantize cleanly."""
    pixels = tf.clip_by_value(tf.cast(images, tf.float32) * 127.5 + 128.0, 0.0, 255.0)
    return tf.cast(pixels, tf.uint8)


def on_pixel_grid(images):
    """Integer conversions only: fixes the int8 quantization of `images` to the pixel grid (see PIXEL_GRID)."""
    return tf.quantization.fake_quant_with_min_max_args(images * STRETCH, *PIXEL_GRID, num_bits=8)


def pre_tanh(generator):
    """A model from z to the input of the generator's final tanh, or None when it does not end in one."""
    last = generator.layers[-1]
    if isinstance(last, keras.layers.Activation) and last.get_config().get("activation") == "tanh":
        return keras.Model(generator.inputs, last.input)  # [z, labels] for a conditional generator
    return None


def split_label(generator):
    """A conditional generator as (body, table): body maps [z, embedded label] to images, table is the label
    embedding. The endpoint looks the label up itself with one GATHER: Keras's lookup (`ops.take`) adds a
    LESS/SELECT for negative indices on the int32 label, which the int8 calibrator then asks a range for
    and fails ("Empty min/max for tensor generate_label")."""
    embedding = label_embedding(generator)
    return keras.Model([generator.inputs[0], embedding.output], generator.outputs), embedding.embeddings


def label_embedding(generator):
    """The Embedding layer a conditional generator looks its label up in (`models.common.join_label`)."""
    embedding = next((layer for layer in generator.layers if isinstance(layer, keras.layers.Embedding)), None)
    if embedding is None:
        raise ExportError(f"{generator.name}: a conditional generator needs a label Embedding layer")
    return embedding


def generate_fn(generator, integer=False, clamp=None, floor_shift=False):
    """The endpoint: z -> {"images", "pixels"}; inference mode (BatchNorm moving statistics).
    `integer`: images on the int8 pixel grid, for the integer converters; `clamp` (default: `integer`):
    the tanh input clamped to +-TANH_CLAMP, for every calibrated mode. `floor_shift`: images lowered by half
    a pixel level (the 16-bit tail's twin, wgan_export.tail16: rounding to the grid then floors, as
    to_uint8 does)."""
    pre = pre_tanh(generator) if (integer if clamp is None else clamp) else None
    table = None
    if "num_classes" in describe(generator):  # split after pre_tanh: both cut the generator's own graph
        pre = None if pre is None else split_label(pre)[0]
        generator, table = split_label(generator)

    def generate(z, label=None):  # label: a conditional generator's int32 classes (batch,)
        inputs = z if label is None else [z, tf.gather(tf.convert_to_tensor(table), label)]
        if pre is not None:
            x = tf.cast(pre(inputs, training=False), tf.float32)
            images = tf.tanh(tf.clip_by_value(x, -TANH_CLAMP, TANH_CLAMP))
        else:
            images = tf.cast(generator(inputs, training=False), tf.float32)
        if floor_shift:
            images = images - HALF_LEVEL
        if integer:
            images = on_pixel_grid(images)
        return {"images": images, "pixels": to_pixels(images)}
    return generate


def metadata(generator, batch_size=None, **extra):
    info = describe(generator)
    names = extra.pop("class_names", None)  # a conditional run's own names, when the caller knows them
    if "num_classes" in info:  # the second input, its classes named "0".."n-1" unless the run named them
        info.update(label_input=LABEL, class_names=names or [str(c) for c in range(info["num_classes"])])
    info.update(signature=SIGNATURE, input=INPUT, outputs=list(OUTPUTS), batch_size=batch_size,
                images_range=[-1.0, 1.0], pixels_dtype="uint8", latent_prior=LATENT_PRIOR,
                latent_rule=LATENT_RULE, **extra)  # how wgan-sample and the web page draw z for a seed
    return info


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


def write_saved_model(generator, path, batch_size=None, integer=False, clamp=None, floor_shift=False,
                      class_names=None):
    """Writes a SavedModel with the one signature `generate` (dynamic batch when None)
    and `wgan_export.json` inside its folder; returns `path`. Not atomic: see
    `wgan_export.main` for publishing.

    A tf.Module, not keras.export.ExportArchive: the archive stored every weight twice
    (`track()` saves the Keras variables, the endpoint the tf.Variables under them: 1.88 MB
    for 0.94 MB of weights) and always adds a `serving_default` copy of the first endpoint.
    TF Serving clients name the signature: `"signature_name": "generate"`."""
    info = describe(generator)
    generator = float32_twin(generator)
    module = tf.Module()
    module.weights = [getattr(v, "value", v) for v in generator.weights]  # the tf.Variables, tracked once
    signature = [tf.TensorSpec([batch_size, info["latent_dim"]], tf.float32, name=INPUT)]
    if "num_classes" in info:
        signature.append(tf.TensorSpec([batch_size], tf.int32, name=LABEL))
    module.generate = tf.function(generate_fn(generator, integer, clamp, floor_shift), autograph=False,
                                  input_signature=signature)
    tf.saved_model.save(module, path, signatures={SIGNATURE: module.generate.get_concrete_function()})
    with open(os.path.join(path, METADATA_FILE), "w") as f:
        json.dump(metadata(generator, batch_size, class_names=class_names), f, indent=2)
    return path


def read_metadata(saved_model_dir):
    with open(os.path.join(saved_model_dir, METADATA_FILE)) as f:
        return json.load(f)


def representative_dataset(latent_dim, batch_size, n=CALIBRATION_SIZE, seed=1234, antithetic=True,
                           num_classes=None):
    """Calibration data: `n` z from the latent prior (uniform noise mis-calibrates) and their negatives;
    a conditional generator's labels are the classes in turn (every class equally often)."""
    z = latent_vectors(max(n, batch_size), latent_dim, seed)
    z = np.concatenate([z, -z]) if antithetic else z
    labels = None if num_classes is None else labels_in_turn(len(z), num_classes)

    def gen():
        for i in range(0, len(z) - batch_size + 1, batch_size):
            yield {INPUT: z[i:i + batch_size]} if labels is None else \
                {INPUT: z[i:i + batch_size], LABEL: labels[i:i + batch_size]}
    return gen


def run_saved_model(path, z, labels=None):
    """Loads a SavedModel and runs its `generate` signature -> dict of numpy outputs."""
    fn = tf.saved_model.load(path).signatures[SIGNATURE]
    inputs = {INPUT: tf.constant(z, tf.float32)}
    if labels is not None:
        inputs[LABEL] = tf.constant(labels, tf.int32)
    return {k: v.numpy() for k, v in fn(**inputs).items()}

"""Stage 3, the endpoint: the generator as the one signature `generate` (z [, label] -> images, pixels), the
graph every format ships: written as a SavedModel (the saved_model format, and the converters' input), plus
its metadata and the calibration data the integer converters read.

Every function here is pure: it returns a function, a path or a dict. The contract an app relies on is
stated once, in `wgan_edge.contract`.
"""
import json
import os

import keras
import numpy as np
import tensorflow as tf

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
from wgan_export.load import describe, float32_twin, label_embedding
from wgan_export.pixels import HALF_LEVEL, PIXEL_GRID, STRETCH

# Calibration: 1,024 z from the prior plus their negatives. Measured (docs/export.md) against 200 prior z:
# max |d| 0.40 -> 0.12 on a trained generator, and the input range becomes symmetric, so neither tail of
# N(0, 1) is clipped first (200 z gave [-3.81, 4.22]); 4,096 + antithetic gained nothing more.
CALIBRATION_SIZE = 1024


def to_pixels(images):
    """In-graph twin of `wgan_edge.contract.to_uint8`: [-1, 1] -> uint8 [0, 255] (round half up, clip).

    Floor-by-cast instead of tf.round: under full-integer quantization ROUND broke the
    pixels output (a constant), while add/mul/clip/cast quantize cleanly."""
    pixels = tf.clip_by_value(tf.cast(images, tf.float32) * 127.5 + 128.0, 0.0, 255.0)
    return tf.cast(pixels, tf.uint8)


def on_pixel_grid(images):
    """Integer conversions only: fixes the int8 quantization of `images` to the pixel grid
    (wgan_export.pixels.PIXEL_GRID)."""
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


def generate_fn(generator, integer=False, clamp=None, floor_shift=False):
    """The endpoint: z -> {"images", "pixels"}; inference mode (BatchNorm moving statistics).
    `integer`: images on the int8 pixel grid, for the integer converters; `clamp`: the tanh input clamped to
    +-clamp (a Mode's tanh_clamp), None for the generator's own tanh. `floor_shift`: images lowered by half
    a pixel level (the 16-bit tail's twin, wgan_export.tail16: rounding to the grid then floors, as
    to_uint8 does)."""
    pre = pre_tanh(generator) if clamp is not None else None
    table = None
    if "num_classes" in describe(generator):  # split after pre_tanh: both cut the generator's own graph
        pre = None if pre is None else split_label(pre)[0]
        generator, table = split_label(generator)

    def generate(z, label=None):  # label: a conditional generator's int32 classes (batch,)
        inputs = z if label is None else [z, tf.gather(tf.convert_to_tensor(table), label)]
        if pre is not None:
            x = tf.cast(pre(inputs, training=False), tf.float32)
            images = tf.tanh(tf.clip_by_value(x, -clamp, clamp))
        else:
            images = tf.cast(generator(inputs, training=False), tf.float32)
        if floor_shift:
            images = images - HALF_LEVEL
        if integer:
            images = on_pixel_grid(images)
        return {"images": images, "pixels": to_pixels(images)}
    return generate


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


def metadata(generator, batch_size=None, **extra):
    info = describe(generator)
    names = extra.pop("class_names", None)  # a conditional run's own names, when the caller knows them
    if "num_classes" in info:  # the second input, its classes named "0".."n-1" unless the run named them
        info.update(label_input=LABEL, class_names=names or [str(c) for c in range(info["num_classes"])])
    info.update(signature=SIGNATURE, input=INPUT, outputs=list(OUTPUTS), batch_size=batch_size,
                images_range=[-1.0, 1.0], pixels_dtype="uint8", latent_prior=LATENT_PRIOR,
                latent_rule=LATENT_RULE, **extra)  # how wgan-sample and the web page draw z for a seed
    return info


def read_metadata(saved_model_dir):
    with open(os.path.join(saved_model_dir, METADATA_FILE)) as f:
        return json.load(f)


def run_saved_model(path, z, labels=None):
    """Loads a SavedModel and runs its `generate` signature -> dict of numpy outputs."""
    fn = tf.saved_model.load(path).signatures[SIGNATURE]
    inputs = {INPUT: tf.constant(z, tf.float32)}
    if labels is not None:
        inputs[LABEL] = tf.constant(labels, tf.int32)
    return {k: v.numpy() for k, v in fn(**inputs).items()}


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

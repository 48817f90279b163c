"""Stage 4, convert: a generator -> fixed-batch TFLite bytes, following one `wgan_export.modes.Mode` row.

Route "converter": the endpoint (`wgan_export.endpoint`) written as a SavedModel ->
TFLiteConverter.from_saved_model(signature_keys=["generate"]); route "tfmot": `wgan_export.tfmot`. Then the
graph passes: the 16-bit tail (`wgan_export.tail16`) and the exact `pixels` (`wgan_export.pixels`). Only
builtin ops are allowed (no SELECT_TF_OPS: a Flex op would need the Flex delegate on the device).
"""
import os
import sys

import numpy as np
import tensorflow as tf

from wgan_edge.atomic import temp_folder
from wgan_edge.cli import first_line
from wgan_edge.contract import INPUT, LABEL, OUTPUTS, SIGNATURE
from wgan_edge.runner import RunnerError, TFLiteGenerator
from wgan_edge.signals import check_interrupted
from wgan_export import stderr
from wgan_export.endpoint import pre_tanh, representative_dataset, write_saved_model
from wgan_export.flatbuffer import op_names
from wgan_export.fold import folded_model
from wgan_export.load import ExportError, describe
from wgan_export.modes import BY_NAME, NAMES, Mode, names_with
from wgan_export.pixels import exact_pixels
from wgan_export.tail16 import NoTail, int16_tail
from wgan_export.tfmot import convert_qat


def as_mode(quantize):
    """A mode's row from its name, or the row itself (a benchmark's `dataclasses.replace` of one)."""
    if isinstance(quantize, Mode):
        return quantize
    if quantize not in BY_NAME:
        raise ExportError(f"--quantize must be one of {NAMES}, got {quantize!r}")
    return BY_NAME[quantize]


def converter_for(saved_model_dir, quantize, latent_dim, batch_size, int8_io=False, num_classes=None):
    """A TFLiteConverter configured from the mode's row (route "converter")."""
    mode = as_mode(quantize)
    if mode.route != "converter":
        raise ExportError(f"--quantize {mode.name} converts through {mode.route}, not the TFLite converter")
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=[SIGNATURE])
    converter.target_spec.supported_ops = [getattr(tf.lite.OpsSet, name) for name in mode.ops]
    if mode.optimize:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    converter.target_spec.supported_types = [getattr(tf, name) for name in mode.types]
    if mode.calibrated:
        converter.representative_dataset = representative_dataset(latent_dim, batch_size, num_classes=num_classes)
    if mode.int8_z or int8_io:
        converter.inference_input_type = tf.int8  # the float z; a conditional model's int32 label stays int32
    if mode.int8_images:
        converter.inference_output_type = tf.int8  # images int8; pixels is uint8 (wgan_export.pixels)
    return converter


def convert(generator, quantize="float32", batch_size=1, int8_io=False, **options):
    """A generator -> TFLite flatbuffer bytes with a fixed batch (static shapes run
    3-100x faster under XNNPACK than a dynamic batch).

    The model has one signature, `generate`: z, float32 (batch_size, latent_dim) (int8 with `int8_io` or
    full_int8), and for a conditional generator label, int32 (batch_size,), in; images in [-1, 1]
    (batch_size, H, W, C) and uint8 pixels out (`wgan_edge.contract`).

    Args:
        generator: a Keras generator (`DCGANGenerator`, `MLPGenerator`, a WGAN's `sampling_generator`).
        quantize: one of `wgan_export.modes.NAMES` (float32, float16, dynamic, int8, int16x8, full_int8, qat),
            or a `Mode` row (a recipe varied with `dataclasses.replace`).
        batch_size: the fixed batch (int >= 1).
        int8_io: an int8 z input (int8 and qat only).
        **options: the route's keywords (`Mode.options`): `steps`, `sparsity` for qat.

    Returns:
        bytes: the .tflite flatbuffer, checked to load in LiteRT.

    Raises:
        ExportError: an unknown mode, a bad batch size, `int8_io` with a mode that has none, a conditional
            generator with `qat`, a generator that is not an image generator, or a route that failed (why).
    """
    mode = as_mode(quantize)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ExportError(f"--batch_size must be a positive integer for tflite, got {batch_size!r}")
    if int8_io and not mode.int8_io:
        raise ExportError(f"--int8_io needs --quantize {names_with('int8_io')}")
    info = describe(generator)
    if "num_classes" in info and mode.why_not_conditional:
        raise ExportError(f"--quantize {mode.name}: {mode.why_not_conditional}")
    args = (mode, int(batch_size), int8_io, options)
    folded = _folded(generator) if mode.fold else None
    if folded is not None:
        try:
            return loadable(_convert(folded, *args))
        except (RuntimeError, RunnerError) as e:
            # TF 2.16 (the oldest supported stack) quantizes the folded Dense per channel where LiteRT
            # expects one scale ("num_scales must be 1 ... got 8"), or its 16x8 calibrator fails on the
            # twin ("Expected bias tensor to be a vector"): the unfolded generator converts on every stack.
            print(f"wgan-export: the BatchNorm-folded {mode.name} conversion failed ({first_line(e)[:200]}); "
                  f"converting the generator unfolded", file=sys.stderr)
    try:
        return _convert(generator, *args)
    except (RuntimeError, RunnerError) as e:  # the converter's own error, in one line
        raise ExportError(f"--quantize {mode.name}: the {mode.route} conversion failed: {first_line(e)[:300]}") \
            from None


def _folded(generator):
    """wgan_export.fold.folded_model, or None for a layer the fold does not know (the converter then sees
    the generator as it is: folding is an optimisation, not a requirement)."""
    try:
        return folded_model(generator)
    except ExportError:
        return None


def loadable(model):
    """The model, once LiteRT has prepared it (RunnerError else)."""
    TFLiteGenerator(model)
    return model


def _convert(generator, mode, batch_size, int8_io, options):
    """`convert` on a (possibly BN-folded) generator: the route, then the graph passes."""
    info = describe(generator)
    latent_dim, num_classes = info["latent_dim"], info.get("num_classes")
    tail = mode.tail_layers and mode.on_pixel_grid and pre_tanh(generator) is not None
    with temp_folder("tflite") as tmp, stderr.dropped(stderr.CONVERTER_NOTES):  # removed on SIGINT/SIGTERM
        if mode.route == "tfmot":
            model = convert_qat(generator, batch_size=batch_size, int8_io=int8_io, **options)
        else:
            saved = write_saved_model(generator, os.path.join(tmp, "sm"), batch_size, integer=mode.on_pixel_grid,
                                      clamp=mode.tanh_clamp)
            model = bytes(converter_for(saved, mode, latent_dim, batch_size, int8_io, num_classes).convert())
        check_interrupted()  # a Ctrl-C deferred while the converter ran (a minute at 64x64) stops here
        if tail:  # a 16-bit last layer (wgan_export.tail16), from an int16x8 conversion of the same graph
            twin = write_saved_model(generator, os.path.join(tmp, "sm16"), batch_size, clamp=mode.tanh_clamp,
                                     floor_shift=mode.floor_shift)
            model16 = bytes(converter_for(twin, "int16x8", latent_dim, batch_size, num_classes=num_classes).convert())
            try:
                model = int16_tail(model, model16, mode.tail_layers)
            except NoTail:
                pass  # a generator whose tanh does not follow a convolution: the int8 tanh (clamped) stays
    return exact_pixels(model) if mode.rebuilt_pixels else model


def io_params(model_bytes):
    """{name: {"dtype", "shape", "scale", "zero_point"}} of the `generate` input and outputs, as LiteRT
    reads them (scale 0 for float tensors): what wgan-export records in the metadata."""
    from ai_edge_litert.interpreter import Interpreter
    runner = Interpreter(model_content=bytes(model_bytes)).get_signature_runner(SIGNATURE)
    details = {**runner.get_input_details(), **runner.get_output_details()}
    return {name: {"dtype": np.dtype(d["dtype"]).name, "shape": [int(x) for x in d["shape"]],
                   "scale": float(d["quantization"][0]), "zero_point": int(d["quantization"][1])}
            for name, d in details.items() if name in (INPUT, LABEL) + OUTPUTS}


def check_builtin_only(model_bytes):
    """Raises if the model needs Flex (SELECT_TF_OPS) or custom ops."""
    bad = sorted(n for n in op_names(model_bytes) if n.startswith("CUSTOM") or "Flex" in n)
    if bad:
        raise ExportError(f"TFLite model needs non-builtin ops: {bad}")
    return True

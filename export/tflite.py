"""Keras 3 generator -> fixed-batch TFLite bytes, one quantization per choice.

Route: keras.export.ExportArchive (endpoint `generate`) -> SavedModel ->
TFLiteConverter.from_saved_model(signature_keys=["generate"]). Only builtin ops
are allowed (no SELECT_TF_OPS: a Flex op would need the Flex delegate on the device).
"""
import contextlib
import os
import re
import tempfile

import numpy as np
import tensorflow as tf

from wgan_edge.atomic import temp_folder
from wgan_edge.contract import INPUT, LABEL, OUTPUTS, SIGNATURE
from wgan_edge.runner import RunnerError, TFLiteGenerator
from wgan_export.graph import exact_pixels
from wgan_export.lib import ExportError, describe, pre_tanh, representative_dataset, write_saved_model
from wgan_export.modes import BY_NAME, NAMES
from wgan_export.qat import convert_qat, folded_model
from wgan_export.tail16 import int16_tail

# The integer-model pipeline, as switches the benchmark turns off one at a time (docs/export.md):
TAIL_LAYERS = 1  # convolutions in the 16-bit tail (wgan_export.tail16); 2 gained 0.5 dB for 2.5x the latency
FLOOR_SHIFT = True  # the 16-bit tail floors to the pixel grid (lib.HALF_LEVEL), so pixels equal Keras's
FOLD_BN = True  # pixel-grid modes convert qat.folded_model: BatchNorm folded into the Dense too (+3 dB)

# The converter's C++ side writes notes to file descriptor 2 (`fully_quantize: 0, inference_type: 6, ...`,
# `Estimated count of arithmetic ops`, absl/TF log lines) whatever TF_CPP_MIN_LOG_LEVEL says; they are
# dropped, anything else (a real error) still reaches the terminal.
CONVERTER_NOISE = re.compile(r"^(fully_quantize:|Estimated count of|WARNING: All log messages before absl|"
                             r"[IWE]\d{4} |\S+\.cc:\d+\]|Summary on the non-converted ops|\s*$)")


@contextlib.contextmanager
def quiet_converter():
    """Captures file descriptor 2 while the converter runs; passes on the lines that are not its notes."""
    import sys
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode(errors="replace").splitlines()
                    if not CONVERTER_NOISE.match(line)]
            if kept:  # through descriptor 2 again: wgan_edge.cli.quiet_libraries' filter, when on, still applies
                os.write(2, ("\n".join(kept) + "\n").encode())


def converter_for(saved_model_dir, quantize, latent_dim, batch_size, int8_io=False, num_classes=None):
    """A TFLiteConverter configured from the mode's row in `wgan_export.modes.MODES` (not "qat": wgan_export.qat)."""
    if quantize not in BY_NAME or BY_NAME[quantize].route != "converter":
        raise ExportError(f"--quantize must be one of {NAMES}, got {quantize!r}")
    mode = BY_NAME[quantize]
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
        converter.inference_output_type = tf.int8  # images int8; pixels is uint8 (wgan_export.graph)
    return converter


def convert(generator, quantize="float32", batch_size=1, int8_io=False, **qat_options):
    """A generator -> TFLite flatbuffer bytes with a fixed batch (static shapes run
    3-100x faster under XNNPACK than a dynamic batch).

    The model has one signature, `generate`: z, float32 (batch_size, latent_dim) (int8 with `int8_io` or
    full_int8), and for a conditional generator label, int32 (batch_size,), in; images in [-1, 1]
    (batch_size, H, W, C) and uint8 pixels out (`wgan_edge.contract`).

    Args:
        generator: a Keras generator (`DCGANGenerator`, `MLPGenerator`, a WGAN's `sampling_generator`).
        quantize: one of `wgan_export.modes.NAMES`: float32, float16, dynamic, int8, int16x8, full_int8, qat.
        batch_size: the fixed batch (int >= 1).
        int8_io: an int8 z input (int8 and qat only).
        **qat_options: `steps`, `sparsity` for `quantize="qat"`.

    Returns:
        bytes: the .tflite flatbuffer, checked to load in LiteRT.

    Raises:
        ExportError: an unknown mode, a bad batch size, `int8_io` with a mode that has none, a conditional
            generator with `qat`, or a generator that is not an image generator.
    """
    if quantize not in BY_NAME:
        raise ExportError(f"--quantize must be one of {NAMES}, got {quantize!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ExportError(f"--batch_size must be a positive integer for tflite, got {batch_size!r}")
    mode = BY_NAME[quantize]
    if int8_io and not mode.int8_io:
        raise ExportError(f"--int8_io needs --quantize {' or '.join(m for m in NAMES if BY_NAME[m].int8_io)}")
    info = describe(generator)
    latent_dim, num_classes = info["latent_dim"], info.get("num_classes")
    if num_classes is not None and mode.route == "tfmot":
        raise ExportError(f"--quantize {quantize}: tfmot's quantization-aware training has no conditional "
                          f"(z, label) generator route here; use --quantize int8 or full_int8")
    batch_size = int(batch_size)
    args = (mode, latent_dim, num_classes, batch_size, int8_io, qat_options)
    if mode.on_pixel_grid and FOLD_BN:
        try:
            folded = folded_model(generator)
        except ExportError:
            folded = None  # a layer folded_layers does not know: the converter sees the generator as it is
        if folded is not None:
            try:
                return loadable(_convert(folded, *args))
            except (RuntimeError, RunnerError):
                # TF 2.16 (the oldest supported stack) quantizes the folded Dense per channel where LiteRT
                # expects one scale ("num_scales must be 1 ... got 8"), or its 16x8 calibrator fails on the
                # twin ("Expected bias tensor to be a vector"): the unfolded generator converts on every stack.
                pass
    return _convert(generator, *args)


def loadable(model):
    """The model, once LiteRT has prepared it (RunnerError else)."""
    TFLiteGenerator(model)
    return model


def _convert(generator, mode, latent_dim, num_classes, batch_size, int8_io, qat_options):
    """`convert` on a (possibly BN-folded) generator: the converter or tfmot, then the 16-bit tail."""
    quantize, tail = mode.name, mode.on_pixel_grid and pre_tanh(generator) is not None
    with temp_folder("tflite") as tmp, quiet_converter():  # removed on SIGINT/SIGTERM, reclaimed after SIGKILL
        if mode.route == "tfmot":
            model = convert_qat(generator, batch_size=batch_size, int8_io=int8_io, **qat_options)
        else:
            saved = write_saved_model(generator, os.path.join(tmp, "sm"), batch_size, integer=mode.on_pixel_grid,
                                      clamp=mode.calibrated)
            model = bytes(converter_for(saved, quantize, latent_dim, batch_size, int8_io, num_classes).convert())
        if tail:  # a 16-bit last layer (wgan_export.tail16), from an int16x8 conversion of the same graph
            twin = write_saved_model(generator, os.path.join(tmp, "sm16"), batch_size, clamp=True,
                                     floor_shift=FLOOR_SHIFT)
            model16 = bytes(converter_for(twin, "int16x8", latent_dim, batch_size, num_classes=num_classes).convert())
            try:
                model = int16_tail(model, model16, TAIL_LAYERS)
            except ValueError:
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


def op_names(model_bytes):
    """The set of operator names in a TFLite model (builtins by name, customs as CUSTOM:<code>)."""
    from tensorflow.lite.python import schema_py_generated as schema
    model = schema.ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)
    builtin = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
    names = set()
    for code in model.operatorCodes:
        op = max(code.builtinCode, code.deprecatedBuiltinCode)
        name = builtin.get(op, str(op))
        if name == "CUSTOM":
            custom = code.customCode.decode() if isinstance(code.customCode, bytes) else str(code.customCode)
            name = f"CUSTOM:{custom}"
        names.add(name)
    return names


def check_builtin_only(model_bytes):
    """Raises if the model needs Flex (SELECT_TF_OPS) or custom ops."""
    bad = sorted(n for n in op_names(model_bytes) if n.startswith("CUSTOM") or "Flex" in n)
    if bad:
        raise ExportError(f"TFLite model needs non-builtin ops: {bad}")
    return True

"""Keras 3 generator -> fixed-batch TFLite bytes, one quantization per choice.

Route: keras.export.ExportArchive (endpoint `generate`) -> SavedModel ->
TFLiteConverter.from_saved_model(signature_keys=["generate"]). Only builtin ops
are allowed (no SELECT_TF_OPS: a Flex op would need the Flex delegate on the device).
"""
import os

import numpy as np
import tensorflow as tf

from wgan_edge.atomic import temp_folder
from wgan_edge.contract import INPUT, OUTPUTS, QUANTIZATIONS, SIGNATURE
from wgan_export.graph import exact_pixels
from wgan_export.lib import ExportError, describe, representative_dataset, write_saved_model
from wgan_export.qat import convert_qat

# Modes whose `images` is int8 on the pixel grid (lib.on_pixel_grid) and whose `pixels` is one QUANTIZE op.
INTEGER = ("int8", "full_int8", "qat")
# Modes whose converter quantizes the `pixels` tail, rebuilt exactly after conversion (wgan_export.graph).
REBUILT_PIXELS = INTEGER + ("int16x8",)


def converter_for(saved_model_dir, quantize, latent_dim, batch_size, int8_io=False):
    """A configured TFLiteConverter for one quantization choice (not "qat": see wgan_export.qat)."""
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=[SIGNATURE])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantize in ("int8", "full_int8", "int16x8"):
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset(latent_dim, batch_size)
        converter.target_spec.supported_ops = {
            # INT8 builtins first; float builtins allowed for the float input/output conversions.
            "int8": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS],
            # Nothing float anywhere: microcontrollers (TFLM), Edge TPU and integer-only NPUs.
            "full_int8": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8],
            # int16 activations, int8 weights (LiteRT's builtin for quality-sensitive models); float I/O.
            "int16x8": [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8,
                        tf.lite.OpsSet.TFLITE_BUILTINS]}[quantize]
        if int8_io or quantize == "full_int8":
            converter.inference_input_type = tf.int8
        if quantize == "full_int8":
            converter.inference_output_type = tf.int8  # images int8; pixels is uint8 (wgan_export.graph)
    elif quantize != "float32":
        raise ExportError(f"--quantize must be one of {QUANTIZATIONS}, got {quantize!r}")
    return converter


def convert(generator, quantize="float32", batch_size=1, int8_io=False, **qat_options):
    """A generator -> TFLite flatbuffer bytes with a fixed batch (static shapes run
    3-100x faster under XNNPACK than a dynamic batch)."""
    if quantize not in QUANTIZATIONS:
        raise ExportError(f"--quantize must be one of {QUANTIZATIONS}, got {quantize!r}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ExportError(f"--batch_size must be a positive integer for tflite, got {batch_size!r}")
    if int8_io and quantize not in ("int8", "qat"):
        raise ExportError("--int8_io needs --quantize int8 or qat")
    if quantize == "qat":
        return exact_pixels(convert_qat(generator, batch_size=int(batch_size), int8_io=int8_io, **qat_options))
    latent_dim = describe(generator)["latent_dim"]
    with temp_folder("tflite") as tmp:  # removed on SIGINT/SIGTERM too, and reclaimed after a SIGKILL
        saved = write_saved_model(generator, os.path.join(tmp, "sm"), batch_size=int(batch_size),
                                  integer=quantize in INTEGER)
        model = bytes(converter_for(saved, quantize, latent_dim, int(batch_size), int8_io).convert())
    return exact_pixels(model) if quantize in REBUILT_PIXELS else model


def io_params(model_bytes):
    """{name: {"dtype", "shape", "scale", "zero_point"}} of the `generate` input and outputs, as LiteRT
    reads them (scale 0 for float tensors): what wgan-export records in the metadata."""
    from ai_edge_litert.interpreter import Interpreter
    runner = Interpreter(model_content=bytes(model_bytes)).get_signature_runner(SIGNATURE)
    details = {**runner.get_input_details(), **runner.get_output_details()}
    return {name: {"dtype": np.dtype(d["dtype"]).name, "shape": [int(x) for x in d["shape"]],
                   "scale": float(d["quantization"][0]), "zero_point": int(d["quantization"][1])}
            for name, d in details.items() if name in (INPUT,) + OUTPUTS}


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

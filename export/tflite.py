"""Keras 3 generator -> fixed-batch TFLite bytes, one quantization per choice.

Route: keras.export.ExportArchive (endpoint `generate`) -> SavedModel ->
TFLiteConverter.from_saved_model(signature_keys=["generate"]). Only builtin ops
are allowed (no SELECT_TF_OPS: a Flex op would need the Flex delegate on the device).
"""
import os
import tempfile

import numpy as np
import tensorflow as tf

from wgan_edge.contract import QUANTIZATIONS, SIGNATURE
from wgan_export.lib import ExportError, describe, representative_dataset, write_saved_model
from wgan_export.qat import convert_qat


def converter_for(saved_model_dir, quantize, latent_dim, batch_size, int8_io=False):
    """A configured TFLiteConverter for one quantization choice (not "qat": see wgan_export.qat)."""
    converter = tf.lite.TFLiteConverter.from_saved_model(saved_model_dir, signature_keys=[SIGNATURE])
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize == "float16":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.target_spec.supported_types = [tf.float16]
    elif quantize == "dynamic":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    elif quantize == "int8":
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        converter.representative_dataset = representative_dataset(latent_dim, batch_size)
        # INT8 builtins first; the float tail of `pixels` (round/clip/cast) may stay builtin float.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8, tf.lite.OpsSet.TFLITE_BUILTINS]
        if int8_io:
            converter.inference_input_type = tf.int8
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
        return convert_qat(generator, batch_size=int(batch_size), int8_io=int8_io, **qat_options)
    latent_dim = describe(generator)["latent_dim"]
    with tempfile.TemporaryDirectory(prefix="wgan-tflite-") as tmp:
        saved = write_saved_model(generator, os.path.join(tmp, "sm"), batch_size=int(batch_size))
        return bytes(converter_for(saved, quantize, latent_dim, int(batch_size), int8_io).convert())


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

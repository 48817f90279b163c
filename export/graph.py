"""Passes over a converted TFLite flatbuffer: the exact `pixels` output, and metadata.

The converter quantizes the `pixels` tail (images*127.5 + 128, clip, cast) with calibrated scales, so
in int8 models `pixels` drifted from `images` (scale 0.881: never white, 37 % of pixels off by one)
and in 16x8 models it rounds at its own calibrated step. After conversion the tail is rebuilt:

- integer models: `images` sits on the pixel grid (int8, scale 1/127.5, zero point 0: see
  `wgan_export.lib.PIXEL_GRID`), so `pixels` is ONE integer op, QUANTIZE int8 -> uint8 with zero point 128:
  pixel = q + 128, all 256 levels, exact, and TFLM / Edge TPU / NPUs run it;
- 16x8 (int16 `images`, float output): the float32 model's own tail on the float `images`
  (MUL, ADD, MINIMUM, RELU, CAST), so pixels == floor(images*127.5 + 128) by construction.
"""

import numpy as np

from wgan_edge.contract import SIGNATURE

# float32(1/127.5) is 6e-8 above 1/127.5, so for negative q the float32 rule floor(q*scale*127.5 + 128)
# lands a hair below q + 128 and drops a level (32 of the 256 levels); the float32 just below makes
# the rule give q + 128 for every q in float32 arithmetic (tested over all 256 levels).
PIXEL_SCALE = float(np.nextafter(np.float32(1 / 127.5), np.float32(0)))


def _schema():
    from tensorflow.lite.python import schema_py_generated as schema
    return schema


def read(model_bytes):
    return _schema().ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)


def write(model):
    import flatbuffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def _text(s):
    return s.decode() if isinstance(s, bytes) else s


def _opcode(model, code):
    """Index of builtin `code` in the model's operator codes (appended when missing)."""
    schema = _schema()
    for i, c in enumerate(model.operatorCodes):
        if max(c.builtinCode, c.deprecatedBuiltinCode) == code:
            return i
    c = schema.OperatorCodeT()
    c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
    model.operatorCodes.append(c)
    return len(model.operatorCodes) - 1


def _add_op(model, graph, code, inputs, outputs, options_type=0, options=None):
    op = _schema().OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = _opcode(model, code), list(inputs), list(outputs)
    op.builtinOptionsType, op.builtinOptions = options_type, options
    graph.operators.append(op)


def _add_tensor(model, graph, name, shape, ttype, value=None):
    schema = _schema()
    t = schema.TensorT()
    t.name, t.shape, t.type, t.buffer = name, list(shape), ttype, 0
    if value is not None:  # a float32 constant with its own buffer
        buf = schema.BufferT()
        buf.data = np.frombuffer(np.float32(value).tobytes(), np.uint8).tolist()
        model.buffers.append(buf)
        t.buffer = len(model.buffers) - 1
    graph.tensors.append(t)
    return len(graph.tensors) - 1


def _drop_pixel_tail(graph, pixels):
    """Removes the operators that only feed `pixels` (dead once it gets a new producer)."""
    live = {int(i) for i in graph.outputs} - {pixels}
    keep = []
    for op in reversed(graph.operators):
        if any(int(o) in live for o in op.outputs):
            keep.append(op)
            live.update(int(i) for i in op.inputs if i >= 0)
    graph.operators = keep[::-1]


def _compact(model, graph, signature):
    """Drops unused tensors and operator codes (TFLM would still plan unused tensors) and renumbers."""
    used = sorted({int(i) for op in graph.operators for i in list(op.inputs) + list(op.outputs) if i >= 0}
                  | {int(i) for i in graph.inputs} | {int(i) for i in graph.outputs})
    new = {old: k for k, old in enumerate(used)}
    graph.tensors = [graph.tensors[i] for i in used]
    for op in graph.operators:
        op.inputs = [new[int(i)] if i >= 0 else -1 for i in op.inputs]
        op.outputs = [new[int(i)] for i in op.outputs]
    graph.inputs, graph.outputs = [new[int(i)] for i in graph.inputs], [new[int(i)] for i in graph.outputs]
    for m in list(signature.inputs) + list(signature.outputs):
        m.tensorIndex = new[int(m.tensorIndex)]
    codes = sorted({op.opcodeIndex for op in graph.operators})
    remap = {old: k for k, old in enumerate(codes)}
    model.operatorCodes = [model.operatorCodes[i] for i in codes]
    for op in graph.operators:
        op.opcodeIndex = remap[op.opcodeIndex]


def _producer(graph, tensor):
    return next((op for op in graph.operators if tensor in [int(o) for o in op.outputs]), None)


def _on_pixel_grid(tensor):
    q = tensor.quantization
    return q is not None and q.scale is not None and len(q.scale) == 1 and abs(q.scale[0] * 127.5 - 1) < 1e-5 \
        and int(q.zeroPoint[0]) == 0


def _integer_pixels(model, graph, source, pixels):
    """pixels = QUANTIZE(int8 images on the pixel grid) -> uint8, zero point 128: q + 128."""
    schema = _schema()
    q = graph.tensors[source].quantization
    q.scale = [PIXEL_SCALE]
    out = schema.QuantizationParametersT()
    out.scale, out.zeroPoint = [PIXEL_SCALE], [128]
    graph.tensors[pixels].type, graph.tensors[pixels].quantization = schema.TensorType.UINT8, out
    _add_op(model, graph, schema.BuiltinOperator.QUANTIZE, [source], [pixels],
            schema.BuiltinOptions.QuantizeOptions, schema.QuantizeOptionsT())


def _float_pixels(model, graph, images, pixels):
    """The float32 model's tail on float images: cast(relu(min(images*127.5 + 128, 255)))."""
    schema, ops, opts = _schema(), _schema().BuiltinOperator, _schema().BuiltinOptions
    shape, f32 = list(graph.tensors[images].shape), schema.TensorType.FLOAT32
    steps = [(ops.MUL, 127.5, opts.MulOptions, schema.MulOptionsT()),
             (ops.ADD, 128.0, opts.AddOptions, schema.AddOptionsT()),
             (ops.MINIMUM, 255.0, opts.MaximumMinimumOptions, schema.MaximumMinimumOptionsT())]
    x = images
    for code, value, options_type, options in steps:
        const = _add_tensor(model, graph, f"pixels/{value}", [], f32, value)
        y = _add_tensor(model, graph, f"pixels/{code}", shape, f32)
        _add_op(model, graph, code, [x, const], [y], options_type, options)
        x = y
    relu = _add_tensor(model, graph, "pixels/relu", shape, f32)
    _add_op(model, graph, ops.RELU, [x], [relu])
    cast = schema.CastOptionsT()
    cast.inDataType, cast.outDataType = f32, schema.TensorType.UINT8
    graph.tensors[pixels].type, graph.tensors[pixels].quantization = schema.TensorType.UINT8, None
    _add_op(model, graph, ops.CAST, [relu], [pixels], opts.CastOptions, cast)


def _clip_float_images(model, graph, images):
    """Float `images` = DEQUANTIZE(int8 on the pixel grid) reach -128/127.5 = -1.0039 at q = -128 (black):
    a MAXIMUM with -1 after the DEQUANTIZE keeps them in the contract's [-1, 1] (the pixel is 0 either way)."""
    schema = _schema()
    producer = _producer(graph, images)
    t = graph.tensors[images]
    raw = _add_tensor(model, graph, "images/dequantized", list(t.shape), schema.TensorType.FLOAT32)
    producer.outputs = [raw if int(o) == images else int(o) for o in producer.outputs]
    low = _add_tensor(model, graph, "images/-1", [], schema.TensorType.FLOAT32, -1.0)
    _add_op(model, graph, schema.BuiltinOperator.MAXIMUM, [raw, low], [images],
            schema.BuiltinOptions.MaximumMinimumOptions, schema.MaximumMinimumOptionsT())


def exact_pixels(model_bytes, signature_key=SIGNATURE):
    """Rebuilds the `pixels` output of a quantized model so it is exactly the pixel rule of `images`."""
    schema = _schema()
    model = read(model_bytes)
    signature = next(s for s in model.signatureDefs if _text(s.signatureKey) == signature_key)
    graph = model.subgraphs[signature.subgraphIndex]
    outputs = {_text(m.name): int(m.tensorIndex) for m in signature.outputs}
    images, pixels = outputs["images"], outputs["pixels"]
    source = images
    producer = _producer(graph, images)
    if graph.tensors[images].type == schema.TensorType.FLOAT32 and producer is not None and \
            max(model.operatorCodes[producer.opcodeIndex].builtinCode,
                model.operatorCodes[producer.opcodeIndex].deprecatedBuiltinCode) == schema.BuiltinOperator.DEQUANTIZE:
        source = int(producer.inputs[0])  # float images = DEQUANTIZE(quantized images)
    _drop_pixel_tail(graph, pixels)
    if graph.tensors[source].type == schema.TensorType.INT8 and _on_pixel_grid(graph.tensors[source]):
        _integer_pixels(model, graph, source, pixels)
        if source != images:
            _clip_float_images(model, graph, images)
    elif graph.tensors[images].type == schema.TensorType.FLOAT32:  # 16x8, or int8 off the grid
        _float_pixels(model, graph, images, pixels)
    else:
        raise ValueError(f"images (type {graph.tensors[images].type}) is neither float nor int8 on the pixel grid")
    _compact(model, graph, signature)
    return write(model)

"""The pixel grid, and the pass that makes a converted model's `pixels` output exact.

The converter quantizes the `pixels` tail (images*127.5 + 128, clip, cast) with calibrated scales, so
in int8 models `pixels` drifted from `images` (scale 0.881: never white, 37 % of pixels off by one)
and in 16x8 models it rounds at its own calibrated step. After conversion the tail is rebuilt:

- integer models: `images` sits on the pixel grid (int8, scale 1/127.5, zero point 0: PIXEL_GRID), so
  `pixels` is ONE integer op, QUANTIZE int8 -> uint8 with zero point 128: pixel = q + 128, all 256 levels,
  exact, and TFLM / Edge TPU / NPUs run it;
- 16x8 (int16 `images`, float output): the float32 model's own tail on the float `images`
  (MUL, ADD, MINIMUM, RELU, CAST), so pixels == floor(images*127.5 + 128) by construction.
"""
import numpy as np

from wgan_edge.contract import SIGNATURE
from wgan_export import flatbuffer as fb

# Integer models put `images` on the pixel grid: int8 with scale 1/127.5 and zero point 0, so pixel = q + 128
# for all 256 levels. int8 TANH always outputs q/128; x 128/127.5 maps that q onto the grid unchanged (an
# exact requantization, wgan_export.endpoint.on_pixel_grid), where a plain requantization would round -1.0 to
# level 1 and never produce black. The stretch moves images by at most 1/255 (half an int8 step).
PIXEL_GRID = (-128 / 127.5, 127 / 127.5)
STRETCH = 128 / 127.5
# Rounding to the pixel grid gives round(y*127.5) + 128, the pixel rule floor(y*127.5 + 128): half a level
# lower first makes the two agree (the 16-bit tail, wgan_export.tail16).
HALF_LEVEL = 0.5 / 127.5
# float32(1/127.5) is 6e-8 above 1/127.5, so for negative q the float32 rule floor(q*scale*127.5 + 128)
# lands a hair below q + 128 and drops a level (32 of the 256 levels); the float32 just below makes
# the rule give q + 128 for every q in float32 arithmetic (tested over all 256 levels).
PIXEL_SCALE = float(np.nextafter(np.float32(1 / 127.5), np.float32(0)))


def on_grid(tensor):
    """Whether a flatbuffer tensor is quantized on the pixel grid (one scale 1/127.5, zero point 0)."""
    q = tensor.quantization
    return q is not None and q.scale is not None and len(q.scale) == 1 and abs(q.scale[0] * 127.5 - 1) < 1e-5 \
        and int(q.zeroPoint[0]) == 0


def _integer_pixels(model, graph, source, pixels):
    """pixels = QUANTIZE(int8 images on the pixel grid) -> uint8, zero point 128: q + 128."""
    schema = fb.schema()
    graph.tensors[source].quantization.scale = [PIXEL_SCALE]
    out = schema.QuantizationParametersT()
    out.scale, out.zeroPoint = [PIXEL_SCALE], [128]
    graph.tensors[pixels].type, graph.tensors[pixels].quantization = schema.TensorType.UINT8, out
    fb.add_op(model, graph, schema.BuiltinOperator.QUANTIZE, [source], [pixels],
              schema.BuiltinOptions.QuantizeOptions, schema.QuantizeOptionsT())


def _float_pixels(model, graph, images, pixels):
    """The float32 model's tail on float images: cast(relu(min(images*127.5 + 128, 255)))."""
    schema = fb.schema()
    ops, opts = schema.BuiltinOperator, schema.BuiltinOptions
    shape, f32 = list(graph.tensors[images].shape), schema.TensorType.FLOAT32
    steps = [(ops.MUL, 127.5, opts.MulOptions, schema.MulOptionsT()),
             (ops.ADD, 128.0, opts.AddOptions, schema.AddOptionsT()),
             (ops.MINIMUM, 255.0, opts.MaximumMinimumOptions, schema.MaximumMinimumOptionsT())]
    x = images
    for code, value, options_type, options in steps:
        const = fb.add_tensor(model, graph, f"pixels/{value}", [], f32, value)
        y = fb.add_tensor(model, graph, f"pixels/{code}", shape, f32)
        fb.add_op(model, graph, code, [x, const], [y], options_type, options)
        x = y
    relu = fb.add_tensor(model, graph, "pixels/relu", shape, f32)
    fb.add_op(model, graph, ops.RELU, [x], [relu])
    cast = schema.CastOptionsT()
    cast.inDataType, cast.outDataType = f32, schema.TensorType.UINT8
    graph.tensors[pixels].type, graph.tensors[pixels].quantization = schema.TensorType.UINT8, None
    fb.add_op(model, graph, ops.CAST, [relu], [pixels], opts.CastOptions, cast)


def _clip_float_images(model, graph, images):
    """Float `images` = DEQUANTIZE(int8 on the pixel grid) reach -128/127.5 = -1.0039 at q = -128 (black):
    a MAXIMUM with -1 after the DEQUANTIZE keeps them in the contract's [-1, 1] (the pixel is 0 either way)."""
    schema = fb.schema()
    producer = fb.producer(graph, images)
    raw = fb.add_tensor(model, graph, "images/dequantized", list(graph.tensors[images].shape),
                        schema.TensorType.FLOAT32)
    producer.outputs = [raw if int(o) == images else int(o) for o in producer.outputs]
    low = fb.add_tensor(model, graph, "images/-1", [], schema.TensorType.FLOAT32, -1.0)
    fb.add_op(model, graph, schema.BuiltinOperator.MAXIMUM, [raw, low], [images],
              schema.BuiltinOptions.MaximumMinimumOptions, schema.MaximumMinimumOptionsT())


def exact_pixels(model_bytes, signature_key=SIGNATURE):
    """Rebuilds the `pixels` output of a quantized model so it is exactly the pixel rule of `images`."""
    schema = fb.schema()
    model = fb.read(model_bytes)
    graph, signature = fb.signature_graph(model, signature_key)
    outputs = {fb.text(m.name): int(m.tensorIndex) for m in signature.outputs}
    images, pixels = outputs["images"], outputs["pixels"]
    source = images
    producer = fb.producer(graph, images)
    if graph.tensors[images].type == schema.TensorType.FLOAT32 and producer is not None and \
            fb.code(model, producer) == schema.BuiltinOperator.DEQUANTIZE:
        source = int(producer.inputs[0])  # float images = DEQUANTIZE(quantized images)
    fb.prune(graph, dead=[pixels])  # the old tail, dead once `pixels` gets a new producer
    if graph.tensors[source].type == schema.TensorType.INT8 and on_grid(graph.tensors[source]):
        _integer_pixels(model, graph, source, pixels)
        if source != images:
            _clip_float_images(model, graph, images)
    elif graph.tensors[images].type == schema.TensorType.FLOAT32:  # 16x8, or int8 off the grid
        _float_pixels(model, graph, images, pixels)
    else:
        raise ValueError(f"images (type {graph.tensors[images].type}) is neither float nor int8 on the pixel grid")
    fb.compact(model, graph, signature)
    return fb.write(model)

"""A 16-bit last layer for the int8 models: the generator's look survives quantization.

Why: in an int8 model the final tanh's input is one int8 tensor, 256 codes, so at most 256 pixel values
come out, and with the input range tanh needs (about +-3.2 before it saturates) only ~140 of them are
distinct (levels 0, 1, 2, 3, 5, 8, ... on a trained generator before the clamp of wgan_export.modes.TANH_CLAMP: 18).
No int8 calibration can do better: one int8 step near 0 is 3 pixel levels wide. So the last convolution
and the tanh run with int16 activations (int8 weights, int64 bias: TFLite's 16x8 kernels, which LiteRT and
TensorFlow Lite for Microcontrollers both have), spliced from an int16x8 conversion of the same graph:

    ... int8 A -> QUANTIZE(int16) -> CONV/TRANSPOSE_CONV 16x8 -> TANH int16 -> QUANTIZE -> int8 images (pixel grid)

Everything before the last layer stays int8; the file grows by the last layer's bias width only.
Measured in docs/export.md ("Integer models that keep the generator's look").
"""
import copy

from wgan_export import flatbuffer as fb
from wgan_export.pixels import on_grid


class NoTail(ValueError):
    """The graph has no place for the 16-bit last layer (e.g. its tanh follows a Dense, not a convolution):
    the int8 tanh (clamped) stays. Any other failure of the splice is an error, not this."""


def _only(model, graph, code, what):
    ops = [op for op in graph.operators if fb.code(model, op) == code]
    if len(ops) != 1:
        raise NoTail(f"16-bit last layer: expected one {what} op, found {len(ops)}")
    return ops[0]


def _opcode_like(dst, src, op):
    """The operator code of `op` (from model `src`, with its version) in model `dst`, added when missing."""
    code = src.operatorCodes[op.opcodeIndex]
    key = (code.builtinCode, code.deprecatedBuiltinCode, code.version)
    for i, c in enumerate(dst.operatorCodes):
        if (c.builtinCode, c.deprecatedBuiltinCode, c.version) == key:
            return i
    dst.operatorCodes.append(copy.deepcopy(code))
    return len(dst.operatorCodes) - 1


def _copy_tensor(dst, dst_graph, src, src_graph, index):
    """Tensor `index` of `src_graph` (and its constant data) appended to `dst_graph`; returns its index."""
    if index < 0:
        return index
    t = copy.deepcopy(src_graph.tensors[index])
    data = src.buffers[t.buffer].data if t.buffer else None
    if data is not None and len(data):
        buf = fb.schema().BufferT()
        buf.data = copy.copy(data)
        dst.buffers.append(buf)
        t.buffer = len(dst.buffers) - 1
    else:
        t.buffer = 0
    dst_graph.tensors.append(t)
    return len(dst_graph.tensors) - 1


def _new_tensor(graph, like, name, ttype=None):
    t = copy.deepcopy(like)
    t.name, t.buffer = name, 0
    if ttype is not None:
        t.type = ttype
    graph.tensors.append(t)
    return len(graph.tensors) - 1


def _grid_tensor(model, graph, tanh):
    """The first tensor after the int8 tanh that sits on the pixel grid (wgan_export.endpoint.on_pixel_grid)."""
    tensor = int(tanh.outputs[0])
    for _ in range(4):
        consumers = [op for op in graph.operators if tensor in [int(i) for i in op.inputs]]
        if len(consumers) != 1:
            break
        tensor = int(consumers[0].outputs[0])
        if on_grid(graph.tensors[tensor]):
            return tensor
    raise NoTail("16-bit last layer: no int8 pixel-grid tensor after the tanh")


def _data_input(model, graph, op):
    """Position of the op's one non-constant input (the activation it transforms)."""
    def constant(i):
        data = model.buffers[graph.tensors[int(i)].buffer].data
        return data is not None and len(data) > 0
    live = [k for k, i in enumerate(op.inputs) if i >= 0 and not constant(i)]
    if len(live) != 1:
        raise NoTail("16-bit tail: an op with more than one activation input")
    return live[0]


CONVS = ("CONV_2D", "TRANSPOSE_CONV")
PASS = ("MINIMUM", "MAXIMUM", "QUANTIZE", "MUL", "ADD", "RELU", "RESIZE_NEAREST_NEIGHBOR", "RESHAPE")


def _chain(model, graph, tanh, layers):
    """The ops from the input of the `layers`-th convolution before the tanh to the tanh, in order."""
    ops = fb.schema().BuiltinOperator
    chain, convs = [tanh], 0
    while len(chain) < 8 * layers + 4:
        op = fb.producer(graph, int(chain[0].inputs[_data_input(model, graph, chain[0])]))
        if op is None or fb.code(model, op) not in [getattr(ops, n) for n in CONVS + PASS]:
            break
        chain.insert(0, op)
        convs += fb.code(model, op) in (ops.CONV_2D, ops.TRANSPOSE_CONV)
        if convs == layers:
            return chain
    raise NoTail(f"16-bit tail: no {layers} convolution(s) before the tanh")


def int16_tail(model8_bytes, model16_bytes, layers=1):
    """The int8 model with its last `layers` convolutions (and what follows up to the tanh) replaced by the
    int16x8 model's (the same graph converted with int16 activations)."""
    schema = fb.schema()
    ops = schema.BuiltinOperator
    m8, m16 = fb.read(model8_bytes), fb.read(model16_bytes)
    (g8, signature), (g16, _) = fb.signature_graph(m8), fb.signature_graph(m16)
    chain8 = _chain(m8, g8, _only(m8, g8, ops.TANH, "int8 TANH"), layers)
    chain16 = _chain(m16, g16, _only(m16, g16, ops.TANH, "int16 TANH"), layers)
    after = [op for op in g16.operators if int(chain16[-1].outputs[0]) in [int(i) for i in op.inputs]]
    if len(after) == 1 and fb.code(m16, after[0]) in (ops.ADD, ops.SUB):  # pixels.HALF_LEVEL: floor to the grid
        chain16 = chain16 + after
    grid = _grid_tensor(m8, g8, chain8[-1])
    quantize = fb.opcode(m8, ops.QUANTIZE)
    a8 = int(chain8[0].inputs[_data_input(m8, g8, chain8[0])])
    cut = int(chain16[0].inputs[_data_input(m16, g16, chain16[0])])
    x = _new_tensor(g8, g16.tensors[cut], "int16_tail/input")
    new = [fb.new_op(quantize, [a8], [x], schema.BuiltinOptions.QuantizeOptions, schema.QuantizeOptionsT())]
    for op in chain16:
        position = _data_input(m16, g16, op)
        inputs = [x if k == position else _copy_tensor(m8, g8, m16, g16, int(i)) for k, i in enumerate(op.inputs)]
        x = _copy_tensor(m8, g8, m16, g16, int(op.outputs[0]))
        new.append(fb.new_op(_opcode_like(m8, m16, op), inputs, [x], op.builtinOptionsType,
                             copy.deepcopy(op.builtinOptions)))
    new.append(fb.new_op(quantize, [x], [grid], schema.BuiltinOptions.QuantizeOptions, schema.QuantizeOptionsT()))
    old_grid_producer = fb.producer(g8, grid)
    at = g8.operators.index(chain8[0])
    g8.operators = [op for op in g8.operators[:at] + new + g8.operators[at + 1:] if op is not old_grid_producer]
    fb.prune(g8)  # the replaced int8 tail
    fb.compact(m8, g8, signature)
    return fb.write(m8)

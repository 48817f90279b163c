"""A converted TFLite model as an object tree: read, write, and the few edits the graph passes make.

The one place that knows the flatbuffer schema's quirks (an operator code lives in `builtinCode` or, below 127,
`deprecatedBuiltinCode`; names are bytes or str); the passes (`wgan_export.pixels`, `wgan_export.tail16`) and
the checks (`op_names`) go through these functions.
"""
import numpy as np

from wgan_edge.contract import INPUT, SIGNATURE


def schema():
    from tensorflow.lite.python import schema_py_generated
    return schema_py_generated


def read(model_bytes):
    return schema().ModelT.InitFromPackedBuf(bytearray(model_bytes), 0)


def write(model):
    import flatbuffers
    builder = flatbuffers.Builder(1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def text(s):
    return s.decode() if isinstance(s, bytes) else s


def builtin(operator_code):
    """An OperatorCode's builtin code: newer codes live only in builtinCode, older ones (< 127) in both."""
    return max(operator_code.builtinCode, operator_code.deprecatedBuiltinCode)


def code(model, op):
    """The builtin operator code of `op`."""
    return builtin(model.operatorCodes[op.opcodeIndex])


def signature_graph(model, key=SIGNATURE):
    """(subgraph, SignatureDef) of the signature `key`."""
    signature = next(s for s in model.signatureDefs if text(s.signatureKey) == key)
    return model.subgraphs[signature.subgraphIndex], signature


def opcode(model, code):
    """Index of builtin `code` in the model's operator codes (appended when missing)."""
    for i, c in enumerate(model.operatorCodes):
        if builtin(c) == code:
            return i
    c = schema().OperatorCodeT()
    c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
    model.operatorCodes.append(c)
    return len(model.operatorCodes) - 1


def new_op(code_index, inputs, outputs, options_type=0, options=None):
    op = schema().OperatorT()
    op.opcodeIndex, op.inputs, op.outputs = code_index, list(inputs), list(outputs)
    op.builtinOptionsType, op.builtinOptions = options_type, options
    return op


def add_op(model, graph, code, inputs, outputs, options_type=0, options=None):
    graph.operators.append(new_op(opcode(model, code), inputs, outputs, options_type, options))


def add_tensor(model, graph, name, shape, ttype, value=None):
    t = schema().TensorT()
    t.name, t.shape, t.type, t.buffer = name, list(shape), ttype, 0
    if value is not None:  # a float32 constant with its own buffer
        buf = schema().BufferT()
        buf.data = np.frombuffer(np.float32(value).tobytes(), np.uint8).tolist()
        model.buffers.append(buf)
        t.buffer = len(model.buffers) - 1
    graph.tensors.append(t)
    return len(graph.tensors) - 1


def producer(graph, tensor):
    return next((op for op in graph.operators if tensor in [int(o) for o in op.outputs]), None)


def prune(graph, dead=()):
    """Drops the operators that no graph output (less the tensors in `dead`) depends on."""
    live, keep = {int(i) for i in graph.outputs} - set(dead), []
    for op in reversed(graph.operators):
        if any(int(o) in live for o in op.outputs):
            keep.append(op)
            live.update(int(i) for i in op.inputs if i >= 0)
    graph.operators = keep[::-1]


def compact(model, graph, signature):
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


def op_names(model_bytes):
    """The set of operator names in a TFLite model (builtins by name, customs as CUSTOM:<code>)."""
    model = read(model_bytes)
    named = {v: k for k, v in vars(schema().BuiltinOperator).items() if not k.startswith("_")}
    names = set()
    for c in model.operatorCodes:
        name = named.get(builtin(c), str(builtin(c)))
        names.add(f"CUSTOM:{text(c.customCode)}" if name == "CUSTOM" else name)
    return names


def add_signature(model_bytes, error):
    """Writes the `generate` SignatureDef (z -> images, pixels) into a signature-less flatbuffer (the tfmot
    route's); the outputs are told apart by dtype (pixels is the uint8 one). `error`: the exception to raise."""
    model = read(model_bytes)
    graph = model.subgraphs[0]

    def tensor_map(name, index):
        t = schema().TensorMapT()
        t.name, t.tensorIndex = name, int(index)
        return t

    uint8 = schema().TensorType.UINT8
    outputs = {("pixels" if graph.tensors[i].type == uint8 else "images"): i for i in graph.outputs}
    if len(graph.inputs) != 1 or sorted(outputs) != ["images", "pixels"]:
        raise error("qat: converted model does not have one input and outputs images + pixels")
    sig = schema().SignatureDefT()
    sig.inputs = [tensor_map(INPUT, graph.inputs[0])]
    sig.outputs = [tensor_map(k, v) for k, v in sorted(outputs.items())]
    sig.signatureKey, sig.subgraphIndex = SIGNATURE, 0
    model.signatureDefs = [sig]
    return write(model)

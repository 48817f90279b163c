"""TensorFlow Lite for Microcontrollers: run a full-integer generator, size its tensor arena, and
write the C array (.cc/.h) a TFLM project compiles in.

The `tflite-micro` package (PyPI) ships TFLM's own interpreter and reference kernels as a Python
extension: what runs here is the code that runs on the board, not LiteRT.
"""
import contextlib
import os
import re

import numpy as np

# The arena a board needs is found by bisection: the smallest size for which the interpreter allocates AND
# invokes. (The Python interpreter's print_allocations() prints TFLM's recording allocator's table to the
# C stdout, as text; the bisection gives a number and proves the invoke.) Boards add their own headroom;
# the header states the measured minimum and the 16-byte alignment TFLM requires.
ARENA_ALIGN = 16


@contextlib.contextmanager
def _quiet_stderr():
    """TFLM prints its allocation failures to the C stderr while the arena is bisected."""
    saved = os.dup(2)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)


def available():
    """Whether the `tflite-micro` package is installed (a test extra; boards do not need it)."""
    try:
        import tflite_micro  # noqa: F401
    except ImportError:
        return False
    return True


def interpreter(model_bytes, arena_size=None):
    from tflite_micro import runtime
    return runtime.Interpreter.from_bytes(bytes(model_bytes), arena_size=arena_size)


def _inputs(it):
    """(index of z, index of the label or None): TFLM's inputs carry no names; z is the rank-2 one."""
    try:
        with _quiet_stderr():  # TFLM prints "Input index 1 out of range" before raising
            it.get_input_details(1)
        count = 2
    except (IndexError, RuntimeError, ValueError):
        count = 1
    z = [len(it.get_input_details(k)["shape"]) for k in range(count)].index(2)
    return z, (1 - z if count == 2 else None)


def run(model_bytes, z_int8, labels=None):
    """z (n, latent) int8 [, labels (n,) int32] -> [{dtype: output}] per batch, invoked a batch at a time in TFLM."""
    it = interpreter(model_bytes)
    z_at, label_at = _inputs(it)
    batch = int(it.get_input_details(z_at)["shape"][0])
    outs = []
    for i in range(0, len(z_int8), batch):
        it.set_input(np.ascontiguousarray(z_int8[i:i + batch]), z_at)
        if label_at is not None:
            it.set_input(np.ascontiguousarray(labels[i:i + batch], np.int32), label_at)
        it.invoke()
        outs.append({it.get_output_details(k)["dtype"]: it.get_output(k) for k in range(2)})
    return outs


def arena_bytes(model_bytes):
    """The smallest tensor arena (bytes, a multiple of 16) with which TFLM allocates and invokes the model."""
    def fits(size):
        try:
            it = interpreter(model_bytes, size)
            for k in [k for k in _inputs(it) if k is not None]:  # z, and a conditional model's label (class 0)
                detail = it.get_input_details(k)
                it.set_input(np.zeros(detail["shape"], detail["dtype"]), k)
            it.invoke()
            return True
        except RuntimeError:
            return False
    lo, hi = 0, max(64 * 1024, 16 * len(model_bytes))
    with _quiet_stderr():
        while not fits(hi):  # activations can outgrow 16x the weights (wide layers, big batches)
            lo, hi = hi, hi * 4
            if hi > 1 << 30:
                raise RuntimeError("TFLite Micro cannot run this model (unsupported op or type?)")
        while hi - lo > ARENA_ALIGN:
            mid = (lo + hi) // 2 // ARENA_ALIGN * ARENA_ALIGN
            lo, hi = (lo, mid) if fits(mid) else (mid, hi)
    return hi


C_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def c_identifier(stem):
    """A valid C identifier from a file stem: every non-ASCII or non-alphanumeric character becomes '_'
    ("modèle-1" -> "g_mod_le_1"); the "g_" prefix keeps it from starting with a digit."""
    return "g_" + "".join(ch if ch.isascii() and ch.isalnum() else "_" for ch in stem)


def c_array(model_bytes, name="g_wgan_generator", arena=None, notes=(), header_name=None):
    """(.cc text, .h text): `const unsigned char name[]` aligned to 16 bytes, its length and the arena size.

    Both compile as C++ (g++ -c) and as C11 (gcc -x c -std=c11 -c: tested): the alignment is a macro
    (alignas / _Alignas) and the arena size an enum constant, not constexpr; `header_name` is the
    header's file name, which the .cc includes (default: name + ".h")."""
    if not C_IDENTIFIER.fullmatch(name):
        raise ValueError(f"--c_name must be a C identifier, got {name!r}")
    data = bytes(model_bytes)
    rows = [", ".join(f"0x{b:02x}" for b in data[i:i + 12]) for i in range(0, len(data), 12)]
    guard = f"{name.upper()}_H_"
    comments = "".join(f"// {line}\n" for line in notes)
    arena_line = (f"// Smallest tensor arena measured with TFLM's reference kernels (tflite-micro on the host);\n"
                  f"// add headroom for optimized kernels (CMSIS-NN scratch buffers).\n"
                  f"enum {{ {name}_arena_bytes = {arena} }};\n" if arena else "")
    header = (f"// Generated by wgan-export: a TFLite flatbuffer for TensorFlow Lite for Microcontrollers.\n"
              f"// C (C11) and C++.\n{comments}#ifndef {guard}\n#define {guard}\n\n"
              f"#ifdef __cplusplus\nextern \"C\" {{\n#endif\n\n"
              f"extern const unsigned char {name}[];\nextern const unsigned int {name}_len;\n{arena_line}"
              f"\n#ifdef __cplusplus\n}}  // extern \"C\"\n#endif\n\n#endif  // {guard}\n")
    body = (f'#include "{header_name or name + ".h"}"\n\n'
            f"// Flatbuffers must be 16-byte aligned for TFLM.\n"
            f"#ifdef __cplusplus\n#define {name.upper()}_ALIGN alignas(16)\n"
            f"#else\n#define {name.upper()}_ALIGN _Alignas(16)\n#endif\n\n"
            f"{name.upper()}_ALIGN const unsigned char {name}[] = {{\n  " + ",\n  ".join(rows) + "\n};\n"
            f"const unsigned int {name}_len = {len(data)};\n")
    return body, header


def _litert_pixels(model_bytes, zq, delegates=True, labels=None):
    from ai_edge_litert.interpreter import Interpreter, OpResolverType
    kind = OpResolverType.AUTO if delegates else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
    runner = Interpreter(model_content=bytes(model_bytes), experimental_op_resolver_type=kind) \
        .get_signature_runner("generate")
    batch = int(runner.get_input_details()["z"]["shape"][0])
    return np.concatenate([runner(z=zq[i:i + batch], **({} if labels is None else {"label": labels[i:i + batch]}))
                           ["pixels"] for i in range(0, len(zq), batch)]).astype(int)


def against_litert(model_bytes, z, labels=None):
    """TFLM vs LiteRT on the same model and the same quantized z, in pixel levels of `pixels`.

    tflm_max_level_diff: vs LiteRT as apps run it (XNNPACK delegate); tflm_vs_builtin_max_level_diff: vs
    LiteRT's builtin kernels (no delegate), which TFLM matches bit for bit (measured, tested). XNNPACK
    requantizes int8 accumulators through a float32 scale, the builtin kernels and TFLM through a
    fixed-point multiplier: one int8 step apart now and then, a few levels after the layers that follow."""
    from wgan_edge.runner import TFLiteGenerator
    runner = TFLiteGenerator(model_bytes)
    zq = runner._quantize_z(z)
    batch = runner.batch_size or 1
    zq = zq[:len(zq) // batch * batch]
    labels = None if labels is None else np.asarray(labels, np.int32)[:len(zq)]
    tflm = np.concatenate([o[np.uint8] for o in run(model_bytes, zq, labels)]).astype(int)
    xnnpack, builtin = (np.abs(_litert_pixels(model_bytes, zq, d, labels) - tflm) for d in (True, False))
    return {"tflm_max_level_diff": int(xnnpack.max()), "tflm_pixels_equal": float(np.mean(xnnpack == 0)),
            "tflm_vs_builtin_max_level_diff": int(builtin.max()), "tflm_arena_bytes": arena_bytes(model_bytes)}

"""The one table of quantization modes: each row is a mode's whole recipe.

Validation (`wgan_export.pipeline`), conversion (`wgan_export.convert`), `--help`, docs/flags.md, the report
and the tests all read `MODES`; `wgan_edge.contract.QUANTIZATIONS` (the names the TensorFlow-free edge needs)
is checked against it at import. Adding a mode is one row here; a new conversion route is also one branch in
`convert._convert`. A benchmark varies a recipe with `dataclasses.replace(mode("full_int8"), fold=False)` and
passes the row to `convert.convert`.
"""
import dataclasses
from typing import Optional

from wgan_edge.contract import QUANTIZATIONS

# Integer modes clamp the final tanh's input to +-TANH_CLAMP in the exported graph. The converter calibrates
# that input to its observed range (about [-63, 8.75] on a trained MNIST generator: an int8 step of 0.28,
# where near 0 one step jumps ~35 pixel levels); beyond +-3.2 tanh is saturated anyway
# (tanh(3.2)*127.5 + 128 >= 255), so the clamp costs nothing and buys a step of 0.024 (measured in
# docs/export.md, "Integer models that keep the generator's look").
TANH_CLAMP = 3.2
TFLITE_FORMATS = ("tflite", "web")  # the formats that carry a .tflite; a SavedModel is float32 only


@dataclasses.dataclass(frozen=True)
class Mode:
    name: str
    converts: str  # what is quantized, in words (help, docs)
    z: str  # dtype of the input
    images: str  # dtype of the `images` output
    runs_on: str  # where it runs, in words
    tflm: bool  # runs in TensorFlow Lite for Microcontrollers (tested for the True rows)
    on_pixel_grid: bool = False  # `images` is int8 on the pixel grid; `pixels` one QUANTIZE op (pixels.py)
    rebuilt_pixels: bool = False  # the converter quantizes the `pixels` tail: rebuilt exactly (pixels.py)
    int8_io: bool = False  # --int8_io allowed (int8 z)
    why_not_tflm: str = ""
    # Converter setup (wgan_export.convert.converter_for): names in tf.lite.OpsSet / dtypes, strings so this
    # table loads before TensorFlow (the CLI validates flags in milliseconds).
    optimize: bool = True  # tf.lite.Optimize.DEFAULT
    ops: tuple = ("TFLITE_BUILTINS",)
    types: tuple = ()  # target_spec.supported_types
    calibrated: bool = False  # a representative dataset (z from the prior)
    int8_z: bool = False  # inference_input_type int8 always
    int8_images: bool = False  # inference_output_type int8
    route: str = "converter"  # or "tfmot" (wgan_export.tfmot)
    # The integer pipeline (docs/export.md, "Integer models that keep the generator's look"):
    fold: bool = False  # convert wgan_export.fold.folded_model: BatchNorm folded into the Dense too (+3 dB)
    tanh_clamp: Optional[float] = None  # the final tanh's input clamped to +-this (converter graph, 16-bit tail)
    tail_layers: int = 0  # convolutions in the 16-bit tail (wgan_export.tail16); 2 gained 0.5 dB for 2.5x latency
    floor_shift: bool = True  # the 16-bit tail floors to the pixel grid (pixels.HALF_LEVEL): pixels equal Keras's
    options: tuple = ()  # (flag, keyword) pairs of ExportConfig fields the route takes
    formats: tuple = TFLITE_FORMATS  # the output formats that accept it (wgan_export.formats)
    why_not_web: str = ""  # why LiteRT.js cannot run it in a page, measured (wgan_export.web)
    why_not_conditional: str = ""  # why a conditional (z, label) generator cannot take this route


MODES = (
    Mode("float32", "nothing: float32 weights and arithmetic", "float32", "float32", "LiteRT", False,
         why_not_tflm="TFLite Micro fails to invoke its float `pixels` tail (CAST to uint8)", optimize=False,
         formats=("saved_model",) + TFLITE_FORMATS),
    Mode("float16", "weights to float16 (half the size), float arithmetic", "float32", "float32",
         "LiteRT, GPU delegates", False, why_not_tflm="float16 weights: TFLite Micro fails to allocate",
         types=("float16",)),
    Mode("dynamic", "weights to int8, activations float", "float32", "float32", "LiteRT", False,
         why_not_tflm="hybrid (int8-weight, float-activation) kernels: TFLite Micro fails to allocate"),
    Mode("int8", "weights and activations to int8 (the last conv + tanh 16x8), float z/images at the edges",
         "float32 (int8 with --int8_io)",
         "float32", "LiteRT, TFLite Micro (float QUANTIZE/DEQUANTIZE at the edges)", True, on_pixel_grid=True,
         rebuilt_pixels=True, int8_io=True, ops=("TFLITE_BUILTINS_INT8", "TFLITE_BUILTINS"),  # float: the I/O
         calibrated=True, fold=True, tanh_clamp=TANH_CLAMP, tail_layers=1),
    Mode("int16x8", "activations to int16, weights to int8, float I/O", "float32", "float32",
         "LiteRT (reference int16 kernels: ~10x slower than int8 on x86)", False, rebuilt_pixels=True,
         why_not_tflm="its float `pixels` tail ends in CAST to uint8, which TFLite Micro does not run",
         ops=("EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8", "TFLITE_BUILTINS"), calibrated=True,
         tanh_clamp=TANH_CLAMP),
    Mode("full_int8", "everything integer, no float op (the last conv + tanh 16x8)", "int8", "int8",
         "LiteRT, TFLite Micro, Edge TPU, integer-only NPUs", True, on_pixel_grid=True, rebuilt_pixels=True,
         ops=("TFLITE_BUILTINS_INT8",), calibrated=True, int8_z=True, int8_images=True, fold=True,
         tanh_clamp=TANH_CLAMP, tail_layers=1, formats=("tflite",), why_not_web="its z and images are int8"),
    Mode("qat", "int8 after quantization-aware fine-tuning (tfmot, distillation); last conv + tanh 16x8",
         "float32 (int8 with --int8_io)",
         "float32", "LiteRT, TFLite Micro", True, on_pixel_grid=True, rebuilt_pixels=True, int8_io=True,
         route="tfmot", fold=True, tanh_clamp=TANH_CLAMP, tail_layers=1,
         options=(("qat_steps", "steps"), ("sparsity", "sparsity")),
         why_not_conditional="tfmot's quantization-aware training has no conditional (z, label) generator "
                             "route here; use --quantize int8 or full_int8"),
)
BY_NAME = {m.name: m for m in MODES}
NAMES = tuple(BY_NAME)
# The edge keeps its own tuple (it must not import this package); the two must never drift.
assert NAMES == QUANTIZATIONS, (NAMES, QUANTIZATIONS)


def mode(name):
    return BY_NAME[name]


def names_with(field):
    """The modes whose row sets `field` ("int8_io", "tflm"), as the one-line messages and help name them."""
    return " or ".join(m.name for m in BY_NAME.values() if getattr(m, field))


def help_text():
    """One line per mode, for --help and docs/flags.md."""
    return "; ".join(f"{m.name}: {m.converts} (z {m.z.split()[0]}, images {m.images}; {m.runs_on})" for m in MODES)


def table_markdown():
    """The docs' table of modes (docs/export.md quotes it; tests check the two agree)."""
    rows = ["| `--quantize` | converts | z | images | pixels | runs on | TFLite Micro |", "|---" * 7 + "|"]
    for m in MODES:
        tflm = "yes (tested)" if m.tflm else f"no: {m.why_not_tflm}"
        rows.append(f"| {m.name} | {m.converts} | {m.z} | {m.images} | uint8 | {m.runs_on} | {tflm} |")
    return "\n".join(rows)

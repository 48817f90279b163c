"""`wgan-export`: a trained generator -> SavedModel or (quantized) fixed-batch TFLite.

    wgan-export --checkpoint run.keras --format tflite --quantize int8 --batch_size 1 --out g.tflite
    wgan-export --checkpoint run.keras --format saved_model --out g_savedmodel
    wgan-export --checkpoint run.keras --quantize full_int8 --c_array --report --min_psnr 35 --out g.tflite
    wgan-export --checkpoint run.keras --format web --quantize int8 --out site   # a page: LiteRT.js in a browser

Writes atomically, never replaces an existing --out without --overwrite, and prints the
size and the fidelity against the Keras generator on fixed latent vectors. A .tflite gets its
metadata beside it (<out stem>.json: shapes, every tensor's dtype, scale and zero point). The
quality gate (--min_psnr, --max_fd) exits 1 and writes nothing when the export misses it.
"""
import dataclasses
import os
import sys
import warnings
from typing import Optional

from wgan_edge.atomic import interrupted_message, remove_stale
from wgan_edge.cli import build_parser, option, parse, quiet_libraries, run_cli
from wgan_edge.pretrained import NAMES as PACKAGED
from wgan_edge.signals import interruptible
from wgan_export import pipeline
from wgan_export.formats import FORMATS
from wgan_export.modes import BY_NAME, help_text, names_with
from wgan_keras.choices import check_keras_backend


@dataclasses.dataclass
class ExportConfig:
    """Settings of wgan-export."""
    checkpoint: str = option(dataclasses.MISSING, ".keras file of a WGAN (e.g. a run's checkpoint.keras) or of a "
                                                  "generator, or the name of a generator shipped in the package: "
                                                  + ", ".join(sorted(PACKAGED)) + ".")
    out: str = option(dataclasses.MISSING, "Where to write: a .tflite file, a SavedModel folder or a web "
                                                   "page's folder.")
    format: str = option("tflite", "Output format.", choices=FORMATS)
    quantize: str = option("float32", "TFLite weights and arithmetic (tflite and web): " + help_text() + ".",
                           choices=BY_NAME)  # the live tables: a row added to one is a choice
    batch_size: Optional[int] = option(None, "Fixed batch.", low=1, high=4096,
                                       default_help="1 for tflite and web, dynamic for saved_model")
    int8_io: bool = option(False, "int8 input z (with --quantize " + names_with("int8_io") + ").")
    qat_steps: int = option(100, "qat: distillation steps.", low=0, high=100_000)
    sparsity: float = option(0.0, "qat: prune to this fraction of zero weights, then int8.", low=0.0, high=0.99)
    fidelity_samples: int = option(256, "Latent vectors for the printed fidelity against Keras.", low=2, high=4096)
    report: bool = option(False, "Also measure, against the Keras generator's own pixels: the share equal, the "
                                 "largest level difference, distinct levels, a Fréchet distance in the bundled "
                                 "digit network's features (28x28x1) beside its noise floor, and where the mode "
                                 "runs in TFLite Micro, its arena and its difference from LiteRT.")
    min_psnr: Optional[float] = option(None, "Quality gate: exit 1, writing nothing, when the PSNR against Keras "
                                             "on the fixed z is below this (dB).", low=0.0, high=1000.0)
    max_fd: Optional[float] = option(None, "Quality gate: exit 1, writing nothing, when the Fréchet distance "
                                           "between Keras and exported samples exceeds this (28x28x1 generators; "
                                           "float32 noise counts as 0).", low=0.0, high=1e9)
    c_array: bool = option(False, "TFLite Micro modes: also write <out stem>.cc/.h, the C array (C11 and C++) a "
                                  "TFLite Micro project compiles in, with the tensor-arena size.")
    c_name: Optional[str] = option(None, "--c_array: the array's C identifier; default g_<out stem> with every "
                                         "character that is not an ASCII letter or digit as _.")
    overwrite: bool = option(False, "Replace an existing --out (and its .json/.cc/.h) that wgan-export wrote; "
                                    "anything else in the way is refused.")


def main(argv=None):
    (config,) = parse(build_parser("wgan-export", __doc__, ExportConfig), argv, ExportConfig)
    pipeline.check(config)
    check_keras_backend(os.environ)  # Keras raises a traceback while importing an unknown one
    _tensorflow_backend()
    remove_stale(os.path.dirname(os.path.abspath(config.out)))  # what a killed export left beside --out
    quiet_libraries()
    # The converter calibrates int8 through the deprecated tf.lite.Interpreter and says so, at length.
    warnings.filterwarnings("ignore", message=r"\s*Warning: tf.lite.Interpreter is deprecated")
    try:
        with interruptible():  # SIGTERM cleans up like Ctrl-C; a Ctrl-C that TensorFlow swallows still stops
            line = pipeline.export(config)
    except pipeline.GateFailed as e:  # nothing was published
        print("measured " + e.line)
        print(f"wgan-export: quality gate failed: {e.reason}; nothing written", file=sys.stderr)
        return 1
    print("wrote " + line)
    return 0


def _tensorflow_backend():
    """The export traces the generator into TensorFlow graphs, so it runs Keras on TensorFlow whatever
    KERAS_BACKEND says (a checkpoint saved under torch or JAX loads there: weights are backend-free)."""
    if "keras" not in sys.modules:
        os.environ["KERAS_BACKEND"] = "tensorflow"  # a user's KERAS_BACKEND=torch/jax is for training
    # else: Keras is loaded already (the API); load.load_generator refuses another backend in one line


def run(argv=None):
    """Console entry point: bad input -> one line on stderr, exit status 2."""
    run_cli("wgan-export", main, argv, interrupted=interrupted_message())  # what the disk holds


if __name__ == "__main__":
    run()

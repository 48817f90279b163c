"""What a CPU trains fast with, from measurements: TensorFlow's oneDNN kernels, and bf16 or float32.

Standard library only at import: `wgan-train` reads `ONEDNN_VARIABLE` before TensorFlow loads. Nothing
here changes the process on import; `use_onednn` is for the commands, `tell_if_onednn_off` for `fit`.
"""
import logging
import platform
import sys

ONEDNN_VARIABLE = "TF_ENABLE_ONEDNN_OPTS"  # TensorFlow reads it once, when it loads
# TensorFlow's x86 wheels turn oneDNN on by themselves only on CPUs with AVX-512 VNNI/BF16 or AMX. Measured
# with it off on a plain AVX2 core (AMD EPYC, DCGAN-32, m=64, n_critic=5): 0.40 it/s against 0.81 with it on.
ONEDNN_OFF_COST = "training runs about 2x slower (measured on an AVX2 core: 0.40 vs 0.81 it/s)"
ONEDNN_FIX = (f'os.environ["{ONEDNN_VARIABLE}"] = "1" before TensorFlow is imported (the first lines of your '
              f"script; in Colab or Jupyter, %env {ONEDNN_VARIABLE}=1 as the first cell of a fresh kernel)")

# mixed_precision="auto" on a CPU: the first row whose /proc/cpuinfo flags the CPU has. bf16 pays only
# where oneDNN computes it in hardware; elsewhere it is emulated and slower than float32, and with oneDNN
# off TensorFlow emulates it everywhere (cpu_precision). Last column: the DCGAN-32 train step's speed in
# bf16 over float32, measured with benchmarks/train_throughput.py (docs/benchmarks.md, sections 1b and 8;
# the Zen 4 row on an AMD Zen 4 by an outside report, and 1.64 on the AMX machine with oneDNN held below AMX).
# (CPU kind, flags it needs, policy "auto" picks, measured bf16 / float32 speed)
CPU_PRECISION = (
    ("AMX-BF16 (Intel Xeon Sapphire Rapids and later)", ("amx_bf16",), "mixed_bfloat16", 1.60),
    ("AVX512-BF16 without AMX (AMD Zen 4)", ("avx512_bf16",), "mixed_bfloat16", 1.62),
    ("no bf16 arithmetic (AVX2, AVX-512 without BF16, Arm)", (), "float32", None),
)

_X86 = ("x86_64", "amd64", "i386", "i686", "x86")
_told = False


def use_onednn(environ):
    """The commands' choice, made before TensorFlow loads: oneDNN on unless the user set the variable."""
    environ.setdefault(ONEDNN_VARIABLE, "1")


def cpu_flags():
    """The CPU's feature flags from /proc/cpuinfo; [] where there is none (not Linux)."""
    try:
        with open("/proc/cpuinfo") as f:
            return next((line.split(":", 1)[1].split() for line in f if line.startswith("flags")), [])
    except OSError:
        return []


def cpu_row(flags):
    """The CPU_PRECISION row of a CPU with these flags."""
    return next(row for row in CPU_PRECISION if all(flag in flags for flag in row[1]))


def cpu_precision(flags, onednn=True):
    """The policy "auto" picks on a CPU with these flags; float32 where oneDNN is off (bf16 is emulated)."""
    return cpu_row(flags)[2] if onednn else "float32"


def onednn_enabled():
    """Whether the loaded TensorFlow runs its oneDNN kernels (it decides once, when it loads); None: unknown."""
    try:
        from tensorflow.python.util import _pywrap_util_port
        return bool(_pywrap_util_port.IsMklEnabled())
    except (ImportError, AttributeError):
        return None


def is_x86(machine=None):
    return (machine or platform.machine()).lower() in _X86


def trains_on_cpu(model=None):
    """Whether Keras trains `model` with TensorFlow on this machine's CPU (no GPU, no TPU)."""
    tf = sys.modules.get("tensorflow")
    if tf is None or sys.modules["keras"].backend.backend() != "tensorflow":
        return False  # JAX and PyTorch models have no distribute_strategy
    strategy = getattr(model, "distribute_strategy", None)
    return not (tf.config.list_physical_devices("GPU") or isinstance(strategy, tf.distribute.TPUStrategy))


def tell_if_onednn_off(model=None):
    """When training starts: one log line, once per process, where Keras trains with TensorFlow on an x86
    CPU with oneDNN off (the commands turn it on; a script or notebook must do it itself)."""
    global _told
    if _told or not is_x86() or not trains_on_cpu(model) or onednn_enabled() is not False:
        return False
    _told = True
    logging.getLogger("wgan_keras").warning("wgan_keras: TensorFlow's oneDNN kernels are off on this x86 CPU, so "
                                            "%s; fix: %s.", ONEDNN_OFF_COST, ONEDNN_FIX)
    return True


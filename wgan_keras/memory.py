"""How much memory this process can still take, to refuse up front what cannot fit.

A request past a hard limit (`ulimit -v`, RLIMIT_AS) does not raise inside TensorFlow: its C++
allocator aborts the process ("cannot allocate memory for thread-local data"). So sizes we can
predict (generate(n), a training batch) are checked against this first, in one line.
"""
import math
import os
import resource


def _mem_available():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _address_space_left():
    """RLIMIT_AS minus the address space already mapped; None without a limit."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    if soft == resource.RLIM_INFINITY:
        return None
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        used = 0
    return max(0, soft - used)


def available_bytes():
    """min(free memory, address space left under RLIMIT_AS); None when neither is known."""
    known = [b for b in (_mem_available(), _address_space_left()) if b is not None]
    return min(known) if known else None


def limit_name():
    """Which limit `available_bytes` is set by, for messages."""
    space, free = _address_space_left(), _mem_available()
    return "the address-space limit (ulimit -v)" if space is not None and (free is None or space < free) \
        else "free memory"


def gib(n):
    return f"{n / 2**30:.3g} GiB"


# A training step's address space beyond what the process maps before it, measured on wgan-train MNIST
# runs (DCGAN, widths 16 and 64, batch 64 and 1,000; TF 2.21, 2-core Xeon): 0.85 GiB of thread pools,
# compiled programs and tf.data buffers, plus 1.2-2.2x the float32 bytes of one batch's layer outputs.
# With factor 1 the estimate stays below every measured need: what it refuses cannot fit.
STEP_BASE = 800 << 20
SAFE_FACTOR = 2.5  # the batch size we suggest uses the upper end of the measured range, so it fits


def activation_values(model):
    """Values in the layer outputs of one sample through a functional model (0 when unknown)."""
    total = 0
    for layer in getattr(model, "layers", ()):
        try:
            shape = layer.output.shape[1:]
        except (AttributeError, ValueError):
            continue
        if layer.__class__.__name__ != "InputLayer" and None not in tuple(shape):
            n = 1
            for d in shape:
                n *= int(d)
            total += n
    return total


def check_training_fits(model, batch_size, itemsize=4):
    """Refuses, in one line, a batch whose training step cannot fit under the address-space limit
    (`ulimit -v`: past it TensorFlow segfaults or aborts with no message of ours) or in free memory."""
    per_sample = itemsize * (activation_values(model.critic) + activation_values(model.generator))
    if not per_sample:
        return
    space, free = _address_space_left(), _mem_available()
    need = batch_size * per_sample
    for what, left, extra in (("the address space left under ulimit -v", space, STEP_BASE),
                              ("free memory", free, 0)):
        if left is not None and need + extra > left:
            most = int((left - extra) // (per_sample * SAFE_FACTOR))
            way_out = f"lower --batch_size to at most {most}" if most >= 1 else \
                f"even batch_size=1 would not fit: raise the limit by {gib(extra + SAFE_FACTOR * per_sample - left)}"
            raise ValueError(f"batch_size={batch_size}: one training step needs at least {gib(need + extra)}, more "
                             f"than the {gib(left)} of {what}; {way_out}")


def check_generate_fits(n, latent_dim, sample_shape):
    """`WGAN.generate(n)` holds z, the samples and their concatenation in memory: refuse what cannot fit,
    before TensorFlow fails (ResourceExhaustedError) or aborts the process under `ulimit -v`."""
    per_sample = 4 * (latent_dim + 2 * math.prod(sample_shape))  # float32: z, chunks, their concatenation
    free = available_bytes()
    if free is not None and n * per_sample > free:
        raise ValueError(f"n={n} samples of shape {tuple(sample_shape)} need {gib(n * per_sample)} in memory, more "
                         f"than the {gib(free)} of {limit_name()}; generate at most {free // per_sample} at a time")

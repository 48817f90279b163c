"""How much memory this process can still take, to refuse up front what cannot fit.

A request past a hard limit (`ulimit -v`, RLIMIT_AS) does not raise inside TensorFlow: its C++
allocator aborts the process ("cannot allocate memory for thread-local data"). So sizes we can
predict (generate(n), a training batch) are checked against this first, in one line.
"""
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

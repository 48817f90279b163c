"""SIGINT and SIGTERM for the commands: raised as KeyboardInterrupt where our code can clean up, deferred
where a library cannot take one, and held back while files are renamed into place. Standard library only
(the edge sampler uses it, through `wgan_edge.atomic`)."""
import contextlib
import signal
import threading

_signals = {"active": False, "got": [], "critical": False}


@contextlib.contextmanager
def interruptible():
    """While active (in the main thread): SIGINT and SIGTERM raise KeyboardInterrupt, so every `finally`
    runs and removes its temporaries (SIGTERM's default action would end the process without). They are
    remembered: one that lands inside a library is deferred to our next check (`check_interrupted`, which
    `temp_folder` and `atomic_path` call), since TensorFlow's gc callbacks swallow a KeyboardInterrupt
    ("Exception ignored") and its C++ calls turn one into SystemError; no file is published after it
    and leaving the block raises KeyboardInterrupt."""
    if _signals["active"] or threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        _signals["got"].append(signum)
        if _signals["critical"]:  # files are being put in place: they all are, or none, before it is raised
            return
        # Raised at once in our own code; inside a library (TensorFlow's converter) only at our next
        # check, since an exception thrown into its C++ calls can surface as SystemError with a
        # traceback. A second signal raises at once wherever it lands.
        ours = (frame.f_globals.get("__name__") or "").startswith(("wgan_", "__main__")) if frame else True
        if ours or len(_signals["got"]) > 1:
            raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    _signals["active"] = True
    try:
        yield
    except BaseException:
        if _signals["got"]:
            raise KeyboardInterrupt(signal.Signals(_signals["got"][0]).name) from None
        raise
    else:
        if _signals["got"]:
            raise KeyboardInterrupt(signal.Signals(_signals["got"][0]).name)
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
        _signals["active"] = False
        _signals["got"].clear()


@contextlib.contextmanager
def uninterrupted():
    """While files are renamed into place (and old ones out of the way), a SIGINT or SIGTERM is only
    recorded: raised in the middle it would leave a half-replaced set, or a report of a state that the
    disk does not hold. It is raised at the next check, after the block."""
    before = _signals["critical"]
    _signals["critical"] = True
    try:
        yield
    finally:
        _signals["critical"] = before


def check_interrupted():
    """Raises KeyboardInterrupt if SIGINT or SIGTERM came during `interruptible` (a deferred one)."""
    if _signals["got"]:
        raise KeyboardInterrupt(signal.Signals(_signals["got"][0]).name)

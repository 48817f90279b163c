"""Running the three commands from tests: in-process (fast: no TensorFlow start-up) or as a real
process, optionally with stderr on a real terminal (a pseudo-terminal), where a user sees it."""
import dataclasses
import os
import pty
import select
import signal
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = {"wgan-train": "wgan_keras.main", "wgan-export": "wgan_export.main", "wgan-sample": "wgan_edge.sample"}


@dataclasses.dataclass
class Result:
    code: int
    out: str
    err: str

    # subprocess.CompletedProcess names, so a test reads the same either way
    returncode = property(lambda self: self.code)
    stdout = property(lambda self: self.out)
    stderr = property(lambda self: self.err)

    @property
    def err_lines(self):
        return [line for line in self.err.splitlines() if line.strip()]


def in_process(tool, argv, cwd=None):
    """`tool argv` through its console entry point, in this process (no TensorFlow start-up to pay)."""
    import contextlib
    import importlib
    import io
    module = importlib.import_module(MODULES[tool])
    out, err, code = io.StringIO(), io.StringIO(), 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), contextlib.chdir(cwd or os.getcwd()):
        try:
            module.run([str(a) for a in argv])
        except SystemExit as e:
            code = e.code or 0
    return Result(code, out.getvalue(), err.getvalue())


def user_env(**extra):
    """The environment a user's shell has: none of the test suite's TensorFlow log settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTEST_XDIST_WORKER")}
    env.update(extra)
    return env


def as_process(tool, argv, terminal=False, timeout=300, interrupt_when=None, env=None):
    """`python -m <tool's module> argv` as a real process.

    terminal: stderr is a pseudo-terminal, as in a user's shell (what "one line" means there).
    interrupt_when: a callable polled every 0.1 s; once true, the process gets SIGINT (Ctrl-C).
    """
    cmd = [sys.executable, "-m", MODULES[tool], *map(str, argv)]
    env = env or user_env()
    master = slave = None
    if terminal:
        master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=slave if terminal else subprocess.PIPE)
    if slave is not None:
        os.close(slave)
    out, err, deadline, interrupted = b"", b"", time.time() + timeout, False
    streams = {proc.stdout.fileno(): "out", (master if master is not None else proc.stderr.fileno()): "err"}
    while streams or proc.poll() is None:
        ready, _, _ = select.select(list(streams), [], [], 0.1)
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # a pseudo-terminal reports EIO once the process has ended
                chunk = b""
            if not chunk:
                del streams[fd]
            elif streams[fd] == "out":
                out += chunk
            else:
                err += chunk
        if interrupt_when is not None and not interrupted and interrupt_when():
            proc.send_signal(signal.SIGINT)
            interrupted = True
        if time.time() > deadline:
            proc.kill()
            raise TimeoutError(f"{tool} {argv} ran past {timeout} s")
    proc.wait()
    if master is not None:
        os.close(master)
    return Result(proc.returncode, out.decode(errors="replace"),
                  err.decode(errors="replace").replace("\r\n", "\n"))


def snapshot(*roots):
    """{path: bytes} of every file under `roots`: what a failing command must leave as it was."""
    files = {}
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                if not os.path.isfile(os.path.join(folder, name)):  # a named pipe in a case would block the read
                    continue
                with open(os.path.join(folder, name), "rb") as f:
                    files[os.path.join(folder, name)] = f.read()
    return files


def leftovers(*roots):
    """Atomic-write temporaries (wgan_edge.atomic.PREFIX) left under `roots`."""
    from wgan_edge import atomic
    return [os.path.join(folder, n) for root in roots for folder, dirs, files in os.walk(root)
            for n in dirs + files if n.startswith(atomic.PREFIX)]

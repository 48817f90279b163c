"""Native code's notes on file descriptor 2, captured while it runs (the converter's, TFLite Micro's).

The converter's C++ side writes notes to descriptor 2 (`fully_quantize: 0, inference_type: 6, ...`,
`Estimated count of arithmetic ops`, absl/TF log lines) whatever TF_CPP_MIN_LOG_LEVEL says, and TFLite Micro
prints its allocation failures there while its arena is bisected: notes, not errors, so they are dropped;
anything else (a real error) still reaches the terminal.
"""
import contextlib
import os
import re
import sys
import tempfile

CONVERTER_NOTES = re.compile(r"^(fully_quantize:|Estimated count of|WARNING: All log messages before absl|"
                             r"[IWE]\d{4} |\S+\.cc:\d+\]|Summary on the non-converted ops|\s*$)")
EVERYTHING = re.compile("")


@contextlib.contextmanager
def dropped(notes=EVERYTHING):
    """Captures descriptor 2 while the body runs; passes on the lines that do not match `notes`."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = [line for line in capture.read().decode(errors="replace").splitlines() if not notes.match(line)]
            if kept:  # through descriptor 2 again: wgan_edge.cli.quiet_libraries' filter, when on, still applies
                os.write(2, ("\n".join(kept) + "\n").encode())

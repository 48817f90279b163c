"""argparse for the export CLIs (standard library only: the edge sampler uses it)."""
import argparse
import sys


class OneLineParser(argparse.ArgumentParser):
    """Bad flags print one `prog: error: ...` line and exit 2: no usage block, no traceback."""

    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        sys.exit(2)

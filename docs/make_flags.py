"""Writes docs/flags.md from the config dataclasses: `python docs/make_flags.py > docs/flags.md`.

The flags of all three commands are generated from these same fields, so this table cannot drift
from `--help` (tests/architecture_test.py compares the file with this script's output).
"""
from wgan_edge.cli import markdown_table
from wgan_edge.sample import SampleConfig
from wgan_export.main import ExportConfig
from wgan_keras.config import TrainConfig
from wgan_keras.main import RunFlags


def render():
    parts = ["# Flags of the three commands", "",
             "Generated from the config dataclasses by `python docs/make_flags.py > docs/flags.md`; "
             "`--help` on each command prints the same text. Booleans also take `--noflag` and `--flag=false`.", ""]
    for title, classes in (("wgan-train", (RunFlags, TrainConfig)), ("wgan-export", (ExportConfig,)),
                           ("wgan-sample", (SampleConfig,))):
        parts += [f"## `{title}`", ""]
        for cls in classes:
            parts += [markdown_table(cls), ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")

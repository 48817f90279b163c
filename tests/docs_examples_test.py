"""Every code block of README.md and docs/*.md that a reader would run, run as written: a doc whose
commands have drifted from the code fails here, not in a reader's terminal.

Python blocks run in a fresh interpreter in an empty folder; shell blocks run in bash in an empty
folder with the installed commands on PATH. The only changes allowed are shorter iteration counts,
each one stated in `BLOCKS` below and required to match the text (so a doc edit cannot silently turn
a 2-second check into a 20-epoch run). A block that is not meant to be run (a file tree, an output
sample, installing this package, a fragment of the reader's own script) is listed in `BLOCKS` with the
reason; any block not listed is run, and an untagged block must be tagged or listed.
"""
import dataclasses
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
DOCS = ["README.md", *sorted(str(p.relative_to(ROOT)) for p in (ROOT / "docs").glob("*.md"))]
RUNNABLE = {"python": "python", "bash": "bash", "sh": "bash", "shell": "bash"}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)


@dataclasses.dataclass(frozen=True)
class Block:
    subs: tuple = ()        # (text in the doc, what the test runs instead): shorter iteration counts only
    skip: str = None        # why a reader does not run this block as is
    expect: tuple = ()      # files the block must have written (relative to its folder)


BLOCKS = {
    ("README.md", 0): Block(skip="clones and installs this package: what CI (.ci/run) does in a fresh clone"),
    ("README.md", 1): Block(expect=("digits.png", "sevens.png")),
    ("README.md", 2): Block(expect=("sevens.png",)),
    ("README.md", 3): Block(subs=(("epochs=30", "epochs=1"),), expect=("run.keras", "samples.png")),
    ("README.md", 4): Block(subs=(("--generator_iters 2000", "--generator_iters 2"),),
                            expect=("runs/digits/checkpoint.keras", "digits.tflite", "digits.json", "threes.png")),
    ("docs/architecture.md", 0): Block(skip="a diagram"),
    ("docs/architecture.md", 1): Block(skip="CI's own steps, run by .ci/run (ruff, this suite, .ci/edge)"),
    ("docs/development.md", 0): Block(skip="installs this package and runs the whole suite: what CI (.ci/run) does"),
    ("docs/development.md", 1): Block(skip="installs the docs tools and serves the site until stopped; "
                                           "tests/docs_site_test.py builds it"),
    ("docs/benchmarks.md", 0): Block(skip="a benchmark of minutes that draws folders of up to 200,000 files; its "
                                         "results are in benchmarks/results/data_scale_intel_2026-12-06.json"),
    ("docs/data.md", 0): Block(skip="output of wgan-train, not a command"),
    ("docs/data.md", 1): Block(skip="output of wgan-train on a resume, not a command"),
    ("docs/backends.md", 0): Block(skip="a template: my_training.py is the reader's own script"),
    ("docs/export.md", 0): Block(skip="every export mode of a trained run.keras (minutes of conversion); each "
                                      "command's flags are run by tests/export_test.py and export_quant_test.py"),
    ("docs/export.md", 1): Block(subs=(("--generator_iters 3000", "--generator_iters 2"),),
                                 expect=("runs/digits/checkpoint.keras", "digits.tflite", "digits.json", "digits.cc",
                                         "sevens.png", "classes.png")),
    ("docs/export.md", 2): Block(skip="needs a trained run.keras and a browser; tests/web_test.py runs --format web "
                                      "(float32 and int8) and opens the page in chromium"),
    ("docs/export.md", 3): Block(skip="a benchmark of minutes (a browser, many grids); its results are in "
                                      "benchmarks/results/web_sampling_intel.json"),
    ("docs/install.md", 0): Block(skip="clones and installs this package; .ci/run and .ci/edge install both ways"),
    ("docs/pretrained.md", 0): Block(expect=("digits.png", "site/index.html", "digits.tflite", "digits.cc")),
    ("docs/pretrained.md", 1): Block(skip="trains for minutes and rewrites the shipped files; tests/pretrained_test.py "
                                          "checks what it made"),
    ("docs/reliability.md", 0): Block(skip="output of benchmarks/kill_soak.py, not a command"),
    ("docs/training.md", 0): Block(subs=(("--workdir runs/mnist ", "--workdir runs/mnist --generator_iters 2 "),
                                         ("--workdir runs/ring8 ", "--workdir runs/ring8 --generator_iters 2 "),
                                         # the two lines below need the reader's data: a prepared TFDS
                                         # cifar10 and a folder of faces; the test has neither (offline)
                                         ("wgan-train --dataset cifar10", "# wgan-train --dataset cifar10"),
                                         ("wgan-train --images ~/faces", "# wgan-train --images ~/faces")),
                                   expect=("runs/mnist/checkpoint.keras", "runs/ring8/checkpoint.keras")),
    ("docs/training.md", 1): Block(subs=(("epochs=10", "epochs=1"),), expect=("sevens.png",)),
    ("docs/training.md", 2): Block(skip="a fragment of the reader's script (their `dataset`); tests/distribute_test.py "
                                        "runs make_strategy and set_precision"),
}
# TensorFlow's own start-up lines that no library can avoid: its CUDA probe on a machine without a GPU
# (docs/training.md, "What TensorFlow prints"). Any other error line of a quick start is a failure.
TENSORFLOW_ONLY = ("failed call to cuInit",)


def blocks():
    for doc in DOCS:
        for index, (lang, body) in enumerate(FENCE.findall((ROOT / doc).read_text())):
            yield doc, index, lang, body


def test_every_block_is_run_or_skipped_with_a_reason():
    found = {(doc, i): lang for doc, i, lang, _ in blocks()}
    assert set(BLOCKS) <= set(found), f"listed blocks that no longer exist: {sorted(set(BLOCKS) - set(found))}"
    untagged = [key for key, lang in found.items() if lang not in RUNNABLE and key not in BLOCKS]
    assert not untagged, f"tag these blocks (```python / ```bash) or list them in BLOCKS with a reason: {untagged}"


def _cases():
    for doc, index, lang, body in blocks():
        block = BLOCKS.get((doc, index), Block())
        if block.skip is None and lang in RUNNABLE:
            yield pytest.param(doc, index, lang, body, block, id=f"{doc}#{index}")


def _user_env():
    """The reader's shell: the installed commands on PATH, none of the suite's TensorFlow log settings."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTEST_XDIST_WORKER")}
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["MPLBACKEND"] = "Agg"
    return env


@pytest.mark.parametrize("doc, index, lang, body, block", list(_cases()))
def test_block_runs_as_written(doc, index, lang, body, block, tmp_path):
    for old, new in block.subs:
        assert old in body, f"{doc}#{index} no longer says {old!r}: update BLOCKS"
        body = body.replace(old, new)
    script = tmp_path / ("block.py" if lang == "python" else "block.sh")
    script.write_text(body)
    work = tmp_path / "work"  # empty: the block sees only what it makes
    work.mkdir()
    cmd = [sys.executable, str(script)] if lang == "python" else ["bash", "-e", "-o", "pipefail", str(script)]
    r = subprocess.run(cmd, cwd=work, env=_user_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{doc}#{index} failed:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    for path in block.expect:
        assert (work / path).is_file() and (work / path).stat().st_size > 0, f"{doc}#{index} did not write {path}"
    if lang == "bash":  # the commands keep TensorFlow's lines to themselves: a reader's stderr stays empty
        assert not r.stderr.strip(), f"{doc}#{index} printed on stderr:\n{r.stderr[-4000:]}"
    # A Python script shows TensorFlow's own start-up lines, but no error line (E0000 ...) beyond its CUDA probe.
    errors = [line for line in r.stderr.splitlines() if re.match(r"^E\d{4} ", line)
              and not any(t in line for t in TENSORFLOW_ONLY)]
    assert not errors and "Traceback" not in r.stderr, f"{doc}#{index} printed:\n" + "\n".join(errors or [r.stderr])

"""A new user's first hour, as real processes with stderr on a real terminal: train -> re-run (nothing
to do, nothing written) -> extend -> Ctrl-C (saves, says how to resume) -> resume, with nothing on stderr
but the Ctrl-C line (TensorFlow's C++ lines included). Export -> sample as the README gives them, with an
empty stderr: tests/docs_examples_test.py. Bad input on the way: tests/error_cases.py, whose real-process
cases run on a terminal too."""
import csv
import os

import keras
from commands import as_process

from wgan_keras import WGAN  # noqa: F401  (loads the core: registers the model classes for .keras loading)

TINY = ["--base_filters=8", "--latent_dim=8", "--batch_size=200", "--n_critic=2", "--sample_every=5",
        "--checkpoint_every=1000", "--log_every=1"]


def snapshot(root):
    files = {}
    for folder, _, names in os.walk(root):
        for name in names:
            with open(os.path.join(folder, name), "rb") as f:
                files[os.path.join(folder, name)] = f.read()
    return files


def rows(work):
    path = work / "metrics.csv"
    if not path.exists():
        return 0
    with open(path, newline="") as f:
        return len(list(csv.DictReader(f)))


def checkpoint_iterations(work):
    model = keras.saving.load_model(str(work / "checkpoint.keras"))
    return int(keras.ops.convert_to_numpy(model.generator_iterations))


def test_a_new_users_first_hour(tmp_path):
    work = tmp_path / "runs" / "mnist"
    train = ["wgan-train", [*TINY, f"--workdir={work}", "--generator_iters=6"]]
    first = as_process(*train, terminal=True)
    assert first.code == 0 and not first.err_lines, first.err
    assert "generator iteration 6/6" in first.out and "metrics.csv" in first.out
    assert checkpoint_iterations(work) == 6
    files = snapshot(work)

    again = as_process(*train, terminal=True)  # what the README says to do to resume
    assert again.code == 0 and not again.err_lines, again.err
    assert "already at 6 generator iterations; nothing to do" in again.out
    assert snapshot(work) == files  # no new TensorBoard file, no rewritten config

    longer = ["wgan-train", [*TINY, f"--workdir={work}", "--generator_iters=100000"]]
    stopped = as_process(*longer, terminal=True, interrupt_when=lambda: rows(work) >= 12)
    assert stopped.code == 130, stopped.err
    assert len(stopped.err_lines) == 1 and "run the same command again to resume" in stopped.err_lines[0], stopped.err
    saved = checkpoint_iterations(work)
    assert saved >= 12  # checkpoint_every is 1000: only the Ctrl-C save can have written it
    assert f"interrupted at generator iteration {saved}; saved checkpoint.keras" in stopped.err_lines[0]
    assert "error" not in stopped.err_lines[0]  # a saved, resumable stop the user asked for is not a failure

    resumed = as_process("wgan-train", [*TINY, f"--workdir={work}", f"--generator_iters={saved + 2}"],
                         terminal=True)
    assert resumed.code == 0 and not resumed.err_lines, resumed.err
    assert resumed.out.count(f"resuming {work} from generator iteration {saved}") == 1, resumed.out
    assert checkpoint_iterations(work) == saved + 2
    logged = [int(r["generator_iterations"]) for r in csv.DictReader(open(work / "metrics.csv", newline=""))]
    assert logged == list(range(1, saved + 3))  # one row per iteration, none twice, none lost


def test_help_lists_our_flags_and_exits_0():
    for tool, flag in (("wgan-train", "--n_critic"), ("wgan-export", "--quantize"), ("wgan-sample", "--num")):
        for option in ("--help", "-h"):
            r = as_process(tool, [option])
            assert r.code == 0 and flag in r.out and "Default:" in r.out, (tool, r.err)
    assert "--helpfull" not in as_process("wgan-train", ["--help"]).out

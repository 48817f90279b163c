"""Reliability beyond the error table (tests/error_cases.py): writes are atomic, a corrupt image among good
ones is skipped, and a SIGKILLed run resumes to the same weights."""
import errno
import importlib.util
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from commands import in_process, leftovers
from error_faults import enospc_in_write_bytes
from error_inputs import TRAIN_ARGS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _jpeg(seed):
    return tf.io.encode_jpeg(np.random.default_rng(seed).integers(0, 256, (40, 36, 3), np.uint8)).numpy()


def test_corrupt_image_among_good_ones_is_skipped_with_one_warning(tmp_path):
    """docs/training.md policy: a corrupt file among good ones is skipped and counted, once."""
    folder = tmp_path / "pics"
    folder.mkdir()
    for name, content in {**{f"{i}.jpg": _jpeg(i) for i in range(8)}, "broken.jpg": b"\xff\xd8 not a jpeg"}.items():
        (folder / name).write_bytes(content)
    with pytest.warns(UserWarning, match=r"skipped 1 of 9 .*broken\.jpg"):
        r = in_process("wgan-train", [*TRAIN_ARGS, f"--images={folder}", "--image_size=28", "--channels=3",
                                      "--batch_size=4", "--generator_iters=1", f"--workdir={tmp_path / 'w'}"])
    assert r.code == 0 and not r.err.strip(), r.err
    assert (tmp_path / "w" / "checkpoint.keras").exists()


def test_enospc_on_a_sample_grid_keeps_the_old_grid(tmp_path, monkeypatch):
    """The library path of sample grids (training and wgan-sample share `write_bytes`)."""
    from wgan_keras.images import save_image_grid
    path = tmp_path / "gen_000002.png"
    save_image_grid(str(path), np.zeros((4, 8, 8, 1), np.float32))
    old = path.read_bytes()
    enospc_in_write_bytes(monkeypatch)
    with pytest.raises(OSError) as e:
        save_image_grid(str(path), np.ones((4, 8, 8, 1), np.float32))
    assert e.value.errno == errno.ENOSPC and len(str(e.value).splitlines()) == 1
    assert path.read_bytes() == old and not leftovers(str(tmp_path))


def _load_kill_soak():
    spec = importlib.util.spec_from_file_location("kill_soak", os.path.join(ROOT, "benchmarks", "kill_soak.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sigkill_during_steps_and_checkpoint_writes_resumes_to_the_same_weights(tmp_path):
    """The short version of benchmarks/kill_soak.py: 2 kills (one inside a checkpoint write)."""
    out = tmp_path / "soak.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "benchmarks", "kill_soak.py"), "--kills", "2",
                        "--generator_iters", "40", "--checkpoint_kill_every", "2", "--max_delay", "0.3",
                        "--workdir", str(tmp_path / "soak"), "--json", str(out)],
                       capture_output=True, text=True, env=env, timeout=400, cwd=ROOT)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    s = json.loads(out.read_text())
    assert s["kills"] == 2 and s["resumes_ok"] == 2 and s["kills_during_checkpoint_write"] == 1
    assert s["final_generator_iterations"] == s["reference_generator_iterations"] == 40
    assert s["max_abs_weight_difference"] <= 1e-6 and s["metrics_rows_contiguous"] and s["files_lost"] == 0
    assert all(0 <= r["lost_generator_iterations"] < 5 for r in s["rounds"])  # < checkpoint_every

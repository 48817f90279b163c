"""Runs the error table (tests/error_cases.py): one line, the right exit status, nothing of the user's
changed, no temporary left, for every case; in-process unless the case needs a real process."""
import json

import keras
import numpy as np
import pytest
from commands import as_process, in_process, leftovers, snapshot, user_env
from error_cases import CASES, TINY
from error_faults import nan_output_scales

from wgan_export import lib, tflite
from wgan_keras.config import TrainConfig
from wgan_keras.train import train


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """One tiny trained run and every broken artefact derived from it, built once per module."""
    root = tmp_path_factory.mktemp("assets")
    run = root / "run"
    gan = train(TrainConfig(**TINY, generator_iters=2), str(run), verbose=0)
    a = {"root": root, "run": run, "checkpoint": run / "checkpoint.keras"}
    good = a["checkpoint"].read_bytes()
    a["truncated_keras"] = _write(root / "truncated.keras", good[:len(good) // 2])
    a["random_keras"] = _write(root / "random.keras", np.random.default_rng(0).bytes(4096))
    a["empty_keras"] = _write(root / "empty.keras", b"")
    gan.generator.save(root / "generator.keras")
    a["generator_keras"] = root / "generator.keras"
    dense = keras.Sequential([keras.Input((8,)), keras.layers.Dense(3)])
    dense.save(root / "dense.keras")
    a["dense_keras"] = root / "dense.keras"
    # A model carrying a Python lambda: loading must refuse it (safe_mode), never run its bytecode.
    lam = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16), keras.layers.Lambda(lambda x: x * 2.0),
                            keras.layers.Reshape((4, 4, 1))])
    lam.save(root / "lambda.keras")
    a["lambda_keras"] = root / "lambda.keras"
    model = tflite.convert(gan.generator, "float32", batch_size=2)
    a["tflite"] = _write(root / "g.tflite", model)
    a["truncated_tflite"] = _write(root / "truncated.tflite", model[:len(model) // 2])
    a["metadata"] = _write(root / "metadata.json", json.dumps(lib.metadata(gan.generator, 2)).encode())
    a["nan_scale_tflite"] = _write(root / "nan_scale.tflite",
                                   nan_output_scales(tflite.convert(gan.generator, "full_int8")))
    a["random_tflite"] = _write(root / "random.tflite", np.random.default_rng(1).bytes(len(model)))
    a["empty_tflite"] = _write(root / "empty.tflite", b"")
    a["saved_model"] = root / "sm"
    lib.write_saved_model(gan.generator, str(a["saved_model"]))
    a["random_saved_model"] = root / "random_sm"
    a["random_saved_model"].mkdir()
    _write(a["random_saved_model"] / "saved_model.pb", np.random.default_rng(2).bytes(2048))
    a["regular_file"] = _write(root / "file.txt", b"a user's file")
    return a


def _write(path, data):
    path.write_bytes(data)
    return path


def _same_run(old, new):
    if new is None:
        return False
    old, new = (TrainConfig.from_dict(json.loads(x)) for x in (old, new))
    return not old.differences(new)


def test_case_ids_are_unique_and_every_command_has_one_real_process():
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.tool for c in CASES if c.process} == {"wgan-train", "wgan-export", "wgan-sample"}


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                                               if c.xfail else []) for c in CASES])
def test_bad_input_is_one_line_and_changes_nothing(case, assets, tmp_path, monkeypatch):
    argv = case.args(tmp_path, assets)
    roots = [str(assets["root"]), str(tmp_path)]
    before = snapshot(*roots)
    if case.process or case.env:
        result = as_process(case.tool, argv, terminal=True, env=user_env(**(case.env or {})), timeout=240)
    else:
        if case.patch:
            case.patch(monkeypatch)
        result = in_process(case.tool, argv)
        monkeypatch.undo()
    lines = result.err_lines
    assert "Traceback" not in result.err, result.err
    assert result.code == case.code, result.err
    assert len(lines) == 1 and lines[0].startswith(f"{case.tool}: error: "), result.err
    assert all(w in lines[0] for w in case.words), (case.words, lines[0])
    after = snapshot(*roots)
    # Appending to metrics.csv is not overwriting (a resumed run logs; a rerun drops rows past its checkpoint).
    # config.json is rewritten (atomically) on a resume when a MUTABLE field such as --generator_iters changes.
    changed = [p for p, data in before.items() if after.get(p) != data
               and not (p.endswith("metrics.csv") and (after.get(p) or b"").startswith(data))
               and not (p.endswith("config.json") and _same_run(data, after.get(p)))]
    assert not changed, f"modified or removed: {changed}"
    assert not leftovers(*roots), leftovers(*roots)

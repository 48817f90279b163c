"""Runs the error table (tests/error_cases.py): one line, the right exit status, nothing of the user's
changed, no temporary left, for every case; in-process unless the case needs a real process."""
import dataclasses
import json

import pytest
from commands import as_process, in_process, leftovers, snapshot, user_env
from error_assets import build
from error_cases import CASES, Case

from wgan_keras.config import TrainConfig


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    return build(tmp_path_factory.mktemp("assets"))


def _same_run(old, new):
    if new is None:
        return False
    old, new = (TrainConfig.from_dict(json.loads(x)) for x in (old, new))
    return not old.differences(new)


def test_case_ids_are_unique_and_every_command_has_one_real_process():
    assert len({c.id for c in CASES}) == len(CASES)
    assert {c.tool for c in CASES if c.process} == {"wgan-train", "wgan-export", "wgan-sample"}


def test_every_field_of_the_table_is_used():
    """A field no case sets would be a promise the runner keeps for nobody."""
    for field in dataclasses.fields(Case):
        assert any(getattr(c, field.name) != field.default for c in CASES), field.name


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
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
               and not (p.endswith("config.json") and _same_run(data, after.get(p)))
               and not (case.code == 1 and p.endswith("w_estimate.png") and p in after)]  # a run that trained replots
    assert not changed, f"modified or removed: {changed}"
    assert not leftovers(*roots), leftovers(*roots)

"""`wgan-export --overwrite` replaces what wgan-export wrote, all files or none, and a signal at any step of
publishing is reported as the disk holds it. (A user's file, folder or link in the way of each output is a row
of the error table, tests/error_cases.py.) A tiny generator: the conversion is cached, the publishing is real."""
import json
import os
import shutil
import signal
import sys
import types

import keras
import pytest
from commands import in_process, leftovers, snapshot

from wgan_edge import atomic
from wgan_export import convert, web
from wgan_keras import DCGANGenerator


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """(checkpoint path, its float32 and full_int8 .tflite bytes)."""
    keras.utils.set_random_seed(0)
    root = tmp_path_factory.mktemp("tiny")
    generator = DCGANGenerator(latent_dim=4, image_shape=(28, 28, 1), base_filters=4)
    generator.save(root / "g.keras")
    return str(root / "g.keras"), {q: convert.convert(generator, q) for q in ("float32", "full_int8")}


@pytest.fixture
def cached(tiny, monkeypatch):
    """The converter replaced by its own earlier output: these tests are about what is published."""
    monkeypatch.setattr(convert, "convert", lambda generator, mode, **kw: tiny[1][mode.name])
    return tiny[0]


def export(checkpoint, out, *flags, cwd=None):
    return in_process("wgan-export", ["--checkpoint", checkpoint, "--out", str(out), "--fidelity_samples", "2",
                                      *flags], cwd=cwd)


def _mark_old(folder_or_json):
    """Tags metadata we wrote (it stays ours) so that the old export can be told from the new one."""
    path = folder_or_json / web.METADATA if folder_or_json.is_dir() else folder_or_json
    path.write_text(json.dumps({**json.loads(path.read_text()), "old": True}))


@pytest.mark.parametrize("fmt", ["web", "saved_model"])
def test_overwrite_replaces_a_folder_this_tool_wrote(cached, tmp_path, fmt):
    out = tmp_path / "out"
    assert export(cached, out, "--format", fmt).code == 0
    (out / "probe").write_text("the user's") if fmt == "web" else None
    if fmt == "web":  # something of the user's inside: refused, the page kept
        r = export(cached, out, "--format", fmt, "--overwrite")
        assert r.code == 2 and "holds probe" in r.err and (out / "probe").exists(), r.err
        (out / "probe").unlink()
    before = snapshot(out)
    r = export(cached, out, "--format", fmt, "--overwrite")
    assert r.code == 0 and r.out.startswith("wrote"), r.err
    assert set(snapshot(out)) == set(before) and not leftovers(tmp_path)


def test_a_page_after_npm_install_is_refused_naming_node_modules(cached, tmp_path):
    out = tmp_path / "site"
    assert export(cached, out, "--format", "web").code == 0
    (out / "node_modules" / "@litertjs").mkdir(parents=True)
    r = export(cached, out, "--format", "web", "--overwrite")
    assert r.code == 2 and "holds node_modules" in r.err and (out / "node_modules" / "@litertjs").is_dir(), r.err


@pytest.mark.parametrize("where", [".", ".."])
def test_out_is_never_the_current_folder_or_above_it(cached, tmp_path, where):
    """Even a folder that looks like our page is not replaced while the user works in it."""
    work = tmp_path / "site"
    assert export(cached, work, "--format", "web").code == 0
    (work / "inner").mkdir() if where == ".." else None
    cwd = work if where == "." else work / "inner"
    before = snapshot(tmp_path)
    r = export(cached, where, "--format", "web", "--overwrite", cwd=cwd)
    assert r.code == 2 and "the current folder" in r.err, r.err
    assert snapshot(tmp_path) == before


def test_c_array_set_is_replaced_as_a_whole(cached, tmp_path):
    out = tmp_path / "g.tflite"
    assert export(cached, out, "--quantize", "full_int8", "--c_array").code == 0
    _mark_old(tmp_path / "g.json")
    r = export(cached, out, "--quantize", "full_int8", "--c_array", "--overwrite")
    assert r.code == 0, r.err
    assert sorted(os.listdir(tmp_path)) == ["g.cc", "g.h", "g.json", "g.tflite"]
    assert "old" not in json.loads((tmp_path / "g.json").read_text())


def test_a_failing_rename_puts_every_old_file_back(tmp_path, monkeypatch):
    """All or none under --overwrite: the third rename fails; the two files already replaced get their old bytes."""
    files = {str(tmp_path / n): b"new" for n in ("a.tflite", "a.json", "a.cc")}
    for path in files:
        open(path, "wb").write(b"old")
    real = os.replace

    def replace(src, dst):  # the third file's rename into place fails
        if dst.endswith("a.cc"):
            raise OSError(5, "Input/output error")
        real(src, dst)
    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(OSError, match="Input/output"):
        atomic.write_files(files, overwrite=True)
    monkeypatch.undo()
    assert {p: open(p, "rb").read() for p in files} == dict.fromkeys(files, b"old")
    assert not leftovers(tmp_path)


STEPS = [(os, "rename"), (os, "replace"), (os, "link"), (os, "remove"), (os, "rmdir"), (os, "fsync"),
         (shutil, "rmtree")]


def _signal_after(module, name, counter):
    """Wraps module.<name> so that its `counter[1]`-th call from wgan_edge.atomic is followed by a SIGTERM.
    The wrapper runs with atomic's globals: the signal is handled as one landing in our own code."""
    real = getattr(module, name)

    def call(*args, **kwargs):
        result = real(*args, **kwargs)
        if sys._getframe(1).f_globals.get("__name__") == "wgan_edge.atomic":
            counter[0] += 1
            if counter[0] == counter[1]:
                os.kill(os.getpid(), signal.SIGTERM)
        return result
    return types.FunctionType(call.__code__, {**vars(atomic), "sys": sys, "os": os, "signal": signal}, name,
                              None, call.__closure__)


def _publish_with_signal(checkpoint, out, flags, k):
    """Exports with a SIGTERM after the k-th file-system step of wgan_edge.atomic (k = 0: none); returns the
    result and how many steps there were."""
    counter = [0, k]
    with pytest.MonkeyPatch.context() as mp:
        for module, name in STEPS:
            mp.setattr(module, name, _signal_after(module, name, counter))
        result = export(checkpoint, out, *flags, "--overwrite")
    return result, counter[0]


@pytest.mark.parametrize("fmt", ["web", "c_array"])
def test_sigterm_at_each_step_of_publish_is_reported_as_the_disk_holds_it(cached, tmp_path, fmt):
    """The new export in place: the line says it was written; else the old one, byte-identical, and 'nothing
    was written'. Never a mix, never a temporary left."""
    flags = ("--format", "web") if fmt == "web" else ("--quantize", "full_int8", "--c_array")
    out = tmp_path / ("site" if fmt == "web" else "g.tflite")
    assert export(cached, out, *flags).code == 0
    _mark_old(out if fmt == "web" else tmp_path / "g.json")
    meta = out / web.METADATA if fmt == "web" else tmp_path / "g.json"
    old = snapshot(tmp_path)
    _, steps = _publish_with_signal(cached, out, flags, 0)  # a dry run counts the steps
    assert steps >= 4
    for k in range(1, steps + 1):
        for path, data in old.items():  # the old export back in place for each try
            open(path, "wb").write(data)
        r, _ = _publish_with_signal(cached, out, flags, k)
        line = r.err.strip()
        assert r.code == 143 and len(line.splitlines()) == 1, (k, r.err)
        if "old" in json.loads(meta.read_text()):
            assert line.endswith("interrupted; nothing was written") and snapshot(tmp_path) == old, (k, line)
        else:
            assert f"interrupted after writing {out}" in line, (k, line)
            assert set(snapshot(tmp_path)) == set(old), k
        assert not leftovers(tmp_path), (k, leftovers(tmp_path))

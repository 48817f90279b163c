"""Reliability (issue 8): hostile input never crashes the CLIs, writes are atomic, divergence
keeps the last good checkpoint, and a SIGKILLed run resumes to the same weights.

One table (`CASES`) of bad inputs for wgan-train / wgan-export / wgan-sample. Each case must
end with exit status 2 (1 for divergence), exactly one non-empty stderr line naming the tool,
no traceback, every file that existed before byte-identical afterwards and no temporary leftover.
wgan-train and wgan-export cases run in-process through the same entry points as the console
scripts (a TensorFlow start-up per case would cost minutes); wgan-sample cases and a few
`SUBPROCESS` cases run as real processes (a malformed flatbuffer must not take pytest down).
"""
import dataclasses
import errno
import importlib.util
import json
import os
import shutil
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from wgan_edge import atomic
from wgan_export import lib, tflite
from wgan_keras.config import TrainConfig
from wgan_keras.train import train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The tiny run every train case resumes or restarts (mnist_4k, m=400, n_critic=2: 5 steps per epoch).
TINY = dict(base_filters=8, latent_dim=8, batch_size=400, n_critic=2, sample_every=2, checkpoint_every=2,
            log_every=1)
TRAIN_ARGS = [f"--{k}={v}" for k, v in TINY.items()] + ["--generator_iters=4"]


# --------------------------------------------------------------------------- shared assets
@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """One tiny trained run and every broken artefact derived from it, built once per session."""
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


def _jpeg(seed):
    return tf.io.encode_jpeg(np.random.default_rng(seed).integers(0, 256, (40, 36, 3), np.uint8)).numpy()


def _run_copy(a, tmp, checkpoint=None, config=None):
    """A copy of the trained workdir, optionally with checkpoint.keras / config.json replaced."""
    work = tmp / "work"
    shutil.copytree(a["run"], work)
    if checkpoint is not None:
        (work / "checkpoint.keras").write_bytes(checkpoint)
    if config is not None:
        (work / "config.json").write_text(config)
    return work


def _folder(tmp, files):
    folder = tmp / "pics"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


# --------------------------------------------------------------------------- runners
def run_train(argv, capsys):
    """`wgan-train argv` in-process, as the console script: (exit code, stderr)."""
    from wgan_keras import main as cli
    code = 0
    try:
        cli.run(argv)
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


def run_export(argv, capsys):
    from wgan_export import main as cli
    code = 0
    try:
        cli.run(argv)
    except SystemExit as e:
        code = e.code
    return code, capsys.readouterr().err


def run_subprocess(module, argv):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-m", module, *argv], capture_output=True, text=True, env=env, cwd=ROOT,
                       timeout=180)
    # TensorFlow's C++ runtime may print start-up notes (absl, CUDA probing) before Python runs; the
    # lines that are ours start with the tool's name.
    noise = ("WARNING: All log messages", "I0000", "E0000", "W0000", "INFO: Created TensorFlow Lite XNNPACK")
    return r.returncode, "\n".join(l for l in r.stderr.splitlines() if not l.startswith(noise))


MODULES = {"wgan-train": "wgan_keras.main", "wgan-export": "wgan_export.main", "wgan-sample": "wgan_edge.sample"}


def snapshot(*roots):
    files = {}
    for root in roots:
        for folder, _, names in os.walk(root):
            for name in names:
                path = os.path.join(folder, name)
                with open(path, "rb") as f:
                    files[path] = f.read()
    return files


def _same_run(old, new):
    if new is None:
        return False
    old, new = (TrainConfig.from_dict(json.loads(x)) for x in (old, new))
    return not old.differences(new)


def leftovers(*roots):
    return [os.path.join(folder, n) for root in roots for folder, dirs, files in os.walk(root)
            for n in dirs + files if n.startswith(atomic.PREFIX)]


# --------------------------------------------------------------------------- the table
@dataclasses.dataclass
class Case:
    id: str
    tool: str
    args: object              # (tmp, assets) -> argv
    match: str                # substring of the one stderr line
    patch: object = None      # (monkeypatch) -> None: the fault to inject
    code: int = 2
    subprocess: bool = False
    xfail: str = None


def T(*flags):
    """wgan-train argv: the tiny run's flags, then `flags` (later flags win), in a fresh workdir."""
    return lambda tmp, a: [*TRAIN_ARGS, f"--workdir={tmp / 'w'}", *flags]


def on_copy(checkpoint=None, config=None):
    return lambda tmp, a: [*TRAIN_ARGS, f"--workdir={_run_copy(a, tmp, checkpoint(a) if checkpoint else None, config)}"]


def data(array):
    """Injects `array` as the training data (as a custom loader would return it)."""
    return lambda mp: mp.setattr("wgan_keras.train.load_data", lambda config: array)


def nan_batches(mp):
    """Every batch becomes NaN inside the pipeline, after the input checks: losses go NaN."""
    import wgan_keras.train as t
    real = t.epoch_dataset
    mp.setattr(t, "epoch_dataset", lambda *a, **k: real(*a, **k).map(lambda b: b * np.float32(np.nan)))


def enospc_on_checkpoint(mp):
    """The disk fills while the checkpoint is being written: half a file, then ENOSPC."""
    from wgan_keras.wgan import WGAN

    def save(self, path, *args, **kwargs):
        with open(path, "wb") as f:
            f.write(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
    mp.setattr(WGAN, "save", save)


class _FullDisk:
    """A file object that writes part of the data, then fails like a full disk."""

    def __init__(self, f):
        self.f = f

    def write(self, data):
        self.f.write(data[:len(data) // 2])
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.f.close()


def enospc_in_write_bytes(mp):
    mp.setattr(atomic, "open", lambda path, mode="r", *a, **k: _FullDisk(open(path, mode, *a, **k)) if "w" in mode
               else open(path, mode, *a, **k), raising=False)


def enospc_in_saved_model(mp):
    """The disk fills while the SavedModel is written: part of the folder, then ENOSPC."""
    from wgan_export import lib
    real = lib.write_saved_model

    def write(generator, path, *a, **k):
        real(generator, path, *a, **k)
        with open(os.path.join(path, "saved_model.pb"), "r+b") as f:
            f.truncate(10)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), path)
    mp.setattr(lib, "write_saved_model", write)


def E(*flags):
    return lambda tmp, a: [*[f.format(**{k: str(v) for k, v in a.items()}, tmp=tmp) for f in flags],
                           "--fidelity_samples", "2"]


def S(*flags):
    return lambda tmp, a: [f.format(**{k: str(v) for k, v in a.items()}, tmp=tmp) for f in flags]


OUT = "--out={tmp}/x.tflite"
EXISTING_GRID = "{regular_file}"  # the sampler must not replace it without --overwrite

CASES = [
    # ---- absurd flags (validated before TensorFlow does any work)
    Case("train-n_critic-0", "wgan-train", T("--n_critic=0"), "n_critic=0"),
    Case("train-lr-0", "wgan-train", T("--learning_rate=0"), "learning_rate=0.0"),
    Case("train-lr-negative", "wgan-train", T("--learning_rate=-1e-4"), "learning_rate=-0.0001"),
    Case("train-lr-nan", "wgan-train", T("--learning_rate=nan"), "learning_rate=nan"),
    Case("train-clip-0", "wgan-train", T("--clip_value=0"), "clip_value=0.0"),
    Case("train-clip-inf", "wgan-train", T("--clip_value=inf"), "clip_value=inf"),
    Case("train-latent-1e9", "wgan-train", T("--latent_dim=1000000000"), "latent_dim=1000000000"),
    Case("train-batch-negative", "wgan-train", T("--batch_size=-1"), "batch_size=-1"),
    Case("train-filters-negative", "wgan-train", T("--base_filters=-8"), "base_filters=-8"),
    Case("train-image-size-30", "wgan-train", T("--image_size=30"), "image_size=30"),
    Case("train-epochs-0", "wgan-train", T("--epochs=0"), "epochs=0"),
    Case("train-checkpoint-every-0", "wgan-train", T("--checkpoint_every=0"), "checkpoint_every=0"),
    Case("train-seed-negative", "wgan-train", T("--seed=-1"), "seed=-1"),
    Case("train-n_critic-not-int", "wgan-train", T("--n_critic=three"), "n_critic"),
    Case("train-unknown-flag", "wgan-train", T("--learning_rat=0.1"), "learning_rat"),
    Case("train-positional-arg", "wgan-train", T("extra"), "unexpected arguments"),
    Case("train-toy-with-image-size", "wgan-train", T("--dataset=ring8", "--image_size=28"), "image_size"),
    # ---- bad data: rank, shape, dtype, NaN/Inf, empty (injected as a custom loader's array)
    Case("data-rank-3", "wgan-train", T(), "shape (5, 28, 28)", data(np.zeros((5, 28, 28), np.uint8))),
    Case("data-rank-1", "wgan-train", T(), "shape (5,)", data(np.zeros(5, np.float32))),
    Case("data-2-channels", "wgan-train", T(), "channels", data(np.zeros((5, 28, 28, 2), np.uint8))),
    Case("data-float-images", "wgan-train", T(), "uint8", data(np.zeros((5, 28, 28, 1), np.float64))),
    Case("data-nan-points", "wgan-train", T(), "NaN/Inf", data(np.array([[0.0, np.nan]] * 4000, np.float32))),
    Case("data-inf-points", "wgan-train", T(), "NaN/Inf", data(np.array([[np.inf, 0.0]] * 4000, np.float32))),
    Case("data-empty", "wgan-train", T(), "empty", data(np.zeros((0, 28, 28, 1), np.uint8))),
    Case("data-too-few", "wgan-train", T(), "fewer than one step", data(np.zeros((3, 28, 28, 1), np.uint8))),
    Case("data-image-size-30", "wgan-train", T(), "30", data(np.zeros((4000, 30, 30, 1), np.uint8))),
    # ---- image folders
    Case("folder-empty", "wgan-train", lambda tmp, a: T(f"--images={_folder(tmp, {})}")(tmp, a), "holds no"),
    Case("folder-no-images", "wgan-train", lambda tmp, a: T(f"--images={_folder(tmp, {'a.txt': b'x'})}")(tmp, a),
         "holds no"),
    Case("folder-only-corrupt", "wgan-train",
         lambda tmp, a: T(f"--images={_folder(tmp, {'a.jpg': b'nope', 'b.png': _jpeg(0)[:50]})}")(tmp, a),
         "none of its 2"),
    Case("folder-is-a-file", "wgan-train", lambda tmp, a: T(f"--images={a['regular_file']}")(tmp, a),
         "not a directory"),
    # ---- workdirs
    Case("workdir-under-a-file", "wgan-train", lambda tmp, a: T(f"--workdir={a['regular_file']}/sub")(tmp, a),
         "file.txt"),
    Case("workdir-is-a-file", "wgan-train", lambda tmp, a: T(f"--workdir={a['regular_file']}")(tmp, a), "file.txt"),
    Case("workdir-in-proc", "wgan-train", T("--workdir=/proc/wgan-run"), "/proc/wgan-run"),
    Case("workdir-foreign", "wgan-train",
         lambda tmp, a: T(f"--workdir={_folder(tmp, {'checkpoint.keras': b'mine'})}")(tmp, a), "no config.json"),
    Case("workdir-config-not-json", "wgan-train", on_copy(config="{not json"), "config.json"),
    Case("workdir-config-a-list", "wgan-train", on_copy(config="[1, 2]"), "config.json"),
    Case("workdir-other-config", "wgan-train", lambda tmp, a: [*on_copy()(tmp, a), "--latent_dim=9"],
         "different config"),
    # ---- broken checkpoints in the workdir (resume)
    Case("ckpt-truncated", "wgan-train", on_copy(lambda a: a["truncated_keras"].read_bytes()), "cannot be loaded"),
    Case("ckpt-random-bytes", "wgan-train", on_copy(lambda a: a["random_keras"].read_bytes()), "cannot be loaded"),
    Case("ckpt-empty", "wgan-train", on_copy(lambda a: b""), "cannot be loaded"),
    Case("ckpt-lambda", "wgan-train", on_copy(lambda a: a["lambda_keras"].read_bytes()), "cannot be loaded"),
    Case("ckpt-other-class", "wgan-train", on_copy(lambda a: a["generator_keras"].read_bytes()), "checkpoint.keras"),
    # ---- faults while training: full disk during the checkpoint write, NaN losses
    Case("ckpt-write-enospc", "wgan-train", on_copy(), "No space left on device", enospc_on_checkpoint),
    Case("losses-nan", "wgan-train", on_copy(), "kept the last good", nan_batches, code=1),
    # ---- wgan-export
    Case("export-missing", "wgan-export", E("--checkpoint={root}/nope.keras", OUT), "not found"),
    Case("export-truncated-keras", "wgan-export", E("--checkpoint={truncated_keras}", OUT), "cannot load"),
    Case("export-random-keras", "wgan-export", E("--checkpoint={random_keras}", OUT), "cannot load"),
    Case("export-empty-keras", "wgan-export", E("--checkpoint={empty_keras}", OUT), "cannot load"),
    Case("export-lambda-keras", "wgan-export", E("--checkpoint={lambda_keras}", OUT), "cannot load"),
    Case("export-other-class", "wgan-export", E("--checkpoint={dense_keras}", OUT), "not images"),
    Case("export-tflite-as-checkpoint", "wgan-export", E("--checkpoint={tflite}", OUT), "cannot load"),
    Case("export-saved-model-dir", "wgan-export", E("--checkpoint={saved_model}", OUT), "not found"),
    Case("export-saved-model-pb", "wgan-export", E("--checkpoint={saved_model}/saved_model.pb", OUT), "cannot load"),
    Case("export-batch-negative", "wgan-export", E("--checkpoint={checkpoint}", "--batch_size=-2", OUT),
         "batch_size"),
    Case("export-batch-not-int", "wgan-export", E("--checkpoint={checkpoint}", "--batch_size=two", OUT),
         "batch_size"),
    Case("export-out-exists", "wgan-export", E("--checkpoint={checkpoint}", "--out={regular_file}"), "exists"),
    Case("export-out-under-a-file", "wgan-export", E("--checkpoint={checkpoint}", "--out={regular_file}/g.tflite"),
         "file.txt"),
    Case("export-tflite-enospc", "wgan-export", E("--checkpoint={checkpoint}", "--out={tflite}", "--overwrite"),
         "No space left on device", enospc_in_write_bytes),
    Case("export-saved-model-enospc", "wgan-export",
         E("--checkpoint={checkpoint}", "--format=saved_model", "--out={saved_model}", "--overwrite"),
         "No space left on device", enospc_in_saved_model),
    # ---- wgan-sample (always a real process: LiteRT parses the hostile bytes)
    Case("sample-truncated-tflite", "wgan-sample", S("--model={truncated_tflite}", OUT.replace("tflite", "png")),
         "cannot load"),
    Case("sample-random-tflite", "wgan-sample", S("--model={random_tflite}", "--out={tmp}/x.png"), "cannot load"),
    Case("sample-empty-tflite", "wgan-sample", S("--model={empty_tflite}", "--out={tmp}/x.png"), ""),
    Case("sample-keras-as-tflite", "wgan-sample", S("--model={checkpoint}", "--out={tmp}/x.png"), "cannot load"),
    Case("sample-saved-model-dir", "wgan-sample", S("--model={saved_model}", "--out={tmp}/x.png"), "not found"),
    Case("sample-saved-model-pb", "wgan-sample", S("--model={random_saved_model}/saved_model.pb", "--out={tmp}/x.png"),
         "cannot load"),
    Case("sample-num-negative", "wgan-sample", S("--model={tflite}", "--num=-3", "--out={tmp}/x.png"), "num"),
    Case("sample-num-not-int", "wgan-sample", S("--model={tflite}", "--num=lots", "--out={tmp}/x.png"), "num"),
    Case("sample-columns-negative", "wgan-sample", S("--model={tflite}", "--columns=-1", "--out={tmp}/x.png"), ""),
    Case("sample-out-exists", "wgan-sample", S("--model={tflite}", "--out=" + EXISTING_GRID), "exists"),
    Case("sample-out-under-a-file", "wgan-sample", S("--model={tflite}", "--out={regular_file}/x.png"), "file.txt"),
    # ---- the same contract from real processes (no traceback from the interpreter either)
    Case("process-train-lr-0", "wgan-train", T("--learning_rate=0"), "learning_rate=0.0", subprocess=True),
    Case("process-train-ckpt-random", "wgan-train", on_copy(lambda a: a["random_keras"].read_bytes()),
         "cannot be loaded", subprocess=True),
    Case("process-export-lambda", "wgan-export", E("--checkpoint={lambda_keras}", OUT), "cannot load",
         subprocess=True),
]


def _params():
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        yield pytest.param(case, id=case.id, marks=marks)


@pytest.mark.parametrize("case", _params())
def test_bad_input_is_one_line_and_overwrites_nothing(case, assets, tmp_path, monkeypatch, capsys):
    argv = case.args(tmp_path, assets)
    roots = [str(assets["root"]), str(tmp_path)]
    before = snapshot(*roots)
    if case.tool == "wgan-sample" or case.subprocess:
        code, err = run_subprocess(MODULES[case.tool], argv)
    else:
        if case.patch:
            case.patch(monkeypatch)
        code, err = (run_train if case.tool == "wgan-train" else run_export)(argv, capsys)
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err, err
    assert code == case.code, err
    assert len(lines) == 1 and lines[0].startswith(f"{case.tool}: error: ") and case.match in lines[0], err
    after = snapshot(*roots)
    # Appending to metrics.csv is not overwriting (a resumed run logs; a rerun drops rows past its checkpoint).
    # config.json is rewritten (atomically) on a resume when a MUTABLE field such as --generator_iters changes.
    changed = [p for p, data in before.items() if after.get(p) != data
               and not (p.endswith("metrics.csv") and (after.get(p) or b"").startswith(data))
               and not (p.endswith("config.json") and _same_run(data, after.get(p)))]
    assert not changed, f"modified or removed: {changed}"
    assert not leftovers(*roots), leftovers(*roots)


def test_corrupt_image_among_good_ones_is_skipped_with_one_warning(tmp_path, capsys):
    """docs/training.md policy: a corrupt file among good ones is skipped and counted, once."""
    folder = _folder(tmp_path, {**{f"{i}.jpg": _jpeg(i) for i in range(8)}, "broken.jpg": b"\xff\xd8 not a jpeg"})
    with pytest.warns(UserWarning, match=r"skipped 1 of 9 .*broken\.jpg"):
        code, err = run_train([*TRAIN_ARGS, f"--images={folder}", "--image_size=28", "--channels=3",
                               "--batch_size=4", "--generator_iters=1", f"--workdir={tmp_path / 'w'}"], capsys)
    assert code == 0 and not err.strip(), err
    assert (tmp_path / "w" / "checkpoint.keras").exists()


def test_enospc_on_a_sample_grid_keeps_the_old_grid(assets, tmp_path, monkeypatch):
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

"""Library calls of the error contract, and inputs that must work. (Command lines: tests/error_cases.py.)

`API_CASES` are library calls that must raise one exception type with every word in a one-line message,
changing no file; `CLASS` names each one's class of failure (silent harm, flags that do nothing, tracebacks,
messages, downloads, memory). The tests after them are inputs that once failed and must now *work*.
"""
import dataclasses
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf
from commands import leftovers, snapshot
from error_assets import ema_run
from error_faults import edit_quantization
from error_inputs import EMA_TINY as TINY
from PIL import Image

from wgan_edge import atomic
from wgan_keras.config import TrainConfig
from wgan_keras.train import train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclasses.dataclass(frozen=True)
class ApiCase:
    id: str
    call: object          # (tmp, assets) -> anything; must raise `raises`
    raises: type
    words: tuple


@pytest.fixture(scope="module")
def assets(tmp_path_factory):
    """The tiny run with a generator EMA (as "run") and the digit network's weights, whole and cut in half."""
    root = tmp_path_factory.mktemp("assets25")
    a = {"root": root, "run": ema_run(root)["ema_run"]}
    a["checkpoint"] = a["run"] / "checkpoint.keras"
    weights = np.load(os.path.join(ROOT, "wgan_keras", "evaluation", "digit_features.npz"))
    np.savez(root / "features.npz", **weights)
    data = (root / "features.npz").read_bytes()
    (root / "features_truncated.npz").write_bytes(data[:len(data) // 2])
    return a


def copy_run(tmp, a, checkpoint=None, config=None, metrics=None):
    """A copy of the run; `config`: a function editing its config.json dict; `metrics`: its new bytes."""
    work = tmp / "work"
    shutil.copytree(a["run"], work)
    if checkpoint is not None:
        shutil.copy(a["root"] / checkpoint, work / "checkpoint.keras")
    if config is not None:
        values = json.loads((work / "config.json").read_text())
        config(values)
        (work / "config.json").write_text(json.dumps(values))
    if metrics is not None:
        (work / "metrics.csv").write_bytes(metrics((work / "metrics.csv").read_bytes()))
    return work


# --------------------------------------------------------------------------- library calls
def _gan(a):
    return keras.saving.load_model(a["checkpoint"])


def _fit(x):
    def call(tmp, a):
        gan = _gan(a)
        gan.fit(x, epochs=1, verbose=0)
    return call


def _download(tmp, a):
    """TFDS's download path as far as the network: the HTTP layer answers like a machine offline."""
    import requests
    calls = []

    def offline(self, request, **kwargs):
        calls.append(request.url)
        raise requests.exceptions.ConnectionError(f"offline: {request.url}")
    from wgan_keras.data.sources import load_tfds
    real = requests.adapters.HTTPAdapter.send
    requests.adapters.HTTPAdapter.send = offline
    try:
        load_tfds("mnist", data_dir=str(tmp / "tfds"), download=True)
    except ValueError as e:
        assert calls, "the download never reached the network"
        assert "ModuleNotFoundError" not in str(e)
        raise
    finally:
        requests.adapters.HTTPAdapter.send = real


def _features(name):
    def call(tmp, a):
        from wgan_keras.evaluation.digits import digit_feature_model
        digit_feature_model(str(a["root"] / name))
    return call


API_CASES = [
    ApiCase("fit-unbatched-dataset", lambda tmp, a: _fit(tf.data.Dataset.from_tensor_slices(
        np.zeros((64, 28, 28, 1), "float32")))(tmp, a), ValueError, ("single samples", "batch it")),
    ApiCase("fit-array-without-channels", lambda tmp, a: _fit(np.zeros((64, 28, 28), "float32"))(tmp, a),
            ValueError, ("(28, 28)", "(28, 28, 1)")),
    ApiCase("generate-batch-size-0", lambda tmp, a: _gan(a).generate(4, batch_size=0), ValueError, ("batch_size=0",)),
    ApiCase("generate-batch-size-float", lambda tmp, a: _gan(a).generate(4, batch_size=2.5), ValueError,
            ("batch_size=2.5",)),
    ApiCase("generate-10-to-the-10", lambda tmp, a: _gan(a).generate(10**10), ValueError,
            ("n=10000000000", "GiB", "at most")),
    ApiCase("features-truncated", _features("features_truncated.npz"), ValueError,
            ("features_truncated.npz", "BadZipFile")),
    ApiCase("features-not-there", _features("nope.npz"), ValueError, ("nope.npz",)),
    ApiCase("download-offline", _download, ValueError, ("could not be downloaded", "ConnectionError", "offline")),
    ApiCase("config-flag-not-applying", lambda tmp, a: TrainConfig(dataset="ring8", upsample="resize").validate(),
            ValueError, ("upsample", "2-D toy")),
    ApiCase("wgan-conditional-generator-plain-critic", lambda tmp, a: _wgan_of(
        keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(), keras.layers.Dense(1)]), 10),
        ValueError, ("10 classes", "Sequential", "takes no labels")),
    ApiCase("wgan-augment-not-a-policy", lambda tmp, a: _wgan_of(None, None, augment=["cutout", "translation"]),
            ValueError, ("augment=", "cutout,translation", "translation,cutout")),
    ApiCase("runner-infinite-z-scale", lambda tmp, a: _runner(_edited_tflite(tmp, scale=float("inf"))), ValueError,
            ("z", "quantization scale")),
]
CLASS = {"fit-unbatched-dataset": "messages", "fit-array-without-channels": "messages",
         "generate-batch-size-0": "messages", "generate-batch-size-float": "messages",
         "generate-10-to-the-10": "memory", "features-truncated": "messages", "features-not-there": "messages",
         "download-offline": "downloads", "config-flag-not-applying": "flags that do nothing",
         "runner-infinite-z-scale": "tracebacks", "wgan-conditional-generator-plain-critic": "silent harm",
         "wgan-augment-not-a-policy": "messages"}


def _wgan_of(critic, num_classes, **kwargs):
    import wgan_keras as wk
    generator = wk.DCGANGenerator(8, (28, 28, 1), base_filters=4, num_classes=num_classes)
    return wk.WGAN(critic or wk.DCGANCritic((28, 28, 1), base_filters=4), generator, **kwargs)


@pytest.mark.parametrize("case", API_CASES, ids=[c.id for c in API_CASES])
def test_library_call_raises_one_line_and_changes_nothing(case, assets, tmp_path):
    before = snapshot(tmp_path, assets["root"])
    with pytest.raises(case.raises) as error:
        case.call(tmp_path, assets)
    message = str(error.value)
    assert "\n" not in message and all(word in message for word in case.words), message
    after = snapshot(tmp_path, assets["root"])
    assert {p: after.get(p) for p in before} == before


def test_every_case_has_a_class():
    assert set(CLASS) == {c.id for c in API_CASES}


_INT8_IO = {}


def _edited_tflite(tmp, scale=None, zero_point=None):
    """An int8-z export of a tiny generator whose z quantization is edited (as a hand-tuned or foreign
    converter may leave it): a zero point of 200 or a huge scale makes XNNPACK refuse to prepare."""
    if not _INT8_IO:
        from wgan_export import convert
        from wgan_keras.models import DCGANGenerator
        _INT8_IO["bytes"] = convert.convert(DCGANGenerator(4, (28, 28, 1), base_filters=4), "int8", int8_io=True)
    path = tmp / "edited.tflite"
    path.write_bytes(edit_quantization(_INT8_IO["bytes"], "inputs", scale=scale, zero_point=zero_point))
    return path


def _runner(path):
    from wgan_edge.runner import TFLiteGenerator
    return TFLiteGenerator(str(path))


# --------------------------------------------------------------------------- inputs that must now work
@pytest.mark.parametrize("edit", [dict(zero_point=200), dict(scale=1e10)], ids=["zero-point-200", "scale-1e10"])
def test_z_quantization_xnnpack_refuses_still_samples(tmp_path, edit):
    """tracebacks: XNNPACK refuses (zero point 200: RuntimeError) or crashes on (scale 1e10: a double free)
    such a z; wgan-sample runs the model with LiteRT's own kernels instead (a process: LiteRT may abort)."""
    path = _edited_tflite(tmp_path, **edit)
    out = tmp_path / "grid.png"
    r = subprocess.run([sys.executable, "-m", "wgan_edge.sample", "--model", str(path), "--num", "4", "--out",
                        str(out)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0 and "Traceback" not in r.stderr, r.stderr
    assert Image.open(out).size[0] > 28


def test_augment_as_a_list_of_transforms_is_its_policy():
    """legitimate input: augment=['translation', 'cutout'] (was TypeError: unhashable type: 'list')."""
    assert _wgan_of(None, None, augment=["translation", "cutout"]).augment == "translation,cutout"
    assert _wgan_of(None, None, augment=()).augment is None


def test_numpy_scalars_are_numbers_everywhere(assets):
    """legitimate input: numpy scalars where Python numbers are taken."""
    import wgan_keras as wk
    config = TrainConfig(ema_decay=np.float32(0.99), n_critic=np.int64(5), batch_size=np.int32(64),
                         clip_value=np.float64(0.02), download=np.bool_(False)).validate()
    assert json.loads(json.dumps(config.to_dict()))["n_critic"] == 5
    generator = wk.DCGANGenerator(latent_dim=np.int64(8), image_shape=(28, 28, 1), base_filters=np.int64(4))
    critic = wk.DCGANCritic((28, 28, 1), base_filters=np.int32(4))
    gan = wk.WGAN(critic, generator, n_critic=np.int64(3), clip_value=np.float32(0.02), gp_weight=np.float32(5),
                  seed=np.int64(1), ema_decay=np.float32(0.99))
    assert gan.ema_decay == pytest.approx(0.99) and type(gan.ema_decay) is float
    assert gan.generate(np.int64(3), seed=np.int64(0), batch_size=np.int64(2)).shape == (3, 28, 28, 1)
    assert wk.MLPGenerator(np.int64(2), (np.int64(2),), (np.int64(8),) * 3).get_config()["latent_dim"] == 2


def _png(image, **kw):
    buffer = io.BytesIO()
    image.save(buffer, "PNG" if not kw.pop("jpeg", False) else "JPEG", **kw)
    return buffer.getvalue()


@pytest.mark.parametrize("channels", [1, 3])
def test_odd_image_modes_are_converted_quietly(tmp_path, capfd, channels):
    """legitimate input: CMYK JPEG, grey+alpha, palette, 16-bit grey, 1-bit PNG, each like its RGB look."""
    from wgan_keras.data import load_folder
    ramp = np.linspace(0, 160, 40 * 36).reshape(40, 36)  # smooth, mean 80: a mode read wrong shows
    rgb = Image.fromarray(np.stack([ramp, ramp * 0.5, 255 - ramp], -1).astype(np.uint8))
    files = {"cmyk.jpg": _png(rgb.convert("CMYK"), jpeg=True), "la.png": _png(rgb.convert("LA")),
             "p.png": _png(rgb.convert("P")), "i16.png": _png(Image.fromarray(
                 np.asarray(rgb.convert("L"), np.uint16) * 257)), "bw.png": _png(rgb.convert("1"))}
    folder = tmp_path / "pics"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    images = load_folder(str(folder), 32, channels)
    assert images.shape == (5, 32, 32, channels)
    err = capfd.readouterr().err
    assert "color conversion" not in err and "skipped" not in err, err  # libjpeg's own line, our warning
    expected = np.asarray(rgb.convert("L") if channels == 1 else rgb, float)[2:38].mean()  # the centre square
    ours = images.reshape(5, -1).mean(axis=1)  # cmyk, grey+alpha, palette, 16-bit and 1-bit (dithered) alike
    assert np.allclose(ours, expected, atol=8 if channels == 1 else 40), (ours, expected)


def test_metrics_row_cut_by_a_crash_is_dropped_and_the_run_goes_on(assets, tmp_path):
    """legitimate input: the last metrics.csv row was cut mid-write; a resume drops it and logs on."""
    work = copy_run(tmp_path, assets, metrics=lambda b: b + b"1,3,6,0.1")
    train(TrainConfig(**TINY, generator_iters=4), str(work), verbose=0)
    rows = (work / "metrics.csv").read_text().splitlines()
    assert [int(r.split(",")[1]) for r in rows[1:]] == [1, 2, 3, 4]


def test_unknown_unset_config_field_is_kept_and_flags_from_presets_pass(assets, tmp_path):
    """silent harm: a newer version's unset field survives the rewrite; a preset's values are not 'given'."""
    work = copy_run(tmp_path, assets, config=lambda c: c.update(future_setting=None))
    train(TrainConfig(**TINY, generator_iters=3), str(work), verbose=0)
    assert "future_setting" in json.loads((work / "config.json").read_text())
    TrainConfig.from_preset("fast", dataset="ring8").validate()  # base_filters 32 is the preset's, not the user's


def _child(code, *args, env=None, limit_as=None):
    def preexec():
        if limit_as:
            import resource
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    return subprocess.Popen([sys.executable, "-c", code, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=preexec)


def test_temp_folder_of_a_killed_process_is_reclaimed(tmp_path):
    """temporaries: SIGKILL right after the folder is made: its name says whose it is, so it is removed;
    a look-alike without an owner stays."""
    code = ("import os, sys; from wgan_edge import atomic; atomic._make_temp_dir(sys.argv[1], 'g.tflite');"
            "os.kill(os.getpid(), 9)")
    _child(code, str(tmp_path)).wait(timeout=60)
    (tmp_path / (atomic.PREFIX + "users-own")).mkdir()
    assert len(os.listdir(tmp_path)) == 2
    with atomic.temp_folder("tflite", parent=str(tmp_path)) as scratch:
        assert os.path.isdir(scratch)
    assert os.listdir(tmp_path) == [atomic.PREFIX + "users-own"]


def test_address_space_limit_is_read(tmp_path):
    """memory: the limit `ulimit -v` sets is what the batch check compares with (a process of its own)."""
    code = ("import importlib.util as u; s = u.spec_from_file_location('m', 'wgan_keras/memory.py');"
            "m = u.module_from_spec(s); s.loader.exec_module(m); print(m._address_space_left())")
    out = _child(code, limit_as=1 << 30).communicate(timeout=60)[0]
    assert 0 < int(out) < 1 << 30


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_during_export_leaves_no_temporaries(assets, tmp_path, signum):
    """temporaries: SIGTERM or Ctrl-C while the converter works: one line, nothing written, TMPDIR clean."""
    scratch = tmp_path / "tmpdir"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch), TF_CPP_MIN_LOG_LEVEL="3")
    out = tmp_path / "g.tflite"
    p = subprocess.Popen([sys.executable, "-m", "wgan_export.main", "--checkpoint", str(assets["checkpoint"]),
                          "--out", str(out), "--quantize", "int8"], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while not any("tflite" in n for n in os.listdir(scratch)) and p.poll() is None and time.time() < deadline:
        time.sleep(0.02)
    p.send_signal(signum)
    err = p.communicate(timeout=120)[1]
    ours = [line for line in err.splitlines() if line.startswith("wgan-export")]
    assert p.returncode == 128 + signum and ours == ["wgan-export: error: interrupted; nothing was written"], err
    assert os.listdir(scratch) == [] and not os.path.exists(out) and "Traceback" not in err


def test_sigterm_during_training_saves_and_says_how_to_resume(assets, tmp_path, monkeypatch, capsys):
    """temporaries / silent harm: SIGTERM (preemption) mid-run saves the iteration reached, like Ctrl-C."""
    work = copy_run(tmp_path, assets)

    class Term(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if int(self.model.generator_iterations.numpy()) == 3:
                os.kill(os.getpid(), signal.SIGTERM)
    import wgan_keras.train as t
    real = t.run_callbacks.make_callbacks

    def callbacks(*args):
        *head, ours = real(*args)
        return (*head, [Term(), *ours])
    monkeypatch.setattr(t.run_callbacks, "make_callbacks", callbacks)
    with pytest.raises(t.Interrupted, match="interrupted at generator iteration 3; saved checkpoint.keras"):
        train(TrainConfig(**TINY, generator_iters=4), str(work), verbose=0)
    assert int(keras.saving.load_model(work / "checkpoint.keras").generator_iterations.numpy()) == 3
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL and not leftovers(work)

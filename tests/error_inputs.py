"""Command lines of the error table (tests/error_cases.py): argv builders over the case's empty folder `tmp` and
the assets that tests/error_contract_test.py builds once (a finished tiny run, one with a generator EMA, and
broken files derived from them). In strings, "{tmp}" is the case's folder and "{NAME}" an asset's path."""
import json
import os
import shutil

import numpy as np

from wgan_edge.png import encode_png
from wgan_keras.config import TrainConfig

# The tiny run every train case resumes or restarts (mnist_4k, m=400, n_critic=2: 5 steps per epoch).
TINY = dict(base_filters=8, latent_dim=8, batch_size=400, n_critic=2, sample_every=2, checkpoint_every=2,
            log_every=1)
TRAIN_ARGS = [f"--{k}={v}" for k, v in TINY.items()] + ["--generator_iters=4"]


EMA_TINY = dict(TINY, ema_decay=0.9)  # the run with a generator EMA ("ema_run")
EMA_ARGS = [*TRAIN_ARGS, "--ema_decay=0.9"]
PNG = encode_png(np.zeros((8, 8, 1), np.uint8))


def fill(flags, tmp, assets):
    return [f.format(**{k: str(v) for k, v in assets.items()}, tmp=tmp) for f in flags]


def T(*flags):
    """wgan-train argv: the tiny run's flags, then `flags` (later flags win), in a fresh workdir."""
    return lambda tmp, a: [*TRAIN_ARGS, f"--workdir={tmp / 'w'}", *fill(flags, tmp, a)]


def foreign(tmp, a):
    """A folder of the user's own that happens to hold a checkpoint.keras, as --workdir."""
    (tmp / "mine").mkdir()
    (tmp / "mine" / "checkpoint.keras").write_bytes(b"mine")
    return T(f"--workdir={tmp / 'mine'}")(tmp, a)


def on_copy(*flags, checkpoint=None, config=None, damage=None):
    """wgan-train argv on a copy of the finished tiny run, optionally with checkpoint.keras (bytes, or a
    callable of the assets) or config.json (text, or a function editing its dict) replaced, or `damage`
    (a function of the copy's folder) done to it."""
    def argv(tmp, a):
        work = tmp / "work"
        shutil.copytree(a["run"], work)
        if checkpoint is not None:
            (work / "checkpoint.keras").write_bytes(checkpoint(a) if callable(checkpoint) else checkpoint)
        if callable(config):
            values = json.loads((work / "config.json").read_text())
            config(values)
            (work / "config.json").write_text(json.dumps(values))
        elif config is not None:
            (work / "config.json").write_text(config)
        if damage is not None:
            damage(work)
        return [*TRAIN_ARGS, f"--workdir={work}", *flags]
    return argv


def folder(files, *flags):
    """wgan-train argv on a folder of `files` ({name: bytes}; a name ending in "/" is an empty sub-folder)
    as --images."""
    def argv(tmp, a):
        (tmp / "pics").mkdir()
        for name, content in files.items():
            path = tmp / "pics" / name
            path.mkdir() if name.endswith("/") else path.write_bytes(content)
        return T(f"--images={tmp / 'pics'}", *flags)(tmp, a)
    return argv


def E(*flags):
    return (*flags, "--fidelity_samples", "2")


def in_the_way(name, shape, *flags):
    """wgan-export argv with --overwrite whose destination `name` is something of the user's: "file" (their
    bytes), "folder" (holding their notes) or "link" (a symbolic link to their file). Refused whatever the
    shape, before anything is written: --overwrite replaces only what wgan-export wrote."""
    def argv(tmp, a):
        target = tmp / name
        (tmp / "mine.txt").write_bytes(b"the user's own")
        if shape == "file":
            target.write_bytes(b"the user's own")
        elif shape == "folder":
            target.mkdir()
            (target / "notes.txt").write_bytes(b"the user's own")
        else:
            target.symlink_to(tmp / "mine.txt")
        return fill(E("--checkpoint={checkpoint}", "--overwrite", *flags), tmp, a)
    return argv


def renamed_class(before, after):
    """wgan-train argv resuming a conditional --images run (its config.json and classes.json, no checkpoint yet)
    on class folders now named `after`: a renamed folder shifts the labels."""
    def argv(tmp, a):
        from wgan_keras.main import configs
        for name in after:
            (tmp / "pics" / name).mkdir(parents=True)
            for i in range(4):
                (tmp / "pics" / name / f"{i}.png").write_bytes(PNG)
        flags = T(f"--images={tmp / 'pics'}", "--conditional", "--image_size=28", "--batch_size=2",
                  "--n_critic=1")(tmp, a)
        (tmp / "w").mkdir()
        (tmp / "w" / "config.json").write_text(json.dumps(configs(flags)[1].to_dict()))
        (tmp / "w" / "classes.json").write_text(json.dumps({"classes": list(before)}))
        return flags
    return argv


def beside(meta, model="tflite"):
    """wgan-sample argv on a copy of the tiny .tflite (`model`: an asset, with its metadata asset "<model>_json")
    beside its <stem>.json: the true metadata edited by `meta` (a function of its dict), or "fifo" (a named
    pipe)."""
    def argv(tmp, a):
        shutil.copy(a[model], tmp / "g.tflite")
        if meta == "fifo":
            os.mkfifo(tmp / "g.json")
        else:
            (tmp / "g.json").write_text(json.dumps(meta(json.loads(a[model + "_json"].read_text()))))
        return [f"--model={tmp / 'g.tflite'}", f"--out={tmp / 'x.png'}"]
    return argv


def TOY(*flags):
    """wgan-train argv for a 2-D toy run, in a fresh workdir."""
    return lambda tmp, a: ["--generator_iters=2", "--mlp_units=8", "--latent_dim=2", f"--workdir={tmp / 'w'}",
                           *fill(flags, tmp, a)]


def on_ema_copy(*flags, checkpoint=None, config=None, drop=()):
    """wgan-train argv on a copy of the tiny run with a generator EMA: checkpoint.keras replaced by the asset
    `checkpoint`, config.json's dict edited by `config`, flags starting with one of `drop` left out."""
    def argv(tmp, a):
        work = tmp / "work"
        shutil.copytree(a["ema_run"], work)
        if checkpoint is not None:
            shutil.copy(a[checkpoint], work / "checkpoint.keras")
        if config is not None:
            values = json.loads((work / "config.json").read_text())
            config(values)
            (work / "config.json").write_text(json.dumps(values))
        return [f for f in [*EMA_ARGS, f"--workdir={work}", *flags] if not any(f.startswith(d) for d in drop)]
    return argv


def fast_preset_config(tmp, a):
    """A workdir started with --preset fast and --n_critic 3: not every preset value holds any more."""
    work = tmp / "fastrun"
    work.mkdir()
    values = TrainConfig.from_preset("fast", **{**EMA_TINY, "n_critic": 3}).to_dict()
    (work / "config.json").write_text(json.dumps(values))
    return [*EMA_ARGS, f"--workdir={work}"]


def typed_model(outputs):
    """wgan-sample argv on a .tflite with the right `generate` signature but the wrong types: `outputs` is
    "int32 z", "not images" or "float pixels"."""
    def argv(tmp, a):
        import tensorflow as tf
        fn, dtype = {"int32 z": (lambda z: {"images": tf.zeros([1, 8, 8, 1]) + tf.cast(z[0, 0], tf.float32)},
                                 tf.int32),
                     "not images": (lambda z: {"images": z * 2.0}, tf.float32),
                     "float pixels": (lambda z: {"pixels": tf.zeros([1, 8, 8, 1]) + z[0, 0]}, tf.float32)}[outputs]
        module = tf.Module()
        module.generate = tf.function(fn, input_signature=[tf.TensorSpec([1, 4], dtype, name="z")])
        tf.saved_model.save(module, str(tmp / "sm"), signatures={"generate": module.generate.get_concrete_function()})
        model = tf.lite.TFLiteConverter.from_saved_model(str(tmp / "sm"), signature_keys=["generate"]).convert()
        (tmp / "m.tflite").write_bytes(model)
        return [f"--model={tmp / 'm.tflite'}", f"--out={tmp / 'g.png'}"]
    return argv

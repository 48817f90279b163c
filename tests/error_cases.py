"""The error contract of wgan-train, wgan-export and wgan-sample, as one table (issue 23).

Every case ends in exit status `code` (2 for bad input, 1 for divergence, 130 for Ctrl-C), exactly one
non-empty stderr line `<tool>: error: ...` holding every one of `words`, no traceback, every file that
existed before byte-identical afterwards and no atomic temporary left (tests/error_contract_test.py).
Cases run in-process through the console entry points (a TensorFlow start-up per case would cost
minutes); `process=True` runs one as `python -m <module>` with stderr on a pseudo-terminal, as a user
sees it (TensorFlow's C++ lines included): one such case per command, and every case with `env`.

argv is a tuple of strings or a callable (tmp, assets) -> list. In strings, "{tmp}" is the case's empty
folder and "{NAME}" an asset built once by `error_contract_test.assets` (a finished tiny run and
broken files derived from it: run, checkpoint, truncated_keras, random_keras, empty_keras,
generator_keras, dense_keras, lambda_keras, tflite, truncated_tflite, random_tflite, empty_tflite,
saved_model, random_saved_model, regular_file, root). /work/notes/error_table.md describes the format.
"""
import dataclasses
import shutil

import numpy as np
from error_faults import data, enospc_in_saved_model, enospc_in_write_bytes, enospc_on_checkpoint, nan_batches

from wgan_edge.png import encode_png

# The tiny run every train case resumes or restarts (mnist_4k, m=400, n_critic=2: 5 steps per epoch).
TINY = dict(base_filters=8, latent_dim=8, batch_size=400, n_critic=2, sample_every=2, checkpoint_every=2,
            log_every=1)
TRAIN_ARGS = [f"--{k}={v}" for k, v in TINY.items()] + ["--generator_iters=4"]


@dataclasses.dataclass(frozen=True)
class Case:
    id: str                   # "<train|export|sample|...>-<what>"
    tool: str                 # wgan-train | wgan-export | wgan-sample
    argv: object              # tuple of strings ("{tmp}", "{asset}") or (tmp, assets) -> list
    words: tuple = ()         # all in the one stderr line
    code: int = 2
    env: dict = None          # extra environment: always a real process
    patch: object = None      # (monkeypatch) -> None: a fault injected in-process
    process: bool = False     # a real process, stderr on a pseudo-terminal
    xfail: str = None

    def args(self, tmp, assets):
        if callable(self.argv):
            return [str(a) for a in self.argv(tmp, assets)]
        return _fill(self.argv, tmp, assets)


def _fill(flags, tmp, assets):
    return [f.format(**{k: str(v) for k, v in assets.items()}, tmp=tmp) for f in flags]


def T(*flags):
    """wgan-train argv: the tiny run's flags, then `flags` (later flags win), in a fresh workdir."""
    return lambda tmp, a: [*TRAIN_ARGS, f"--workdir={tmp / 'w'}", *_fill(flags, tmp, a)]


def foreign(tmp, a):
    """A folder of the user's own that happens to hold a checkpoint.keras, as --workdir."""
    (tmp / "mine").mkdir()
    (tmp / "mine" / "checkpoint.keras").write_bytes(b"mine")
    return T(f"--workdir={tmp / 'mine'}")(tmp, a)


def on_copy(*flags, checkpoint=None, config=None):
    """wgan-train argv on a copy of the finished tiny run, optionally with checkpoint.keras (bytes, or a
    callable of the assets) or config.json (text) replaced."""
    def argv(tmp, a):
        work = tmp / "work"
        shutil.copytree(a["run"], work)
        if checkpoint is not None:
            (work / "checkpoint.keras").write_bytes(checkpoint(a) if callable(checkpoint) else checkpoint)
        if config is not None:
            (work / "config.json").write_text(config)
        return [*TRAIN_ARGS, f"--workdir={work}", *flags]
    return argv


def folder(files, *flags):
    """wgan-train argv on a folder of `files` ({name: bytes}) as --images."""
    def argv(tmp, a):
        (tmp / "pics").mkdir()
        for name, content in files.items():
            (tmp / "pics" / name).write_bytes(content)
        return T(f"--images={tmp / 'pics'}", *flags)(tmp, a)
    return argv


def E(*flags):
    return (*flags, "--fidelity_samples", "2")


PNG = encode_png(np.zeros((8, 8, 1), np.uint8))
OUT = "--out={tmp}/x.tflite"
GRID = "--out={tmp}/x.png"

CASES = [
    # ---- flags, checked before TensorFlow loads (tests/startup_test.py: it is not even imported)
    Case("train-n_critic-0", "wgan-train", T("--n_critic=0"), ("n_critic=0",)),
    Case("train-n_critic-not-int", "wgan-train", T("--n_critic=three"), ("n_critic",)),
    Case("train-lr-0", "wgan-train", T("--learning_rate=0"), ("learning_rate=0.0",)),
    Case("train-lr-negative", "wgan-train", T("--learning_rate=-1e-4"), ("learning_rate=-0.0001",)),
    Case("train-lr-nan", "wgan-train", T("--learning_rate=nan"), ("learning_rate=nan",)),
    Case("train-clip-0", "wgan-train", T("--clip_value=0"), ("clip_value=0.0",)),
    Case("train-clip-inf", "wgan-train", T("--clip_value=inf"), ("clip_value=inf",)),
    Case("train-gp-weight-negative", "wgan-train", T("--gp_weight=-1"), ("gp_weight=-1.0",)),
    Case("train-adam-beta1-1", "wgan-train", T("--adam_beta1=1"), ("adam_beta1=1.0",)),
    Case("train-latent-1e9", "wgan-train", T("--latent_dim=1000000000"), ("latent_dim=1000000000",)),
    Case("train-batch-negative", "wgan-train", T("--batch_size=-1"), ("batch_size=-1",)),
    Case("train-filters-negative", "wgan-train", T("--base_filters=-8"), ("base_filters=-8",)),
    Case("train-image-size-30", "wgan-train", T("--image_size=30"), ("image_size=30",)),
    Case("train-epochs-0", "wgan-train", T("--epochs=0"), ("epochs=0",)),
    Case("train-checkpoint-every-0", "wgan-train", T("--checkpoint_every=0"), ("checkpoint_every=0",)),
    Case("train-seed-negative", "wgan-train", T("--seed=-1"), ("--seed=-1",)),
    Case("train-lipschitz-unknown", "wgan-train", T("--lipschitz=l2"), ("--lipschitz", "l2")),
    Case("train-architecture-unknown", "wgan-train", T("--architecture=vit"), ("architecture='vit'",)),
    Case("train-lr-decay-unknown", "wgan-train", T("--lr_decay=cosine"), ("lr_decay='cosine'",)),
    Case("train-preset-unknown", "wgan-train", T("--preset=nope"), ("preset='nope'",)),
    Case("train-dataset-not-a-name", "wgan-train", T("--dataset=mnïst"), ("dataset='mnïst'", "TFDS")),
    Case("train-unknown-flag", "wgan-train", T("--learning_rat=0.1"), ("learning_rat",)),
    Case("train-positional-arg", "wgan-train", T("extra"), ("unexpected arguments",)),
    Case("train-toy-with-image-size", "wgan-train", T("--dataset=ring8", "--image_size=28"), ("image_size",)),
    Case("train-images-and-dataset", "wgan-train", T("--images={tmp}", "--dataset=mnist_4k"),
         ("--images", "dataset")),
    Case("train-workdir-empty", "wgan-train", T("--workdir="), ("--workdir",)),
    Case("train-keras-backend-unknown", "wgan-train", T(), ("KERAS_BACKEND='jaxx'", "jax"),
         env={"KERAS_BACKEND": "jaxx"}),
    # ---- bad data: rank, shape, dtype, NaN/Inf, empty (injected as a custom loader's array)
    Case("data-rank-3", "wgan-train", T(), ("shape (5, 28, 28)",), patch=data(np.zeros((5, 28, 28), np.uint8))),
    Case("data-rank-1", "wgan-train", T(), ("shape (5,)",), patch=data(np.zeros(5, np.float32))),
    Case("data-2-channels", "wgan-train", T(), ("channels",), patch=data(np.zeros((5, 28, 28, 2), np.uint8))),
    Case("data-float-images", "wgan-train", T(), ("uint8",), patch=data(np.zeros((5, 28, 28, 1), np.float64))),
    Case("data-nan-points", "wgan-train", T(), ("NaN/Inf",), patch=data(np.array([[0.0, np.nan]] * 4000, np.float32))),
    Case("data-inf-points", "wgan-train", T(), ("NaN/Inf",), patch=data(np.array([[np.inf, 0.0]] * 4000, np.float32))),
    Case("data-empty", "wgan-train", T(), ("empty",), patch=data(np.zeros((0, 28, 28, 1), np.uint8))),
    Case("data-too-few", "wgan-train", T(), ("fewer than one step",), patch=data(np.zeros((3, 28, 28, 1), np.uint8))),
    Case("data-image-size-30", "wgan-train", T(), ("30",), patch=data(np.zeros((4000, 30, 30, 1), np.uint8))),
    # ---- image folders
    Case("folder-empty", "wgan-train", folder({}), ("holds no",)),
    Case("folder-no-images", "wgan-train", folder({"a.txt": b"x"}), ("holds no",)),
    Case("folder-only-corrupt", "wgan-train", folder({"a.jpg": b"nope", "b.png": PNG[:50]}), ("none of its 2",)),
    Case("folder-is-a-file", "wgan-train", T("--images={regular_file}"), ("not a directory",)),
    # ---- workdirs
    Case("workdir-under-a-file", "wgan-train", T("--workdir={regular_file}/sub"), ("file.txt",)),
    Case("workdir-is-a-file", "wgan-train", T("--workdir={regular_file}"), ("file.txt",)),
    Case("workdir-in-proc", "wgan-train", T("--workdir=/proc/wgan-run"), ("/proc/wgan-run",)),
    Case("workdir-foreign", "wgan-train", foreign, ("no config.json",)),
    Case("workdir-config-not-json", "wgan-train", on_copy(config="{not json"), ("config.json",)),
    Case("workdir-config-a-list", "wgan-train", on_copy(config="[1, 2]"), ("config.json",)),
    Case("workdir-other-config", "wgan-train", on_copy("--latent_dim=9"), ("different config", "latent_dim 8 vs 9")),
    Case("workdir-other-upsampling", "wgan-train", on_copy("--upsample=resize"),
         ("different config: upsample 'transpose' vs 'resize'",)),
    # a flag the run's networks would ignore is refused before the workdir is compared (config.APPLIES)
    Case("workdir-mlp-with-dcgan-width", "wgan-train", on_copy("--architecture=mlp"),
         ("--base_filters=8", "does not apply to --architecture mlp")),
    # ---- broken checkpoints in the workdir (resume)
    Case("ckpt-truncated", "wgan-train", on_copy(checkpoint=lambda a: a["truncated_keras"].read_bytes()),
         ("cannot be loaded",)),
    Case("ckpt-random-bytes", "wgan-train", on_copy(checkpoint=lambda a: a["random_keras"].read_bytes()),
         ("cannot be loaded",), process=True),
    Case("ckpt-empty", "wgan-train", on_copy(checkpoint=b""), ("cannot be loaded",)),
    Case("ckpt-lambda", "wgan-train", on_copy(checkpoint=lambda a: a["lambda_keras"].read_bytes()),
         ("cannot be loaded",)),
    Case("ckpt-other-class", "wgan-train", on_copy(checkpoint=lambda a: a["generator_keras"].read_bytes()),
         ("checkpoint.keras",)),
    # ---- faults while training: full disk during the checkpoint write, NaN losses
    Case("ckpt-write-enospc", "wgan-train", on_copy(), ("No space left on device",), patch=enospc_on_checkpoint),
    Case("losses-nan", "wgan-train", on_copy(), ("kept the last good",), patch=nan_batches, code=1),
    # ---- wgan-export
    Case("export-missing", "wgan-export", E("--checkpoint={root}/nope.keras", OUT), ("not found",)),
    Case("export-truncated-keras", "wgan-export", E("--checkpoint={truncated_keras}", OUT), ("cannot load",)),
    Case("export-random-keras", "wgan-export", E("--checkpoint={random_keras}", OUT), ("cannot load",)),
    Case("export-empty-keras", "wgan-export", E("--checkpoint={empty_keras}", OUT), ("cannot load",)),
    Case("export-lambda-keras", "wgan-export", E("--checkpoint={lambda_keras}", OUT), ("cannot load",), process=True),
    Case("export-other-class", "wgan-export", E("--checkpoint={dense_keras}", OUT), ("not images",)),
    Case("export-tflite-as-checkpoint", "wgan-export", E("--checkpoint={tflite}", OUT), ("cannot load",)),
    Case("export-saved-model-dir", "wgan-export", E("--checkpoint={saved_model}", OUT), ("not found",)),
    Case("export-saved-model-pb", "wgan-export", E("--checkpoint={saved_model}/saved_model.pb", OUT),
         ("cannot load",)),
    Case("export-batch-negative", "wgan-export", E("--checkpoint={checkpoint}", "--batch_size=-2", OUT),
         ("batch_size",)),
    Case("export-batch-not-int", "wgan-export", E("--checkpoint={checkpoint}", "--batch_size=two", OUT),
         ("batch_size",)),
    Case("export-out-exists", "wgan-export", E("--checkpoint={checkpoint}", "--out={regular_file}"),
         ("exists", "--overwrite")),
    Case("export-out-under-a-file", "wgan-export", E("--checkpoint={checkpoint}", "--out={regular_file}/g.tflite"),
         ("file.txt",)),
    Case("export-keras-backend-unknown", "wgan-export", E("--checkpoint={checkpoint}", OUT), ("KERAS_BACKEND='jaxx'",),
         env={"KERAS_BACKEND": "jaxx"}),
    Case("export-tflite-enospc", "wgan-export", E("--checkpoint={checkpoint}", "--out={tflite}", "--overwrite"),
         ("No space left on device",), patch=enospc_in_write_bytes),
    Case("export-saved-model-enospc", "wgan-export",
         E("--checkpoint={checkpoint}", "--format=saved_model", "--out={saved_model}", "--overwrite"),
         ("No space left on device",), patch=enospc_in_saved_model),
    # ---- wgan-sample (LiteRT parses the hostile bytes; one case as a real process)
    Case("sample-truncated-tflite", "wgan-sample", ("--model={truncated_tflite}", GRID), ("cannot load",)),
    Case("sample-random-tflite", "wgan-sample", ("--model={random_tflite}", GRID), ("cannot load",), process=True),
    Case("sample-empty-tflite", "wgan-sample", ("--model={empty_tflite}", GRID)),
    Case("sample-missing", "wgan-sample", ("--model={tmp}/nope.tflite", GRID), ("not found",)),
    Case("sample-keras-checkpoint", "wgan-sample", ("--model={checkpoint}", GRID),
         ("Keras checkpoint", "wgan-export --checkpoint")),
    Case("sample-saved-model-dir", "wgan-sample", ("--model={saved_model}", GRID), ("SavedModel folder", ".tflite")),
    Case("sample-saved-model-pb", "wgan-sample", ("--model={random_saved_model}/saved_model.pb", GRID),
         ("cannot load",)),
    Case("sample-num-0", "wgan-sample", ("--model={tflite}", "--num=0", GRID), ("--num=0",)),
    Case("sample-num-negative", "wgan-sample", ("--model={tflite}", "--num=-3", GRID), ("--num=-3",)),
    Case("sample-num-not-int", "wgan-sample", ("--model={tflite}", "--num=lots", GRID), ("num",)),
    Case("sample-num-expression", "wgan-sample", ("--model={tflite}", "--num", "10**9", GRID), ("num",)),
    Case("sample-columns-negative", "wgan-sample", ("--model={tflite}", "--columns=-1", GRID), ("columns",)),
    Case("sample-out-exists", "wgan-sample", ("--model={tflite}", "--out={regular_file}"), ("exists",)),
    Case("sample-out-under-a-file", "wgan-sample", ("--model={tflite}", "--out={regular_file}/x.png"), ("file.txt",)),
]

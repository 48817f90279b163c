"""The error contract of wgan-train, wgan-export and wgan-sample, as one table: every command-level case of bad
input or of a fault, in-process and as a real process.

Every case ends in exit status `code` (2 for bad input, 1 for divergence, 130 for Ctrl-C), exactly one
non-empty stderr line `<tool>: error: ...` holding every one of `words`, no traceback, every file that
existed before byte-identical afterwards and no atomic temporary left (tests/error_contract_test.py runs
them). Cases run in-process through the console entry points (a TensorFlow start-up per case would cost
minutes); `process=True` runs one as `python -m <module>` with stderr on a pseudo-terminal, as a user
sees it (TensorFlow's and LiteRT's C++ lines included): at least one per command, every case with `env`,
and every case that could crash or hang the test process were it to regress. `patch` injects a fault
in-process (tests/error_faults.py). argv is a tuple of strings or a builder (tests/error_inputs.py).
"""
import dataclasses
import shutil

import numpy as np
from error_faults import (
    ctrl_c_on_load,
    data,
    efbig_on_load,
    enospc_in_saved_model,
    enospc_in_write_bytes,
    enospc_on_checkpoint,
    grid_limit,
    nan_batches,
    offline,
    poison_ema_at,
    small_address_space,
    tensorboard_full,
    unreadable_subfolder,
)
from error_inputs import (
    PNG,
    TOY,
    E,
    T,
    beside,
    fast_preset_config,
    fill,
    folder,
    foreign,
    in_the_way,
    on_copy,
    on_ema_copy,
    renamed_class,
    typed_model,
)


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

    def args(self, tmp, assets):
        if callable(self.argv):
            return [str(a) for a in self.argv(tmp, assets)]
        return fill(self.argv, tmp, assets)



OUT_G = "--out={tmp}/g.tflite"
# Every output wgan-export writes: (case name, the file or folder in the way, flags, it is a folder).
OUTPUTS = [("tflite", "g.tflite", (OUT_G,), False),
           ("json", "g.json", (OUT_G,), False),
           ("cc", "g.cc", (OUT_G, "--quantize=full_int8", "--c_array"), False),
           ("h", "g.h", (OUT_G, "--quantize=full_int8", "--c_array"), False),
           ("saved-model", "sm", ("--out={tmp}/sm", "--format=saved_model"), True),
           ("web", "site", ("--out={tmp}/site", "--format=web"), True)]
IN_THE_WAY = {("file", False): "is not a", ("file", True): "is a file, where a folder goes",
              ("folder", False): "is a folder, where a file goes", ("folder", True): "holds notes.txt",
              ("link", False): "is a symbolic link", ("link", True): "is a symbolic link"}

OUT = "--out={tmp}/x.tflite"
GRID = "--out={tmp}/x.png"

CASES = [
    # ---- flags, checked before TensorFlow loads (tests/startup_test.py: it is not even imported)
    Case("train-n_critic-0", "wgan-train", T("--n_critic=0"), ("n_critic=0",)),
    Case("train-n_critic-not-int", "wgan-train", T("--n_critic=three"), ("n_critic",)),
    Case("train-ema-not-number", "wgan-train", T("--ema_decay=off"), ("--ema_decay", "a number or none", "'off'")),
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
    Case("train-download-offline", "wgan-train", T("--dataset=mnist", "--download", "--data_dir={tmp}/tfds"),
         ("--download=True", "storage.googleapis.com", "offline"), patch=offline),  # TFDS retried for minutes
    # ---- a run with a generator EMA: silent harm with exit 0
    Case("train-ema-nan-mid-run", "wgan-train", on_ema_copy(), ("ema_generator", "NaN/Inf", "kept the last good"),
         code=1, patch=poison_ema_at(3)),
    Case("train-ema-nan-in-checkpoint", "wgan-train", on_ema_copy(checkpoint="nan_ema_keras"), ("NaN/Inf",
                                                                                          "ema_generator")),
    # A field a newer version wrote ("label_smoothing" is not one of ours), set: refused, not dropped.
    Case("train-config-unknown-field-set", "wgan-train", on_ema_copy(config=lambda c: c.update(label_smoothing=0.1)),
         ("label_smoothing=0.1", "does not know")),
    Case("train-config-no-ema-checkpoint-ema", "wgan-train",
         on_ema_copy(config=lambda c: c.update(ema_decay=None), drop=("--ema_decay",)), ("ema_decay=0.9", "None")),
    Case("train-config-lr-edited", "wgan-train", on_ema_copy("--learning_rate=0.001",
                                                         config=lambda c: c.update(learning_rate=1e-3)),
         ("learning_rate", "0.001")),
    # ---- flags that do nothing (wgan_keras.config.APPLIES)
    Case("train-upsample-on-toy", "wgan-train", TOY("--dataset=ring8", "--upsample=resize"), ("upsample", "2-D toy")),
    Case("train-base-filters-on-toy", "wgan-train", TOY("--dataset=grid25", "--base_filters=16"), ("base_filters",)),
    Case("train-upsample-with-mlp", "wgan-train", T("--architecture=mlp", "--upsample=resize"),
         ("upsample", "--architecture mlp")),
    Case("train-mlp-units-on-dcgan", "wgan-train", T("--mlp_units=64"), ("mlp_units", "dcgan")),
    Case("train-data-dir-on-bundled", "wgan-train", T("--data_dir=/tmp"), ("data_dir", "TFDS")),
    Case("train-download-on-toy", "wgan-train", TOY("--dataset=swissroll", "--download"), ("download", "TFDS")),
    Case("train-gp-weight-with-clip", "wgan-train", T("--gp_weight=5"), ("gp_weight", "--lipschitz clip")),
    Case("train-clip-value-with-gp", "wgan-train", T("--lipschitz=gp", "--clip_value=0.05"), ("clip_value", "gp")),
    Case("train-beta1-with-clip", "wgan-train", T("--adam_beta1=0.9"), ("adam_beta1", "RMSProp")),
    Case("train-tfds-version-missing", "wgan-train", T("--dataset=mnist:9.9.9"), ("mnist:9.9.9", "3.0.1")),
    # ---- messages that once did not help; memory
    Case("train-rerun-drops-preset", "wgan-train", fast_preset_config, ("--preset fast",)),
    Case("train-checkpoint-lacks-ema-weights", "wgan-train", on_ema_copy(checkpoint="no_ema_weights_keras"),
         ("lacks the weights of ema_generator",)),
    Case("train-batch-over-ulimit", "wgan-train", T(), ("batch_size=400", "ulimit -v"), patch=small_address_space),
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
    Case("folder-unreadable-subfolder", "wgan-train", folder({"private/": None}), ("could not read", "private"),
         patch=unreadable_subfolder),
    Case("folder-is-a-file", "wgan-train", T("--images={regular_file}"), ("not a directory",)),
    # ---- workdirs
    Case("workdir-under-a-file", "wgan-train", T("--workdir={regular_file}/sub"), ("file.txt",)),
    Case("workdir-is-a-file", "wgan-train", T("--workdir={regular_file}"), ("file.txt",)),
    Case("workdir-in-proc", "wgan-train", T("--workdir=/proc/wgan-run"), ("/proc/wgan-run",)),
    Case("workdir-foreign", "wgan-train", foreign, ("no config.json",)),
    Case("workdir-config-not-json", "wgan-train", on_copy(config="{not json"), ("config.json",)),
    Case("workdir-config-a-list", "wgan-train", on_copy(config="[1, 2]"), ("config.json",)),
    Case("workdir-other-config", "wgan-train", on_copy("--latent_dim=9"), ("different config", "latent_dim 8 vs 9",
                                                                         "that run had --latent_dim 8")),
    Case("workdir-other-upsampling", "wgan-train", on_copy("--upsample=resize"),
         ("different config: upsample 'transpose' vs 'resize'", "that run had --upsample transpose")),
    # a flag the run's networks would ignore is refused before the workdir is compared (config.APPLIES)
    Case("workdir-mlp-with-dcgan-width", "wgan-train", on_copy("--architecture=mlp"),
         ("--base_filters=8", "does not apply to --architecture mlp")),
    Case("workdir-class-folder-renamed", "wgan-train", renamed_class(["cat", "dog"], ["dog", "puppy"]),
         ("label 0 was 'cat', now 'dog'", "new --workdir")),
    Case("workdir-class-folder-added", "wgan-train", renamed_class(["cat", "dog"], ["cat", "dog", "emu"]),
         ("2 classes", "has 3", "label 2 was no class, now 'emu'")),
    Case("workdir-config-contradicts-checkpoint", "wgan-train",
         on_copy("--n_critic=3", config=lambda c: c.update(n_critic=3)), ("n_critic=2", "n_critic")),
    # files we own, edited by a user
    Case("workdir-config-nested-deeply", "wgan-train", on_copy(config="[" * 100_000 + "]" * 100_000),
         ("config.json", "nested")),
    Case("workdir-metrics-foreign", "wgan-train",
         on_copy(damage=lambda w: (w / "metrics.csv").write_text("a,b\n1,2\n")), ("metrics.csv", "move it away")),
    Case("workdir-tensorboard-a-file", "wgan-train", on_copy(damage=lambda w: (
        shutil.rmtree(w / "tensorboard"), (w / "tensorboard").write_text("mine"))), ("tensorboard",)),
    Case("workdir-checkpoint-a-folder", "wgan-train", on_copy(damage=lambda w: (
        (w / "checkpoint.keras").unlink(), (w / "checkpoint.keras").mkdir())), ("checkpoint.keras",)),
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
    Case("train-tensorboard-enospc", "wgan-train", on_copy(), ("ResourceExhaustedError", "No space left"),
         patch=tensorboard_full),
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
    Case("export-batch-1e8", "wgan-export", E("--checkpoint={checkpoint}", "--batch_size=100000000", OUT),
         ("--batch_size=100000000",)),
    Case("export-fidelity-samples-negative", "wgan-export", ("--checkpoint={checkpoint}", "--fidelity_samples=-1", OUT),
         ("--fidelity_samples=-1",)),
    Case("export-load-efbig", "wgan-export", E("--checkpoint={checkpoint}", OUT), ("File too large",),
         patch=efbig_on_load),
    Case("export-ctrl-c", "wgan-export", E("--checkpoint={checkpoint}", OUT), ("interrupted; nothing was written",),
         code=130, patch=ctrl_c_on_load),
    Case("export-out-exists", "wgan-export", E("--checkpoint={checkpoint}", "--out={tflite}"),
         ("exists", "--overwrite")),
    Case("export-out-users-file", "wgan-export", E("--checkpoint={checkpoint}", "--out={regular_file}"),
         ("file.txt", "is not a .tflite", "replaces only what it wrote")),
    Case("export-out-under-a-file", "wgan-export", E("--checkpoint={checkpoint}", "--out={regular_file}/g.tflite"),
         ("file.txt",)),
    Case("export-keras-backend-unknown", "wgan-export", E("--checkpoint={checkpoint}", OUT), ("KERAS_BACKEND='jaxx'",),
         env={"KERAS_BACKEND": "jaxx"}),
    Case("export-tflite-enospc", "wgan-export", E("--checkpoint={checkpoint}", "--out={tflite}", "--overwrite"),
         ("No space left on device",), patch=enospc_in_write_bytes),
    Case("export-saved-model-enospc", "wgan-export",
         E("--checkpoint={checkpoint}", "--format=saved_model", "--out={saved_model}", "--overwrite"),
         ("No space left on device",), patch=enospc_in_saved_model),
    # --overwrite never replaces what wgan-export did not write, nor the folder the user works in
    *[Case(f"export-overwrite-{output}-{shape}", "wgan-export", in_the_way(name, shape, *flags),
           (name, IN_THE_WAY[shape, folder], "replaces only what it wrote"))
      for output, name, flags, folder in OUTPUTS for shape in ("file", "folder", "link")],
    Case("export-overwrite-the-checkpoint", "wgan-export", E("--checkpoint={checkpoint}", "--out={checkpoint}",
                                                             "--overwrite"), ("checkpoint.keras", "is not a .tflite")),
    Case("export-overwrite-the-runs-config", "wgan-export",  # <stem>.json of --out run/config.tflite
         E("--checkpoint={checkpoint}", "--out={run}/config.tflite", "--overwrite"),
         ("config.json", "is not a model metadata file")),
    Case("export-overwrite-checkpoint-folder", "wgan-export",
         E("--checkpoint={checkpoint}", "--format=web", "--out={run}", "--overwrite"), ("holds the checkpoint",)),
    Case("export-overwrite-above-checkpoint", "wgan-export",
         E("--checkpoint={checkpoint}", "--format=saved_model", "--out={root}", "--overwrite"),
         ("holds the checkpoint",)),
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
    Case("sample-grid-over-limit", "wgan-sample", ("--model={tflite}", "--num=4096", "--columns=1", GRID),
         ("--num=4096", "MiB"), patch=grid_limit),
    Case("sample-int32-z", "wgan-sample", typed_model("int32 z"), ("'z' is int32",)),
    Case("sample-outputs-not-images", "wgan-sample", typed_model("not images"), ("not images",)),
    Case("sample-float-pixels", "wgan-sample", typed_model("float pixels"), ("'pixels' is float32",)),
    Case("sample-nan-output-scale", "wgan-sample", ("--model={nan_scale_tflite}", GRID),
         ("quantization scale (nan)", "export it again"), process=True),  # was a SIGSEGV in allocate_tensors
    Case("sample-metadata-fifo", "wgan-sample", beside("fifo"), ("g.json", "not a regular file"), process=True),
    Case("sample-metadata-other-latent", "wgan-sample", beside(lambda m: {**m, "latent_dim": 2 * m["latent_dim"]}),
         ("g.json", "does not match the model", "latent_dim 16 there, 8 in the model")),
    Case("sample-metadata-says-conditional", "wgan-sample", beside(lambda m: {**m, "num_classes": 10}),
         ("g.json", "does not match the model", "conditional")),
    Case("sample-metadata-of-3-classes-beside-10", "wgan-sample",
         beside(lambda m: {**m, "num_classes": 3}, model="conditional_tflite"),
         ("g.json", "does not match the model", "num_classes 3 there, 10 in the model")),
    Case("sample-metadata-10-to-the-12-classes", "wgan-sample", beside(lambda m: {**m, "num_classes": 10**12}),
         ("g.json", "num_classes=1000000000000")),
    Case("sample-out-under-a-file", "wgan-sample", ("--model={tflite}", "--out={regular_file}/x.png"), ("file.txt",)),
]

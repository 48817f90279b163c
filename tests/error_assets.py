"""The assets the error table's cases read (tests/error_cases.py: "{NAME}" in argv, a["NAME"] in builders),
built once per test module: a finished tiny run, one with a generator EMA, and broken files derived from them."""
import json
import os
import zipfile

import keras
import numpy as np
from error_faults import nan_output_scales
from error_inputs import EMA_TINY, TINY

from wgan_export import convert, endpoint
from wgan_keras import DCGANGenerator
from wgan_keras.config import TrainConfig
from wgan_keras.train import train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def build(root):
    """{name: path} of every asset under `root`."""
    return {**tiny_run(root), **ema_run(root)}


def tiny_run(root):
    """One tiny trained run and every broken artefact derived from it."""
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
    model = convert.convert(gan.generator, "float32", batch_size=2)
    a["tflite"] = _write(root / "g.tflite", model)
    a["truncated_tflite"] = _write(root / "truncated.tflite", model[:len(model) // 2])
    a["tflite_json"] = _write(root / "metadata.json", json.dumps(endpoint.metadata(gan.generator, 2)).encode())
    conditional = DCGANGenerator(8, (28, 28, 1), base_filters=4, num_classes=10)
    a["conditional_tflite"] = _write(root / "conditional.tflite", convert.convert(conditional, "float32"))
    a["conditional_tflite_json"] = _write(root / "conditional.json",
                                          json.dumps(endpoint.metadata(conditional, 1)).encode())
    a["nan_scale_tflite"] = _write(root / "nan_scale.tflite",
                                   nan_output_scales(convert.convert(gan.generator, "full_int8")))
    a["random_tflite"] = _write(root / "random.tflite", np.random.default_rng(1).bytes(len(model)))
    a["empty_tflite"] = _write(root / "empty.tflite", b"")
    a["saved_model"] = root / "sm"
    endpoint.write_saved_model(gan.generator, str(a["saved_model"]))
    a["random_saved_model"] = root / "random_sm"
    a["random_saved_model"].mkdir()
    _write(a["random_saved_model"] / "saved_model.pb", np.random.default_rng(2).bytes(2048))
    a["regular_file"] = _write(root / "file.txt", b"a user's file")
    return a


def _write(path, data):
    path.write_bytes(data)
    return path


def ema_run(root):
    """A tiny run with a generator EMA (2 generator iterations), a checkpoint of it whose EMA holds NaN, and one
    whose config claims an EMA its weights lack."""
    run = root / "ema_run"
    train(TrainConfig(**EMA_TINY, generator_iters=2), str(run), verbose=0)
    a = {"ema_run": run}
    gan = keras.saving.load_model(run / "checkpoint.keras")
    for w in gan.ema_generator.weights[:1]:
        w.assign(np.full(w.shape, np.nan, "float32"))
    a["nan_ema_keras"] = root / "nan_ema.keras"
    gan.save(a["nan_ema_keras"])
    bare = gan.__class__.from_config({**gan.get_config(), "ema_decay": None})
    bare.compile(**{k: keras.optimizers.RMSprop(5e-5, rho=0.99, epsilon=1e-8)
                    for k in ("critic_optimizer", "generator_optimizer")})
    bare.save(root / "bare.keras")  # saved without an EMA; its config.json inside then claims one
    a["no_ema_weights_keras"] = root / "no_ema_weights.keras"
    _edit_zip(root / "bare.keras", a["no_ema_weights_keras"], lambda c: c["config"].update(ema_decay=0.9))
    return a


def _edit_zip(src, dst, edit):
    with zipfile.ZipFile(src) as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    edit(config)
    files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(dst, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)

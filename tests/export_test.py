"""export: SavedModel signature, TFLite per quantization (LiteRT), fidelity, no Flex ops, CLI errors.

Fidelity bounds (PSNR against the float Keras generator, [-1, 1] images, peak-to-peak 2):
float32 is the same arithmetic (<= 1e-5). float16 weights round at 2^-11 relative: the
MNIST run measured ~70 dB, the bound is 50 dB. int8 (8-bit activations, per-channel
weights) measured ~30-35 dB on MNIST; the bound is 24 dB (max |d| of one int8 step
at the tanh output is 1/128 ~ 0.008, errors compound over 3-4 layers). dynamic-range
(int8 weights, float activations) sits between. qat here runs only a few distillation
steps, so it is held to the int8 bound minus margin.
"""
import json
import os

import keras
import numpy as np
import pytest
from commands import in_process

from wgan_edge.contract import METADATA_FILE, SIGNATURE, latent_vectors, to_uint8
from wgan_edge.runner import TFLiteGenerator
from wgan_export import convert, endpoint, flatbuffer, load, measure, modes
from wgan_keras import WGAN, DCGANCritic, DCGANGenerator
from wgan_keras.images import generate_images

LATENT = 8
PSNR_BOUND = {"float32": 90.0, "float16": 50.0, "dynamic": 30.0, "int8": 24.0, "int16x8": 40.0, "full_int8": 24.0,
              "qat": 20.0}


@pytest.fixture(scope="module")
def generator():
    keras.utils.set_random_seed(0)
    g = DCGANGenerator(latent_dim=LATENT, image_shape=(28, 28, 1), base_filters=8)
    # BatchNorm statistics that are not the identity, as after training.
    for layer in g.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(np.random.default_rng(1).normal(0, 0.3, n).astype("float32"))
            layer.moving_variance.assign(np.random.default_rng(2).uniform(0.5, 2, n).astype("float32"))
    return g


@pytest.fixture(scope="module")
def checkpoints(generator, tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    critic = DCGANCritic(image_shape=(28, 28, 1), base_filters=8)
    gan = WGAN(critic, generator, seed=0)
    paths = {"wgan": str(root / "run.keras"), "generator": str(root / "g.keras"), "critic": str(root / "c.keras"),
             "corrupt": str(root / "bad.keras")}
    gan.save(paths["wgan"])
    generator.save(paths["generator"])
    critic.save(paths["critic"])
    with open(paths["corrupt"], "wb") as f:
        f.write(b"PK\x03\x04 not really a zip")
    return paths


def test_check_builtin_only_refuses_flex_and_custom_ops(monkeypatch):
    for ops in ({"CONV_2D", "FlexRandomStandardNormal"}, {"CUSTOM:MyOp", "ADD"}):
        monkeypatch.setattr(convert, "op_names", lambda model, ops=ops: ops)
        with pytest.raises(load.ExportError, match="non-builtin"):
            convert.check_builtin_only(b"")


@pytest.fixture(scope="module")
def z():
    return latent_vectors(32, LATENT, seed=0)


@pytest.mark.parametrize("quantize", modes.NAMES)
def test_every_quantization_converts_and_runs_in_litert(generator, z, quantize):
    options = {"steps": 4} if quantize == "qat" else {}
    model = convert.convert(generator, quantize, batch_size=4, **options)
    convert.check_builtin_only(model)  # raises on Flex or custom ops (see the test below)
    assert not any(n.startswith("CUSTOM") or "FLEX" in n.upper() for n in flatbuffer.op_names(model))
    runner = TFLiteGenerator(model)
    assert (runner.batch_size, runner.latent_dim, runner.image_shape) == (4, LATENT, (28, 28, 1))
    assert runner.input["dtype"] == (np.int8 if quantize == "full_int8" else np.float32)  # full_int8: int8 z
    out = runner(z[:10])  # 3 invocations, the last one padded
    assert out["images"].dtype == np.float32 and out["images"].shape == (10, 28, 28, 1)
    assert out["pixels"].dtype == np.uint8 and out["pixels"].shape == (10, 28, 28, 1)
    reference = generate_images(generator, z[:10])
    row = measure.fidelity(reference, out["images"])  # also proves the weights are there (no NaN, no zeros)
    assert row["psnr_db"] > PSNR_BOUND[quantize], row
    # pixels are the documented mapping of images (strict, every mode: tests/export_quant_test.py)
    np.testing.assert_allclose(out["pixels"].astype(int), np.rint((out["images"] + 1) * 127.5).clip(0, 255), atol=1)
    assert np.mean(out["pixels"] == to_uint8(out["images"])) >= 0.999


def test_float32_tflite_matches_keras(generator, z):
    out = TFLiteGenerator(convert.convert(generator, "float32", batch_size=32))(z)
    reference = generate_images(generator, z)
    np.testing.assert_allclose(out["images"], reference, atol=1e-5)
    assert np.abs(out["pixels"].astype(int) - to_uint8(reference).astype(int)).max() <= 1


def test_int8_io_quantizes_z_with_input_scale(generator, z):
    runner = TFLiteGenerator(convert.convert(generator, "int8", batch_size=8, int8_io=True))
    assert runner.input["dtype"] == np.int8 and runner.input["quantization"][0] > 0
    row = measure.fidelity(generate_images(generator, z), runner(z)["images"])
    assert row["psnr_db"] > PSNR_BOUND["int8"] - 2, row


def test_saved_model_signature_names_shapes_and_weights(generator, z, tmp_path):
    path = endpoint.write_saved_model(generator, str(tmp_path / "sm"))
    import tensorflow as tf
    fn = tf.saved_model.load(path).signatures[SIGNATURE]
    (args, kwargs) = fn.structured_input_signature
    assert list(kwargs) == ["z"] and kwargs["z"].shape.as_list() == [None, LATENT] and kwargs["z"].dtype == tf.float32
    outputs = fn.structured_outputs
    assert sorted(outputs) == ["images", "pixels"]
    assert outputs["images"].shape.as_list() == [None, 28, 28, 1] and outputs["images"].dtype == tf.float32
    assert outputs["pixels"].shape.as_list() == [None, 28, 28, 1] and outputs["pixels"].dtype == tf.uint8
    out = endpoint.run_saved_model(path, z)
    np.testing.assert_allclose(out["images"], generate_images(generator, z), atol=1e-5)
    meta = json.load(open(os.path.join(path, METADATA_FILE)))
    assert meta["latent_dim"] == LATENT and meta["image_shape"] == [28, 28, 1] and meta["batch_size"] is None
    fixed = endpoint.write_saved_model(generator, str(tmp_path / "sm4"), batch_size=4)
    assert tf.saved_model.load(fixed).signatures["generate"].structured_input_signature[1]["z"].shape[0] == 4


def test_load_generator_from_wgan_or_bare_generator(checkpoints):
    for key in ("wgan", "generator"):
        generator = load.load_generator(checkpoints[key])
        assert load.describe(generator) == {"latent_dim": LATENT, "image_shape": [28, 28, 1]}


def _our_lines(stderr):
    """stderr without TensorFlow's native (absl/C++) start-up log lines, which are not ours to silence."""
    native = ("WARNING: All log messages before absl", "I0000", "W0000", "E0000")
    return [line for line in stderr.strip().splitlines() if line and not line.startswith(native)]


def _cli(*args):
    return in_process("wgan-export", args)


def test_cli_exports_tflite_and_saved_model_then_refuses_to_overwrite(checkpoints, tmp_path):
    out = str(tmp_path / "g.tflite")
    r = _cli("--checkpoint", checkpoints["wgan"], "--format", "tflite", "--quantize", "float16", "--batch_size",
             "2", "--out", out, "--fidelity_samples", "8")
    assert r.returncode == 0, r.stderr
    assert "PSNR" in r.stdout and "KiB" in r.stdout and os.path.getsize(out) > 1000
    r = _cli("--checkpoint", checkpoints["wgan"], "--format", "saved_model", "--out", str(tmp_path / "sm"),
             "--fidelity_samples", "8")
    assert r.returncode == 0, r.stderr
    assert os.path.isfile(tmp_path / "sm" / "saved_model.pb") and os.path.isfile(tmp_path / "sm" / METADATA_FILE)
    before = open(out, "rb").read()
    r = _cli("--checkpoint", checkpoints["wgan"], "--out", out)
    assert r.returncode == 2 and "exists" in r.stderr and len(_our_lines(r.stderr)) == 1
    assert open(out, "rb").read() == before

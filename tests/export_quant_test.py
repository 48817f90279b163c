"""Quantized exports that devices can trust (issue 17): exact pixels in every mode, a full-integer
model that runs in TensorFlow Lite for Microcontrollers, 16x8, the Fréchet gate, one-signature
SavedModel, and the upsample generator for Edge TPUs / NPUs.

One module generator with its last layer rescaled so tanh saturates at both ends (as a trained
generator's does): pixels must reach 0 and 255, which the old int8 `pixels` (0..224) never did.
"""
import json
import os
import re

import keras
import numpy as np
import pytest

from wgan_edge.contract import QUANTIZATIONS, latent_vectors, to_uint8
from wgan_edge.runner import TFLiteGenerator
from wgan_export import graph, lib, micro, quality, report, tflite
from wgan_keras import DCGANGenerator
from wgan_keras.images import generate_images

LATENT = 8


def saturated(generator, spread=2.0):
    """Rescales the last conv so its pre-tanh output has mean 0 and std `spread` on z ~ N(0, 1)."""
    last = [layer for layer in generator.layers if isinstance(layer, keras.layers.Conv2DTranspose)][-1]
    pre = keras.Model(generator.inputs, last.output)
    a = keras.ops.convert_to_numpy(pre(latent_vectors(512, LATENT, seed=99), training=False))
    kernel, bias = last.get_weights()
    last.set_weights([kernel * spread / a.std(), (bias - a.mean()) * spread / a.std()])
    return generator


@pytest.fixture(scope="module")
def generator():
    keras.utils.set_random_seed(0)
    g = DCGANGenerator(latent_dim=LATENT, image_shape=(28, 28, 1), base_filters=8)
    rng = np.random.default_rng(1)
    for layer in g.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0, 0.3, n).astype("float32"))
            layer.moving_variance.assign(rng.uniform(0.5, 2, n).astype("float32"))
    return saturated(g)


@pytest.fixture(scope="module")
def z():
    return latent_vectors(64, LATENT, seed=0)


@pytest.fixture(scope="module")
def models(generator):
    """Every mode at batch 4, converted once for the module."""
    return {q: tflite.convert(generator, q, batch_size=4, **({"steps": 4} if q == "qat" else {}))
            for q in QUANTIZATIONS}


@pytest.mark.parametrize("quantize", QUANTIZATIONS)
def test_pixels_are_the_pixel_rule_of_images_in_every_mode(models, z, quantize):
    out = TFLiteGenerator(models[quantize])(z)
    images, pixels = out["images"], out["pixels"]
    assert pixels.dtype == np.uint8 and pixels.shape == images.shape == (64, 28, 28, 1)
    rule = to_uint8(images)
    assert np.mean(pixels == rule) >= 0.999, np.mean(pixels == rule)
    assert np.abs(pixels.astype(int) - rule.astype(int)).max() <= 1
    # the saturated generator reaches both ends: black and white exist in every mode
    assert pixels.min() == 0 and pixels.max() == 255, (pixels.min(), pixels.max())
    assert tflite.check_builtin_only(models[quantize])


def test_full_int8_has_integer_io_with_recorded_params(models, z):
    model = models["full_int8"]
    runner = TFLiteGenerator(model)
    params = tflite.io_params(model)
    assert {k: v["dtype"] for k, v in params.items()} == {"z": "int8", "images": "int8", "pixels": "uint8"}
    assert runner.input["dtype"] == np.int8 and runner.outputs["images"]["dtype"] == np.int8
    assert tuple(runner.input["quantization"]) == pytest.approx((params["z"]["scale"], params["z"]["zero_point"]))
    # images on the pixel grid: one int8 step per pixel level, pixel = q + 128
    assert params["images"]["scale"] == pytest.approx(1 / 127.5, rel=1e-6) and params["images"]["zero_point"] == 0
    assert params["pixels"]["zero_point"] == 128
    # calibrated on z and -z: the input range is symmetric, no side of N(0, 1) clipped first
    assert abs(params["z"]["zero_point"]) <= 1, params["z"]
    raw = runner.runner(z=runner._quantize_z(z[:4]))
    np.testing.assert_array_equal(raw["pixels"].astype(int), raw["images"].astype(int) + 128)
    # integer kernels only: no DEQUANTIZE / CAST / float tail left anywhere
    assert tflite.op_names(model) <= {"FULLY_CONNECTED", "RESHAPE", "TRANSPOSE_CONV", "TANH", "MUL", "ADD",
                                      "QUANTIZE", "RELU"}, tflite.op_names(model)


def test_full_int8_runs_in_tflite_micro_like_litert(models, z):
    model = models["full_int8"]
    runner = TFLiteGenerator(model)
    zq = runner._quantize_z(z[:16])
    litert = [runner.runner(z=zq[i:i + 4]) for i in range(0, 16, 4)]
    micro_out = micro.run(model, zq)
    pixels_m = np.concatenate([o[np.uint8] for o in micro_out]).astype(int)
    pixels_l = np.concatenate([o["pixels"] for o in litert]).astype(int)
    images_m = np.concatenate([o[np.int8] for o in micro_out]).astype(int)
    np.testing.assert_array_equal(pixels_m, images_m + 128)  # the integer pixel op, in TFLM too
    # TFLM's reference kernels round a few accumulators differently from LiteRT's optimized ones;
    # one step before tanh is up to ~5 output levels where tanh is steepest. How many pixels differ depends on
    # the calibrated scales: over 3 weight seeds x 2 latent rules (numpy PCG64, the portable Philox one)
    # 95.5-99.6 % agree, at most 6 levels apart (measured on this module's generator).
    assert np.mean(pixels_m == pixels_l) >= 0.95 and np.abs(pixels_m - pixels_l).max() <= 8
    arena = micro.arena_bytes(model)
    assert arena % micro.ARENA_ALIGN == 0 and 1024 < arena < 1 << 20
    micro.interpreter(model, arena).invoke()
    with pytest.raises(RuntimeError):
        with micro._quiet_stderr():
            micro.interpreter(model, arena - 4 * micro.ARENA_ALIGN)


def test_c_array_holds_the_model_bytes(models, tmp_path):
    model = models["full_int8"]
    cc, h = micro.write_c_array(model, str(tmp_path), "g_model", arena=12345, notes=["z int8 scale 0.03"])
    body, header = open(cc).read(), open(h).read()
    data = bytes(int(x, 16) for x in re.findall(r"0x([0-9a-f]{2})", body))
    assert data == model and f"g_model_len = {len(model)};" in body and "alignas(16)" in body
    assert "g_model_arena_bytes = 12345;" in header and "extern const unsigned char g_model[];" in header
    with pytest.raises(ValueError):
        micro.c_array(model, "not a name")


def test_int16x8_is_closer_to_keras_than_int8(models, generator, z):
    reference = generate_images(generator, z)
    psnr = {q: report.fidelity(reference, TFLiteGenerator(models[q])(z)["images"])["psnr_db"]
            for q in ("int8", "int16x8")}
    assert psnr["int16x8"] > psnr["int8"] + 6, psnr


def test_frechet_distance_is_a_distance_in_any_features(generator, z):
    a = generate_images(generator, latent_vectors(128, LATENT, seed=3))
    noise = np.random.default_rng(0).normal(0, 1, a.shape).astype(np.float32)
    assert quality.frechet_distance(a, a) == pytest.approx(0, abs=1e-9)
    near, far = (quality.frechet_distance(a, np.clip(a + s * noise, -1, 1)) for s in (0.02, 0.2))
    assert 0 < near < far
    assert quality.fixed_features(a).shape == (128, 2 * (16 + 32) + 49)
    first_pixels = lambda x: x.reshape(len(x), -1)[:, :3]  # noqa: E731  any (n, d) callable is accepted
    assert quality.frechet_distance(a, a + 0.5, features=first_pixels) == pytest.approx(3 * 0.25, rel=1e-6)
    with pytest.raises(ValueError):
        quality.frechet_distance(a, a, features=lambda x: x.reshape(-1))


def test_saved_model_has_one_signature_and_stores_weights_once(generator, tmp_path):
    import tensorflow as tf
    path = lib.write_saved_model(generator, str(tmp_path / "sm"))
    assert list(tf.saved_model.load(path).signatures) == ["generate"]
    weights = sum(np.asarray(w).nbytes for w in generator.get_weights())
    data = sum(os.path.getsize(os.path.join(path, "variables", f)) for f in os.listdir(os.path.join(path, "variables")))
    assert weights <= data < 1.1 * weights + 4096, (weights, data)


def test_upsample_generator_is_full_integer_with_builtin_ops_and_runs_in_tflm(z):
    keras.utils.set_random_seed(0)
    g = DCGANGenerator(latent_dim=LATENT, image_shape=(28, 28, 1), base_filters=8, upsample="resize")
    model = tflite.convert(g, "full_int8", batch_size=1)
    ops = tflite.op_names(model)
    assert tflite.check_builtin_only(model)
    assert "RESIZE_NEAREST_NEIGHBOR" in ops and "CONV_2D" in ops and not {"TRANSPOSE_CONV", "TILE"} & ops, ops
    runner = TFLiteGenerator(model)
    zq = runner._quantize_z(z[:2])
    got = np.concatenate([o[np.uint8] for o in micro.run(model, zq)]).astype(int)
    want = np.concatenate([runner.runner(z=zq[i:i + 1])["pixels"] for i in range(2)]).astype(int)
    assert np.abs(got - want).max() <= 2


@pytest.fixture(scope="module")
def checkpoint(generator, tmp_path_factory):
    path = str(tmp_path_factory.mktemp("ckpt") / "g.keras")
    generator.save(path)
    return path


def test_cli_full_int8_writes_metadata_and_c_array_with_report(checkpoint, tmp_path, capsys):
    from wgan_export.main import main
    out = str(tmp_path / "g.tflite")
    assert main(["--checkpoint", checkpoint, "--out", out, "--quantize", "full_int8", "--batch_size", "1",
                 "--c_array", "--report", "--fidelity_samples", "32", "--min_psnr", "20"]) == 0
    printed = capsys.readouterr().out
    assert "pixels exact 100.00 %" in printed and "Fréchet distance" in printed and "TFLite Micro arena" in printed
    model = open(out, "rb").read()
    meta = json.load(open(tmp_path / "g.json"))
    assert meta["quantize"] == "full_int8" and meta["tensors"] == tflite.io_params(model)
    assert meta["tensors"]["z"]["dtype"] == "int8" and meta["tflm_arena_bytes"] == micro.arena_bytes(model)
    assert meta["fidelity"]["psnr_db"] > 20 and meta["fidelity"]["pixels_exact"] == 1.0
    header = open(tmp_path / "g.h").read()
    assert f"g_g_arena_bytes = {meta['tflm_arena_bytes']};" in header and "zero_point" in header
    assert os.path.getsize(tmp_path / "g.cc") > 5 * len(model)


@pytest.mark.parametrize("fmt, gate", [("tflite", ["--min_psnr", "500"]), ("tflite", ["--max_fd", "0"]),
                                       ("saved_model", ["--min_psnr", "500"])])
def test_cli_quality_gate_exits_1_and_writes_nothing(checkpoint, tmp_path, capsys, monkeypatch, fmt, gate):
    from wgan_export import main as cli
    main = cli.main
    if fmt == "saved_model":  # a float32 SavedModel is exact (PSNR inf): force the miss to test the publishing
        monkeypatch.setattr(cli, "gate", lambda config, row: "forced miss")
    out = str(tmp_path / ("g.tflite" if fmt == "tflite" else "sm"))
    quantize = ["--quantize", "int8"] if fmt == "tflite" else []
    assert main(["--checkpoint", checkpoint, "--out", out, "--format", fmt, *quantize, "--fidelity_samples", "16",
                 *gate]) == 1
    assert "quality gate failed" in capsys.readouterr().err
    assert os.listdir(tmp_path) == []  # no model, no metadata, no temporary folder left behind


def test_exact_pixels_falls_back_to_the_float_tail_off_the_pixel_grid(generator, z, tmp_path):
    """int8 images on tanh's own q/128 grid (no fake-quant, as selective quantization leaves them):
    the rebuilt pixels are the float32 tail on the float images, still exact."""
    saved = lib.write_saved_model(generator, str(tmp_path / "sm"), batch_size=4)  # integer=False: no grid
    converted = bytes(tflite.converter_for(saved, "int8", LATENT, 4).convert())
    model = graph.exact_pixels(converted)
    assert "CAST" in tflite.op_names(model) and "DEQUANTIZE" in tflite.op_names(model)
    out = TFLiteGenerator(model)(z)
    assert np.array_equal(out["pixels"], to_uint8(out["images"]))
    assert out["pixels"].max() == 254  # tanh's int8 grid tops out at 127/128: honest, not white

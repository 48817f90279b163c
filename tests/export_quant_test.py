"""Quantized exports that devices can trust: exact pixels in every mode, integer models that
keep the generator's levels (16-bit tail), the modes TFLite Micro runs (read from the one mode table), 16x8,
the Fréchet gate in the digit network's features, one-signature SavedModel, and the upsample generator.

One module generator with its last layer rescaled so tanh saturates at both ends (as a trained
generator's does): pixels must reach 0 and 255, which the old int8 `pixels` (0..224) never did.
"""
import json
import os

import keras
import numpy as np
import pytest
from harness import trained_batchnorm

from wgan_edge.contract import QUANTIZATIONS, latent_vectors, to_uint8
from wgan_edge.runner import TFLiteGenerator
from wgan_export import convert, endpoint, flatbuffer, measure, micro, modes, pixels, stderr
from wgan_keras import DCGANGenerator
from wgan_keras.evaluation import FeatureExtractor, frechet_distance
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
    return saturated(trained_batchnorm(g))


@pytest.fixture(scope="module")
def z():
    return latent_vectors(64, LATENT, seed=0)


@pytest.fixture(scope="module")
def models(generator):
    """Every mode at batch 4, converted once for the module."""
    return {q: convert.convert(generator, q, batch_size=4, **({"steps": 4} if q == "qat" else {}))
            for q in modes.NAMES}


def test_the_edge_names_help_and_docs_are_the_mode_table():
    assert QUANTIZATIONS == modes.NAMES and convert.NAMES is modes.NAMES
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert modes.table_markdown() in open(os.path.join(root, "docs", "export.md")).read()
    flags = open(os.path.join(root, "docs", "flags.md")).read()  # generated from --help's text
    assert all(f"{m.name}: {m.converts}" in flags for m in modes.MODES)


@pytest.mark.parametrize("quantize", modes.NAMES)
def test_pixels_are_the_pixel_rule_of_images_in_every_mode(models, z, quantize):
    out = TFLiteGenerator(models[quantize])(z)
    images, pixels = out["images"], out["pixels"]
    assert pixels.dtype == np.uint8 and pixels.shape == images.shape == (64, 28, 28, 1)
    rule = to_uint8(images)
    assert np.mean(pixels == rule) >= 0.999, np.mean(pixels == rule)
    assert np.abs(pixels.astype(int) - rule.astype(int)).max() <= 1
    # the saturated generator reaches both ends: black and white exist in every mode
    assert pixels.min() == 0 and pixels.max() == 255, (pixels.min(), pixels.max())
    assert -1.0 <= images.min() and images.max() <= 1.0, (images.min(), images.max())  # black is -1, not -1.0039
    assert convert.check_builtin_only(models[quantize])


@pytest.mark.parametrize("quantize", modes.NAMES)
def test_the_mode_table_says_where_tflite_micro_runs(models, quantize):
    """The table's TFLite Micro column is what TFLM does: the `yes` rows invoke, the `no` rows fail."""
    model = models[quantize]

    def invoke():
        with stderr.dropped():
            it = micro.interpreter(model)
            detail = it.get_input_details(0)
            it.set_input(np.zeros(detail["shape"], detail["dtype"]), 0)
            it.invoke()
    if modes.mode(quantize).tflm:
        invoke()
    else:
        with pytest.raises(RuntimeError):
            invoke()


@pytest.mark.parametrize("quantize", [m.name for m in modes.MODES if m.on_pixel_grid])
def test_integer_modes_keep_the_keras_levels_through_a_16_bit_tail(models, generator, quantize):
    """The final conv + tanh run int16 (wgan_export.tail16): every pixel level Keras draws can come out
    (an int8 tanh input allowed ~140 at best, 18 on a trained generator), and `pixels` floors like Keras's."""
    z = latent_vectors(256, LATENT, seed=5)
    reference = generate_images(generator, z)
    row = measure.pixel_row(reference, TFLiteGenerator(models[quantize])(z))
    assert row["keras_levels"] > 200 and row["levels"] >= row["keras_levels"] - 10, row
    if quantize != "qat":  # qat's few distillation steps here move the weights off Keras's
        assert row["pixels_equal_keras"] > 0.6 and row["max_level_diff"] <= 24, row
    names = flatbuffer.op_names(models[quantize])
    assert "TANH" in names and "SUB" in names  # int16 tanh, then the half-level floor shift


def test_full_int8_has_integer_io_with_recorded_params(models, z):
    model = models["full_int8"]
    runner = TFLiteGenerator(model)
    params = convert.io_params(model)
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
    assert flatbuffer.op_names(model) <= {"FULLY_CONNECTED", "RESHAPE", "TRANSPOSE_CONV", "TANH", "MUL", "ADD", "SUB",
                                      "QUANTIZE", "RELU", "MINIMUM", "MAXIMUM"}, flatbuffer.op_names(model)


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
    # TFLM computes what LiteRT's builtin kernels compute, bit for bit; LiteRT's XNNPACK delegate requantizes
    # int8 through a float scale: an int8 step apart now and then (35 levels when that step was the int8
    # tanh's input; the 16-bit tail leaves the middle layers' steps: a few levels).
    measured = micro.against_litert(model, z[:16])
    assert measured["tflm_vs_builtin_max_level_diff"] == 0, measured
    assert np.mean(pixels_m == pixels_l) >= 0.98 and np.abs(pixels_m - pixels_l).max() <= 6
    arena = micro.arena_bytes(model)
    assert arena % micro.ARENA_ALIGN == 0 and 1024 < arena < 1 << 20
    micro.interpreter(model, arena).invoke()
    with pytest.raises(RuntimeError):
        with stderr.dropped():
            micro.interpreter(model, arena - 4 * micro.ARENA_ALIGN)


def test_int16x8_is_closer_to_keras_than_int8(models, generator, z):
    reference = generate_images(generator, z)
    psnr = {q: measure.fidelity(reference, TFLiteGenerator(models[q])(z)["images"])["psnr_db"]
            for q in ("int8", "int16x8")}
    assert psnr["int16x8"] > psnr["int8"] + 3, psnr  # +6 before int8 got its 16-bit tail


def test_report_measures_against_keras_in_the_digit_networks_features(models, generator, z):
    """The Fréchet distance is wgan_keras.evaluation's, in the bundled digit network's features (the old
    lookup always fell back to random features), and the pixels are compared with KERAS's own."""
    features = measure.digit_features((28, 28, 1))
    assert isinstance(features, FeatureExtractor) and features.model.name == "digit_features"
    assert measure.digit_features((32, 32, 3)) is None
    reference = generate_images(generator, z)
    out = TFLiteGenerator(models["int8"])(z)
    row = measure.measure(generator, z, reference, out, frechet_too=True)
    digits = FeatureExtractor()
    assert row["frechet"] == pytest.approx(frechet_distance(digits(reference), digits(out["images"])), rel=1e-6)
    assert 0 < row["frechet"] < row["frechet_floor"]
    keras_pixels = to_uint8(reference)
    assert row["pixels_equal_keras"] == pytest.approx(np.mean(out["pixels"] == keras_pixels))
    assert row["max_level_diff"] == np.abs(out["pixels"].astype(int) - keras_pixels.astype(int)).max()
    assert row["pixels_equal_keras"] < 1.0  # the model against itself said 100 %
    same = measure.measure(generator, z, reference, {"images": reference, "pixels": keras_pixels}, frechet_too=True)
    assert same["frechet"] == 0.0 and same["pixels_equal_keras"] == 1.0 and same["psnr_db"] == float("inf")


def test_saved_model_has_one_signature_and_stores_weights_once(generator, tmp_path):
    import tensorflow as tf
    path = endpoint.write_saved_model(generator, str(tmp_path / "sm"))
    assert list(tf.saved_model.load(path).signatures) == ["generate"]
    weights = sum(np.asarray(w).nbytes for w in generator.get_weights())
    data = sum(os.path.getsize(os.path.join(path, "variables", f)) for f in os.listdir(os.path.join(path, "variables")))
    assert weights <= data < 1.1 * weights + 4096, (weights, data)


def test_upsample_generator_is_full_integer_with_builtin_ops_and_runs_in_tflm(z):
    keras.utils.set_random_seed(0)
    g = DCGANGenerator(latent_dim=LATENT, image_shape=(28, 28, 1), base_filters=8, upsample="resize")
    model = convert.convert(g, "full_int8", batch_size=1)
    ops = flatbuffer.op_names(model)
    assert convert.check_builtin_only(model)
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
    assert "pixels equal to Keras's" in printed and "digit-network features" in printed, printed
    assert "TFLite Micro: arena" in printed and "levels from LiteRT's" in printed, printed
    model = open(out, "rb").read()
    meta = json.load(open(tmp_path / "g.json"))
    assert meta["quantize"] == "full_int8" and meta["tensors"] == convert.io_params(model)
    assert meta["tensors"]["z"]["dtype"] == "int8" and meta["tflm_arena_bytes"] == micro.arena_bytes(model)
    assert meta["fidelity"]["psnr_db"] > 20 and 0.5 < meta["fidelity"]["pixels_equal_keras"] < 1.0
    assert meta["fidelity"]["tflm_vs_builtin_max_level_diff"] == 0
    header = open(tmp_path / "g.h").read()
    assert f"g_g_arena_bytes = {meta['tflm_arena_bytes']} }};" in header and "zero_point" in header
    assert '#include "g.h"' in open(tmp_path / "g.cc").read()  # was "g_g.h": g++ failed
    assert os.path.getsize(tmp_path / "g.cc") > 5 * len(model)


def test_cli_report_says_when_tflite_micro_does_not_run_the_mode(checkpoint, tmp_path, capsys):
    from wgan_export.main import main
    assert main(["--checkpoint", checkpoint, "--out", str(tmp_path / "g.tflite"), "--quantize", "int16x8",
                 "--report", "--fidelity_samples", "8"]) == 0
    assert "TFLite Micro: does not run int16x8 (" in capsys.readouterr().out


@pytest.mark.parametrize("fmt, gate", [("tflite", ["--min_psnr", "500"]), ("tflite", ["--max_fd", "0"]),
                                       ("saved_model", ["--min_psnr", "500"])])
def test_cli_quality_gate_exits_1_and_writes_nothing(checkpoint, tmp_path, capsys, monkeypatch, fmt, gate):
    from wgan_export import main as cli
    main = cli.main
    if fmt == "saved_model":  # a float32 SavedModel is exact (PSNR inf): force the miss to test the publishing
        monkeypatch.setattr(measure, "gate", lambda config, row: "forced miss")
    out = str(tmp_path / ("g.tflite" if fmt == "tflite" else "sm"))
    quantize = ["--quantize", "int8"] if fmt == "tflite" else []
    assert main(["--checkpoint", checkpoint, "--out", out, "--format", fmt, *quantize, "--fidelity_samples", "16",
                 *gate]) == 1
    printed = capsys.readouterr()
    assert "quality gate failed" in printed.err and printed.out.startswith("measured ") and "PSNR" in printed.out
    assert os.listdir(tmp_path) == []  # no model, no metadata, no temporary folder left behind


def test_cli_gate_treats_float_noise_as_zero(checkpoint, tmp_path, capsys):
    """A float32 SavedModel differs from Keras by float32 rounding only: its Fréchet distance reads 0, so
    --max_fd 0 passes it (it failed with "1.57e-09 > 0.0")."""
    from wgan_export.main import main
    assert main(["--checkpoint", checkpoint, "--out", str(tmp_path / "sm"), "--format", "saved_model",
                 "--max_fd", "0", "--fidelity_samples", "64"]) == 0
    assert "Fréchet distance 0 in digit-network features" in capsys.readouterr().out


def test_exact_pixels_falls_back_to_the_float_tail_off_the_pixel_grid(generator, z, tmp_path):
    """int8 images on tanh's own q/128 grid (no fake-quant, as selective quantization leaves them):
    the rebuilt pixels are the float32 tail on the float images, still exact."""
    saved = endpoint.write_saved_model(generator, str(tmp_path / "sm"), batch_size=4)  # integer=False: no grid
    converted = bytes(convert.converter_for(saved, "int8", LATENT, 4).convert())
    model = pixels.exact_pixels(converted)
    assert "CAST" in flatbuffer.op_names(model) and "DEQUANTIZE" in flatbuffer.op_names(model)
    out = TFLiteGenerator(model)(z)
    assert np.array_equal(out["pixels"], to_uint8(out["images"]))
    assert out["pixels"].max() == 254  # tanh's int8 grid tops out at 127/128: honest, not white

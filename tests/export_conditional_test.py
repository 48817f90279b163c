"""Export of a conditional generator: `generate` takes z and an int32 `label` in the SavedModel and
every TFLite mode, runs in TFLite Micro, `wgan-sample --label` / a row per class, the gate per class.

Every check is against the Keras generator for the same z and labels (never the export against itself), and
each mode is also asked for the wrong classes, so a label input that is ignored or mis-wired fails.
"""
import json
import os

import keras
import numpy as np
import pytest
from commands import in_process
from harness import trained_batchnorm

from wgan_edge.contract import SIGNATURE, labels_by_row, labels_in_turn, latent_vectors, to_uint8
from wgan_edge.png import encode_png, image_grid
from wgan_edge.runner import RunnerError, TFLiteGenerator
from wgan_export import convert, endpoint, load, main, measure, micro, modes
from wgan_keras import WGAN, DCGANCritic, DCGANGenerator
from wgan_keras.images import generate_images
from wgan_keras.workdir import write_classes

LATENT, CLASSES = 8, 4
CONVERTED = [m for m in modes.NAMES if modes.mode(m).route == "converter"]
# As export_test.PSNR_BOUND: the same generator family and width, a label embedding more.
PSNR_BOUND = {"float32": 90.0, "float16": 50.0, "dynamic": 30.0, "int8": 24.0, "int16x8": 40.0, "full_int8": 24.0}


@pytest.fixture(scope="module")
def generator():
    keras.utils.set_random_seed(0)
    g = DCGANGenerator(latent_dim=LATENT, image_shape=(28, 28, 1), base_filters=8, num_classes=CLASSES)
    return trained_batchnorm(g)


@pytest.fixture(scope="module")
def z():
    return latent_vectors(32, LATENT, seed=0)


@pytest.fixture(scope="module")
def checkpoint(generator, tmp_path_factory):
    """A conditional run's workdir: checkpoint.keras and the classes.json that names its classes."""
    root = tmp_path_factory.mktemp("run")
    gan = WGAN(DCGANCritic((28, 28, 1), base_filters=8, num_classes=CLASSES), generator, seed=0)
    gan.save(str(root / "checkpoint.keras"))
    write_classes(str(root), ["cat", "dog", "owl", "fox"])
    return str(root / "checkpoint.keras")


def _labels_matter(reference_for, out_for, labels):
    """Exported images for `labels` are closest to Keras's images for the same labels, not for shifted ones."""
    right = measure.fidelity(reference_for(labels), out_for(labels))["psnr_db"]
    wrong = measure.fidelity(reference_for((labels + 1) % CLASSES), out_for(labels))["psnr_db"]
    return right, wrong


@pytest.mark.parametrize("quantize", CONVERTED)
def test_every_converter_mode_takes_z_and_label(generator, z, quantize):
    runner = TFLiteGenerator(convert.convert(generator, quantize, batch_size=4))
    assert runner.conditional and np.dtype(runner.label["dtype"]) == np.int32 and list(runner.label["shape"]) == [4]
    assert runner.input["dtype"] == (np.int8 if quantize == "full_int8" else np.float32)
    labels = labels_in_turn(len(z), CLASSES)
    right, wrong = _labels_matter(lambda y: generate_images(generator, z, labels=y), lambda y: runner(z, y)["images"],
                                  labels)
    assert right > PSNR_BOUND[quantize] and right > wrong + 3, (right, wrong)
    with pytest.raises(RunnerError, match="conditional"):
        runner(z)


def test_qat_refuses_a_conditional_generator_in_one_line(generator):
    with pytest.raises(load.ExportError, match="conditional") as e:
        convert.convert(generator, "qat", batch_size=4)
    assert "\n" not in str(e.value)


def test_saved_model_signature_takes_label(generator, z, tmp_path):
    import tensorflow as tf
    path = endpoint.write_saved_model(generator, str(tmp_path / "sm"), class_names=["a", "b", "c", "d"])
    _, kwargs = tf.saved_model.load(path).signatures[SIGNATURE].structured_input_signature
    assert sorted(kwargs) == ["label", "z"] and kwargs["label"].dtype == tf.int32
    labels = np.full(len(z), 2, np.int32)
    np.testing.assert_allclose(endpoint.run_saved_model(path, z, labels)["images"],
                               generate_images(generator, z, labels=labels), atol=1e-5)
    meta = endpoint.read_metadata(path)
    assert (meta["num_classes"], meta["label_input"], meta["class_names"]) == (CLASSES, "label", ["a", "b", "c", "d"])


@pytest.mark.skipif(not micro.available(), reason="tflite-micro not installed (pip install -e '.[test]')")
@pytest.mark.parametrize("quantize", [m for m in CONVERTED if modes.mode(m).tflm])
def test_tflite_micro_runs_the_label_like_litert(generator, z, quantize):
    model = convert.convert(generator, quantize, batch_size=4)
    labels = labels_in_turn(16, CLASSES)
    measured = micro.against_litert(model, z[:16], labels)
    assert measured["tflm_vs_builtin_max_level_diff"] == 0 and measured["tflm_arena_bytes"] > 0, measured
    if quantize == "full_int8":  # and the label changes TFLM's output as it changes Keras's
        runner = TFLiteGenerator(model)
        zq = runner._quantize_z(z[:16])
        other = np.concatenate([o[np.uint8] for o in micro.run(model, zq, (labels + 1) % CLASSES)])
        same = np.concatenate([o[np.uint8] for o in micro.run(model, zq, labels)])
        assert (other != same).any() and (same == runner(z[:16], labels)["pixels"]).mean() > 0.99


def test_cli_export_then_sample_one_class_and_a_row_per_class(checkpoint, generator, tmp_path):
    out = str(tmp_path / "g.tflite")
    r = in_process("wgan-export", ["--checkpoint", checkpoint, "--quantize", "full_int8", "--batch_size", "4",
                                   "--c_array", "--min_psnr", "20", "--fidelity_samples", "40", "--out", out])
    assert r.returncode == 0, r.stderr
    assert f"label[4] ({CLASSES} classes)" in r.stdout and "weakest class" in r.stdout
    meta = json.load(open(str(tmp_path / "g.json")))
    assert meta["num_classes"] == CLASSES and meta["class_names"] == ["cat", "dog", "owl", "fox"]
    assert meta["tensors"]["label"]["dtype"] == "int32" and meta["tensors"]["z"]["dtype"] == "int8"
    runner = TFLiteGenerator(out)

    png = str(tmp_path / "owls.png")
    r = in_process("wgan-sample", ["--model", out, "--label", "2", "--num", "6", "--seed", "3", "--out", png])
    assert r.returncode == 0 and "of class 2" in r.stdout, r.stderr
    z = latent_vectors(6, LATENT, 3)
    assert open(png, "rb").read() == encode_png(image_grid(runner(z, 2)["pixels"]))
    keras_pixels = to_uint8(generate_images(generator, z, labels=np.full(6, 2)))
    assert np.abs(runner(z, 2)["pixels"].astype(int) - keras_pixels).mean() < 2  # the class Keras draws

    grid = str(tmp_path / "rows.png")
    r = in_process("wgan-sample", ["--model", out, "--out", grid])
    assert r.returncode == 0 and f"one row per class ({CLASSES} rows)" in r.stdout, r.stderr
    z = latent_vectors(8 * CLASSES, LATENT, 0)
    rows = labels_by_row(8 * CLASSES, CLASSES, 8)
    assert list(rows[::8]) == list(range(CLASSES))
    assert open(grid, "rb").read() == encode_png(image_grid(runner(z, rows)["pixels"], columns=8))

    for args, flag in ((["--label", str(CLASSES)], "--label"), (["--label", "-1"], "--label")):
        r = in_process("wgan-sample", ["--model", out, "--out", str(tmp_path / "x.png"), *args])
        assert r.returncode == 2 and len(r.err_lines) == 1 and flag in r.stderr, r.stderr
    with open(str(tmp_path / "g.json"), "w") as f:  # metadata cut short: named, not read as "no classes"
        f.write('{"num_classes": ')
    r = in_process("wgan-sample", ["--model", out, "--out", str(tmp_path / "y.png")])
    assert r.returncode == 2 and len(r.err_lines) == 1 and "g.json" in r.stderr, r.stderr
    os.remove(str(tmp_path / "g.json"))  # without its metadata the class count is unknown: --label says which
    r = in_process("wgan-sample", ["--model", out, "--out", str(tmp_path / "y.png")])
    assert r.returncode == 2 and len(r.err_lines) == 1 and "--label" in r.stderr and out in r.stderr, r.stderr
    r = in_process("wgan-sample", ["--model", out, "--label", "99", "--out", str(tmp_path / "y.png")])
    assert r.returncode == 2 and r.err_lines == ["wgan-sample: error: labels: class 99 is not one of this "
                                                 "model's classes (LiteRT: gather index out of bounds)"], r.stderr
    assert not any(os.path.exists(tmp_path / n) for n in ("x.png", "y.png"))  # nothing written on a refusal


def test_gate_names_the_weakest_class():
    config = main.ExportConfig(checkpoint="-", out="-", min_psnr=30.0)
    assert measure.gate(config, {"psnr_db": 35.0, "worst_class": 3, "worst_class_psnr_db": 31.0}) is None
    reason = measure.gate(config, {"psnr_db": 35.0, "worst_class": 3, "worst_class_psnr_db": 28.5})
    assert reason.startswith("class 3: PSNR 28.5 dB < --min_psnr 30.0")
    images = np.zeros((8, 2, 2, 1), np.float32)
    noisy = images + np.where(np.arange(8) % 4 == 1, 0.1, 0.001)[:, None, None, None]
    assert measure.worst_class(images, noisy, labels_in_turn(8, 4))["worst_class"] == 1


@pytest.mark.parametrize("num_classes, quantize", [(None, "float32"), (CLASSES, "float32"), (CLASSES, "int8")])
def test_export_under_a_mixed_bfloat16_policy(num_classes, quantize):
    """--preset fast trains under mixed_bfloat16; exporting in that process (the Colab tutorial) must not leave
    a bf16 MatMul or CONCATENATION (no TFLite builtin): the export computes in float32 (load.float32_twin,
    and the BN-folded [z, embed(label)] prefix of the pixel-grid modes)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        keras.utils.set_random_seed(0)
        g = DCGANGenerator(latent_dim=LATENT, image_shape=(28, 28, 1), base_filters=8, num_classes=num_classes)
        runner = TFLiteGenerator(convert.convert(g, quantize, batch_size=4))
    finally:
        keras.config.set_dtype_policy(previous)
    z = latent_vectors(8, LATENT, seed=0)
    labels = None if num_classes is None else np.full(8, 3)
    # against the bf16 Keras generator the user trained: float32 export is its float32-arithmetic twin
    assert measure.fidelity(generate_images(g, z, labels=labels), runner(z, labels)["images"])["psnr_db"] > 20

"""Adding a quantization mode or an output format is one row in one table plus its stage function: a toy mode
and a toy format, registered here and nowhere else, export end to end through `wgan-export` itself (flags,
checks, measuring, the gate, publishing)."""
import contextlib
import dataclasses
import json

import numpy as np

from wgan_edge.contract import latent_vectors, to_uint8
from wgan_edge.runner import TFLiteGenerator
from wgan_export import formats, modes
from wgan_export.main import main


def test_a_toy_format_is_one_row_in_formats(tmp_path, monkeypatch, capsys):
    """A format that writes 16 samples as an .npz: a build (what is measured) and a publish (what is written)."""
    @contextlib.contextmanager
    def build(config, generator, mode):
        from wgan_keras.images import generate_images

        def outputs(z, labels):
            images = generate_images(generator, z, labels=labels)
            return {"images": images, "pixels": to_uint8(images)}
        samples = outputs(latent_vectors(16, generator.inputs[0].shape[1], seed=0), np.arange(16) % 10)
        yield formats.Built(outputs, samples["pixels"].nbytes, samples)

    def publish(config, generator, built, row):
        np.savez(config.out, pixels=built.model["pixels"], psnr_db=row["psnr_db"])

    toy = formats.Format("npz", build, publish, lambda config: [(config.out, "npz")], fixed_batch=False)
    monkeypatch.setitem(formats.FORMATS, "npz", toy)
    out = tmp_path / "samples.npz"
    assert main(["--checkpoint", "mnist", "--format", "npz", "--fidelity_samples", "16", "--out", str(out)]) == 0
    assert "samples.npz: npz float32" in capsys.readouterr().out
    with np.load(out) as saved:
        assert saved["pixels"].shape == (16, 28, 28, 1) and saved["psnr_db"] == np.inf


def test_a_toy_mode_is_one_row_in_modes(tmp_path, monkeypatch, capsys):
    """float16 with another recipe (the integer modes' tanh clamp): one row, converted by convert's stage."""
    toy = dataclasses.replace(modes.mode("float16"), name="float16_clamped", tanh_clamp=modes.TANH_CLAMP)
    monkeypatch.setitem(modes.BY_NAME, toy.name, toy)
    out = tmp_path / "g.tflite"
    assert main(["--checkpoint", "mnist", "--quantize", toy.name, "--fidelity_samples", "16", "--out", str(out)]) == 0
    assert "g.tflite: tflite float16_clamped" in capsys.readouterr().out
    assert json.loads((tmp_path / "g.json").read_text())["quantize"] == toy.name
    runner = TFLiteGenerator(str(out))
    z = latent_vectors(1, runner.latent_dim, seed=0)
    assert runner(z, np.zeros(1, np.int32))["pixels"].shape == (1, 28, 28, 1)

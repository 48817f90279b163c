"""wgan-sample: runs with numpy + ai_edge_litert only; never imports TensorFlow."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from wgan_edge.contract import latent_vectors, to_uint8
from wgan_export import convert
from wgan_keras import DCGANGenerator
from wgan_keras.images import generate_images

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    g = DCGANGenerator(latent_dim=8, image_shape=(28, 28, 1), base_filters=8)
    paths = {}
    for name, (q, batch, io) in {"float_b4": ("float32", 4, False), "int8io_b1": ("int8", 1, True)}.items():
        paths[name] = str(root / f"{name}.tflite")
        with open(paths[name], "wb") as f:
            f.write(convert.convert(g, q, batch_size=batch, int8_io=io))
    paths["root"] = str(root)
    paths["generator"] = g
    return paths


def _no_tf_env(tmp_path):
    """A fake `tensorflow` first on sys.path whose import raises: any TF import fails loudly."""
    fake = tmp_path / "fake"
    (fake / "tensorflow").mkdir(parents=True, exist_ok=True)
    (fake / "tensorflow" / "__init__.py").write_text("raise ImportError('tensorflow is not allowed here')\n")
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(fake), os.getcwd()]))


def _sample(tmp_path, *args):
    code = textwrap.dedent("""
        import sys
        from wgan_edge import sample
        try:
            sample.run(sys.argv[1:])
        finally:
            assert "tensorflow" not in sys.modules and "keras" not in sys.modules, "TensorFlow was imported"
    """)
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True,
                          env=_no_tf_env(tmp_path))


def test_fake_tensorflow_really_blocks_the_import(tmp_path):
    r = subprocess.run([sys.executable, "-c", "import tensorflow"], capture_output=True, text=True,
                       env=_no_tf_env(tmp_path))
    assert r.returncode != 0 and "not allowed" in r.stderr


@pytest.mark.parametrize("name", ["float_b4", "int8io_b1"])
def test_sampler_writes_png_without_tensorflow(models, tmp_path, name):
    out = tmp_path / "grid.png"
    r = _sample(tmp_path, "--model", models[name], "--num", "10", "--seed", "0", "--out", str(out))
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert data.startswith(PNG)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (4 * 30 + 2, 3 * 30 + 2)  # 10 samples -> 4 columns x 3 rows of 28 + 2 padding


def test_sampler_matches_the_generator(models):
    from wgan_edge.runner import TFLiteGenerator
    runner = TFLiteGenerator(models["float_b4"])
    z = latent_vectors(6, 8, seed=3)
    out = runner(z)
    assert out["pixels"].shape == (6, 28, 28, 1) and np.isfinite(out["images"]).all()
    assert out["images"].std() > 0  # weights are there
    np.testing.assert_allclose(out["images"], generate_images(models["generator"], z), atol=1e-5)
    delta = np.abs(out["pixels"].astype(int) - to_uint8(out["images"]).astype(int))
    assert delta.max() <= 1 and (delta > 0).mean() <= 1e-3  # the pixel rule, up to float rounding at ties

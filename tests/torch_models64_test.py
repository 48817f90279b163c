"""benchmarks/torch_models64.py's PyTorch copies of the 64x64 RGB networks have exactly wgan-keras's parameter
counts (BatchNorm statistics included), so docs/benchmarks.md §8's 64x64 figure compares the same models.
PyTorch is not a test dependency: without it this file is skipped."""
import importlib.util
import math
import pathlib

import pytest

import wgan_keras as wk

torch = pytest.importorskip("torch")


def _torch_models():
    path = pathlib.Path(__file__).resolve().parent.parent / "benchmarks" / "torch_models64.py"
    spec = importlib.util.spec_from_file_location("torch_models64", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("arch, width", [("dcgan", 32), ("resnet", 16)])
def test_parameter_counts_match(arch, width):
    models = _torch_models()
    critic, generator = models.build(arch, width)
    count = models.count
    shape = (64, 64, 3)
    make_g, make_c = (wk.DCGANGenerator, wk.DCGANCritic) if arch == "dcgan" else (wk.ResNetGenerator, wk.ResNetCritic)
    keras_g, keras_c = make_g(128, shape, base_filters=width), make_c(shape, base_filters=width)
    for torch_model, keras_model in ((critic, keras_c), (generator, keras_g)):
        trainable = sum(math.prod(w.shape) for w in keras_model.trainable_weights)
        assert count(torch_model) == (trainable, keras_model.count_params())
    images = generator(torch.randn(2, 128))
    assert images.shape == (2, 3, 64, 64) and critic(images).shape == (2, 1)

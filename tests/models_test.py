import numpy as np
import pytest
from harness import run_model_saving_test, run_serialization_test

import wgan_keras as wk


@pytest.mark.parametrize("size", [28, 32, 64])
@pytest.mark.parametrize("channels", [1, 3])
def test_dcgan_shapes(size, channels):
    generator = wk.DCGANGenerator(latent_dim=8, image_shape=(size, size, channels), base_filters=4)
    critic = wk.DCGANCritic(image_shape=(size, size, channels), base_filters=4)
    images = generator(np.random.normal(size=(3, 8)).astype("float32"))
    assert images.shape == (3, size, size, channels)
    assert np.all(np.abs(np.asarray(images)) <= 1.0)
    assert critic(images).shape == (3, 1)


def test_dcgan32_is_the_benchmark_architecture():
    generator = wk.DCGANGenerator(latent_dim=128, image_shape=(32, 32, 1), base_filters=64)
    critic = wk.DCGANCritic(image_shape=(32, 32, 1), base_filters=64)
    dense = generator.layers[1]
    assert dense.units == 4 * 4 * 256 and not dense.use_bias
    assert [l.filters for l in generator.layers if l.__class__.__name__ == "Conv2DTranspose"] == [128, 64, 1]
    assert [l.filters for l in critic.layers if l.__class__.__name__ == "Conv2D"] == [64, 128, 256]
    assert not any("BatchNormalization" in l.__class__.__name__ for l in critic.layers)
    # parameter counts of the PyTorch baseline's DCGAN-32
    assert critic.count_params() == 1 * 64 * 16 + 64 + 64 * 128 * 16 + 128 + 128 * 256 * 16 + 256 + 4096 + 1


@pytest.mark.parametrize("make,inputs", [
    (lambda: wk.DCGANGenerator(8, (28, 28, 1), base_filters=4), np.ones((2, 8), "float32")),
    (lambda: wk.DCGANCritic((32, 32, 3), base_filters=4, normalization="layer"), np.ones((2, 32, 32, 3), "float32")),
    (lambda: wk.DCGANCritic((28, 28, 1), base_filters=4, spectral_norm=True), np.ones((2, 28, 28, 1), "float32")),
    (lambda: wk.MLPGenerator(4, (2,), hidden_units=(16, 16)), np.ones((2, 4), "float32")),
    (lambda: wk.MLPCritic((2,), hidden_units=(16,), spectral_norm=True), np.ones((2, 2), "float32")),
    # Conditional variants: called with [samples, int labels].
    (lambda: wk.DCGANGenerator(8, (28, 28, 1), base_filters=4, num_classes=10),
     [np.ones((2, 8), "float32"), np.array([3, 7], "int32")]),
    (lambda: wk.DCGANCritic((28, 28, 1), base_filters=4, spectral_norm=True, num_classes=10),
     [np.ones((2, 28, 28, 1), "float32"), np.array([3, 7], "int32")]),
    (lambda: wk.MLPGenerator(4, (2,), hidden_units=(16,), num_classes=3), [np.ones((2, 4), "float32"),
                                                                           np.array([0, 2], "int32")]),
    (lambda: wk.MLPCritic((2,), hidden_units=(16,), num_classes=3), [np.ones((2, 2), "float32"),
                                                                     np.array([0, 2], "int32")]),
])
def test_serialization_and_saving(make, inputs, tmp_path):
    model = make()
    run_serialization_test(model)
    run_model_saving_test(model, inputs, tmp_path)


@pytest.mark.parametrize("make,arg", [
    (lambda: wk.DCGANGenerator(8, (30, 30, 1)), "image_shape"),
    (lambda: wk.DCGANGenerator(8, (28, 28, 2)), "image_shape"),
    (lambda: wk.DCGANGenerator(8, (28, 28)), "image_shape"),
    (lambda: wk.DCGANGenerator(0, (28, 28, 1)), "latent_dim"),
    (lambda: wk.DCGANGenerator(10**9, (28, 28, 1)), "latent_dim"),
    (lambda: wk.DCGANCritic((64, 64, 3), base_filters=-1), "base_filters"),
    (lambda: wk.DCGANCritic((64, 64, 3), normalization="batch"), "normalization"),
    (lambda: wk.MLPCritic((2,), hidden_units=()), "hidden_units"),
    (lambda: wk.MLPGenerator(2, (2,), output_activation="sigmoid"), "output_activation"),
    (lambda: wk.DCGANGenerator(8, (28, 28, 1), num_classes=1), "num_classes"),
    (lambda: wk.MLPCritic((2,), num_classes=2.5), "num_classes"),
])
def test_bad_arguments_name_the_argument(make, arg):
    with pytest.raises(ValueError, match=arg):
        make()


@pytest.mark.parametrize("make", [
    lambda **kw: wk.DCGANGenerator(8, (28, 28, 1), base_filters=4, **kw),
    lambda **kw: wk.DCGANCritic((28, 28, 1), base_filters=4, **kw),
    lambda **kw: wk.MLPGenerator(4, (2,), hidden_units=(16,), **kw),
    lambda **kw: wk.MLPCritic((2,), hidden_units=(16,), **kw),
])
def test_configs_without_num_classes_still_build_the_unconditional_model(make):
    # A config written before num_classes existed (0.1 checkpoints) has no such key.
    config = make().get_config()
    assert config.pop("num_classes") is None
    revived = type(make()).from_config(config)
    assert revived.num_classes is None and len(revived.inputs) == 1
    assert revived.count_params() == make().count_params()
    assert make(num_classes=3).count_params() > revived.count_params()

"""One seed, one z: `WGAN.generate`, `wk.sample`, `wgan-sample` and the web page draw the same latent
vectors for a seed (the portable Philox rule of wgan_edge.contract), so a user who sees a grid in one
place can reproduce it in another. And `--help` lists choices so that each can be read back exactly."""
import re
import shlex

import keras
import numpy as np
import pytest
from harness import tiny_gan

import wgan_keras as wk
from wgan_edge.cli import build_parser, choice_list
from wgan_edge.contract import latent_vectors
from wgan_edge.sample import SampleConfig
from wgan_export.main import ExportConfig
from wgan_keras.config import TrainConfig


def test_generate_draws_the_portable_z_of_a_seed():
    gan = tiny_gan()
    z = latent_vectors(6, gan.latent_dim, 7)  # what wgan-sample --seed 7 and the page feed the model
    expected = keras.ops.convert_to_numpy(gan.sampling_generator(z, training=False))
    np.testing.assert_allclose(gan.generate(6, seed=7), expected, atol=1e-6)
    np.testing.assert_allclose(wk.sample(gan.sampling_generator, 6, seed=7), expected, atol=1e-6)
    # The first rows do not depend on n: a bigger grid starts with the smaller one.
    np.testing.assert_allclose(gan.generate(9, seed=7)[:6], expected, atol=1e-6)
    assert not np.allclose(gan.generate(6, seed=8), expected)


def test_sample_of_a_conditional_generator_takes_the_classes_in_turn():
    generator = wk.DCGANGenerator(8, (28, 28, 1), base_filters=4, num_classes=3)
    z = latent_vectors(4, 8, 0)
    expected = keras.ops.convert_to_numpy(generator([z, np.array([0, 1, 2, 0], np.int32)], training=False))
    np.testing.assert_allclose(wk.sample(generator, 4), expected, atol=1e-6)
    sevens = keras.ops.convert_to_numpy(generator([z, np.full(4, 2, np.int32)], training=False))
    np.testing.assert_allclose(wk.sample(generator, 4, labels=2), sevens, atol=1e-6)
    with pytest.raises(ValueError, match="labels must lie in"):
        wk.sample(generator, 4, labels=3)
    with pytest.raises(ValueError, match="n must be a positive integer"):
        wk.sample(generator, 0)


def test_choice_list_quotes_a_choice_with_a_comma():
    assert choice_list(["none", "translation,cutout"], ",") == "none,'translation,cutout'"
    assert choice_list(["a", "b"], ", ") == "a, b"


@pytest.mark.parametrize("prog, config", [("wgan-train", TrainConfig), ("wgan-export", ExportConfig),
                                          ("wgan-sample", SampleConfig)])
def test_help_lists_every_choice_so_it_reads_back_exactly(prog, config):
    parser = build_parser(prog, "", config)
    shown = {a.dest: a.metavar for a in parser._actions if a.choices is None and a.metavar
             and a.metavar.startswith("{")}
    assert prog == "wgan-sample" or shown  # train and export have choice flags
    for action in parser._actions:
        choices = getattr(config, "__dataclass_fields__", {}).get(action.dest)
        choices = choices.metadata.get("choices") if choices is not None else None
        if choices is None or action.dest not in shown:
            continue
        lexer = shlex.shlex(shown[action.dest][1:-1], posix=True)
        lexer.whitespace, lexer.whitespace_split = ",", True  # a comma separates, quotes group
        assert list(lexer) == [str(c) for c in choices], shown[action.dest]
    helptext = parser.format_help()
    assert not re.search(r"\{[^}]*\btranslation,translation\b", helptext), helptext  # the old ambiguity

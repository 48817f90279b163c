"""Named presets (`--preset`, `TrainConfig.from_preset`) and two time-scale learning rates."""
import json

import keras
import pytest
from commands import in_process

from wgan_keras.config import TrainConfig
from wgan_keras.main import configs
from wgan_keras.presets import PRESETS, preset_of
from wgan_keras.train import train

TINY = ["--batch_size", "400", "--latent_dim", "8", "--sample_every", "1", "--log_every", "1",
        "--generator_iters", "1"]


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_is_a_valid_config_that_names_itself(name):
    config = TrainConfig.from_preset(name).validate()
    assert all(getattr(config, k) == v for k, v in PRESETS[name].items())
    assert preset_of(config.to_dict()) == (name if PRESETS[name] else None)
    _, from_flags = configs(["--preset", name])
    assert from_flags == config


def test_a_given_flag_wins_over_the_preset():
    _, config = configs(["--preset", "fast", "--base_filters", "8", "--lipschitz", "clip"])
    assert config.base_filters == 8 and config.lipschitz == "clip"  # given, even where equal to the default
    assert config.ema_decay == PRESETS["fast"]["ema_decay"]  # not given: the preset's
    assert TrainConfig.from_preset("fast", base_filters=8).base_filters == 8
    _, plain = configs([])
    assert plain == TrainConfig()


def test_none_undoes_a_preset_value():
    _, config = configs(["--preset", "fast", "--ema_decay", "none", "--generator_iters", "None"])
    assert config.ema_decay is None and config.generator_iters is None and config.lipschitz == "gp"
    assert config == TrainConfig.from_preset("fast", ema_decay=None).validate()


def test_unknown_preset_names_the_setting():
    """The API's check (the flag's case: tests/error_cases.py)."""
    with pytest.raises(ValueError, match="preset='nope'"):
        TrainConfig.from_preset("nope")


def test_preset_run_resumes_with_the_same_command_and_says_what_is_missing(tmp_path):
    workdir = str(tmp_path / "run")
    first = in_process("wgan-train", ["--preset", "fast", "--workdir", workdir, *TINY])
    assert first.returncode == 0, first.stderr
    saved = json.load(open(tmp_path / "run" / "config.json"))
    assert preset_of(saved) == "fast" and saved["batch_size"] == 400
    again = in_process("wgan-train", ["--preset", "fast", "--workdir", workdir, *TINY])
    assert again.returncode == 0 and "nothing to do" in again.stdout + again.stderr
    forgot = in_process("wgan-train", ["--workdir", workdir, *TINY])
    lines = [line for line in forgot.stderr.splitlines() if line.startswith("wgan-train:")]
    assert forgot.returncode == 2 and len(lines) == 1, forgot.stderr
    assert lines[0].endswith("(that run used --preset fast: pass it again)")


def test_generator_learning_rate_sets_only_the_generator_optimizer(tmp_path):
    config = TrainConfig(lipschitz="gp", learning_rate=3e-4, generator_learning_rate=1e-4, base_filters=8,
                         latent_dim=8, batch_size=400, n_critic=1, generator_iters=1)
    model = train(config, str(tmp_path / "run"), verbose=0)
    rate = lambda opt: float(keras.ops.convert_to_numpy(opt.learning_rate))  # noqa: E731
    assert rate(model.critic_optimizer) == pytest.approx(3e-4)
    assert rate(model.generator_optimizer) == pytest.approx(1e-4)
    plain = train(TrainConfig(**{**config.to_dict(), "generator_learning_rate": None}), str(tmp_path / "b"),
                  verbose=0)
    assert rate(plain.generator_optimizer) == pytest.approx(3e-4)  # unset: the critic's rate


def test_auto_precision_is_bf16_only_where_hardware_computes_it(tmp_path):
    from wgan_keras.distribute import resolve_precision
    assert resolve_precision("auto", ["avx2", "avx512f"]) == "float32"  # bf16 emulated: slower than float32
    assert resolve_precision("auto", ["avx512f", "avx512_bf16"]) == "mixed_bfloat16"
    assert resolve_precision("auto", ["amx_bf16"]) == "mixed_bfloat16"
    assert resolve_precision("mixed_float16", []) == "mixed_float16"
    config = TrainConfig(mixed_precision="auto", base_filters=8, latent_dim=8, batch_size=400, n_critic=1,
                         generator_iters=1)
    try:
        model = train(config, str(tmp_path / "run"), verbose=0)
        assert model.generator.dtype_policy.name == resolve_precision("auto")
    finally:
        keras.config.set_dtype_policy("float32")  # the policy is global: leave it as other tests expect

"""The CPU rules of `wgan_keras.cpu`: one line when `fit` starts on an x86 CPU with TensorFlow's oneDNN
off, once per process and never on import; and the measured table behind mixed_precision="auto"."""
import logging
import os
import platform
import subprocess
import sys

import pytest

from wgan_keras import cpu

_FIT_TWICE = """
import sys
import numpy as np
import wgan_keras as wk
print("imported", file=sys.stderr, flush=True)
gan = wk.WGAN(wk.MLPCritic(hidden_units=(8,)), wk.MLPGenerator(latent_dim=2, hidden_units=(8,)), n_critic=1, seed=0)
gan.compile()
x = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")
print("fitting", file=sys.stderr, flush=True)
gan.fit(x, batch_size=32, epochs=1, verbose=0)
gan.fit(x, batch_size=32, epochs=1, verbose=0)
print("done", file=sys.stderr, flush=True)
"""
_LINE = "oneDNN kernels are off"


def _stderr_of_fit_twice(onednn, backend="tensorflow"):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", KERAS_BACKEND=backend)
    env[cpu.ONEDNN_VARIABLE] = onednn
    r = subprocess.run([sys.executable, "-c", _FIT_TWICE], capture_output=True, text=True, timeout=240, env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    return [line for line in r.stderr.splitlines() if _LINE in line or line in ("imported", "fitting", "done")]


@pytest.mark.skipif(not cpu.is_x86(), reason="TensorFlow's oneDNN question is an x86 one")
def test_fit_says_once_in_one_line_that_onednn_is_off_and_how_to_turn_it_on():
    lines = _stderr_of_fit_twice("0")
    assert lines[:2] == ["imported", "fitting"] and lines[-1] == "done", lines  # not on import
    told = lines[2:-1]
    assert len(told) == 1, lines  # two fits, one line
    assert "2x slower" in told[0] and 'os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1"' in told[0]
    assert "%env TF_ENABLE_ONEDNN_OPTS=1" in told[0]


def test_fit_says_nothing_with_onednn_on():
    assert _stderr_of_fit_twice("1") == ["imported", "fitting", "done"]


def test_fit_on_jax_says_nothing_whatever_tensorflow_does():
    pytest.importorskip("jax")
    assert _stderr_of_fit_twice("0", backend="jax") == ["imported", "fitting", "done"]


@pytest.fixture
def untold(monkeypatch):
    monkeypatch.setattr(cpu, "_told", False)
    monkeypatch.setattr(cpu, "onednn_enabled", lambda: False)
    monkeypatch.setattr(cpu, "is_x86", lambda machine=None: True)


def test_the_line_is_logged_once_per_process(untold, caplog):
    with caplog.at_level(logging.WARNING, logger="wgan_keras"):
        assert cpu.tell_if_onednn_off() is True
        assert cpu.tell_if_onednn_off() is False
    assert len(caplog.records) == 1 and "\n" not in caplog.records[0].getMessage()


@pytest.mark.parametrize("case", ["arm", "onednn_on", "unknown", "jax", "tpu"])
def test_no_line_where_onednn_is_not_the_question(untold, monkeypatch, caplog, case):
    import keras
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    if case == "arm":
        monkeypatch.setattr(cpu, "is_x86", lambda machine=None: False)
    elif case == "jax":  # tf.data feeds JAX too, but the arithmetic is not TensorFlow's
        monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    elif case == "tpu":
        import tensorflow as tf
        monkeypatch.setattr(tf.distribute, "TPUStrategy", type(model.distribute_strategy))
    else:
        monkeypatch.setattr(cpu, "onednn_enabled", lambda: case == "onednn_on" or None)
    with caplog.at_level(logging.WARNING, logger="wgan_keras"):
        assert cpu.tell_if_onednn_off(model) is False
    assert not caplog.records


def test_onednn_enabled_reports_what_tensorflow_loaded_with():
    assert cpu.onednn_enabled() is (os.environ[cpu.ONEDNN_VARIABLE] == "1")  # conftest sets it before TF loads


def test_is_x86_names():
    assert cpu.is_x86("x86_64") and cpu.is_x86("AMD64") and not cpu.is_x86("aarch64") and not cpu.is_x86("arm64")
    assert cpu.is_x86() == (platform.machine().lower() in ("x86_64", "amd64", "i386", "i686", "x86"))


def test_the_commands_turn_onednn_on_unless_the_user_chose():
    env = {}
    cpu.use_onednn(env)
    assert env == {cpu.ONEDNN_VARIABLE: "1"}
    env = {cpu.ONEDNN_VARIABLE: "0"}
    cpu.use_onednn(env)
    assert env == {cpu.ONEDNN_VARIABLE: "0"}


@pytest.mark.parametrize("flags, onednn, policy", [
    (["avx2", "fma"], True, "float32"),                               # bf16 emulated: slower
    (["avx2", "avx512f", "avx512_vnni"], True, "float32"),            # AVX-512 without BF16
    (["avx2", "avx512f", "avx512_bf16"], True, "mixed_bfloat16"),     # Zen 4
    (["avx512f", "avx512_bf16", "amx_bf16"], True, "mixed_bfloat16"),  # Sapphire Rapids
    (["avx512f", "avx512_bf16", "amx_bf16"], False, "float32"),       # TensorFlow's own kernels: no bf16 gain
    ([], True, "float32"),                                            # not Linux: nothing known
])
def test_auto_precision_follows_the_measured_table(flags, onednn, policy):
    from wgan_keras.distribute import resolve_precision
    assert cpu.cpu_precision(flags, onednn) == policy
    assert resolve_precision("auto", flags, onednn) == policy
    assert resolve_precision("float32", flags, onednn) == "float32"


def test_every_bf16_row_has_a_measured_factor_above_one():
    for kind, flags, policy, factor in cpu.CPU_PRECISION:
        assert (policy == "mixed_bfloat16") == (factor is not None and factor > 1), kind
    assert cpu.CPU_PRECISION[-1][1] == ()  # the last row takes every CPU the others do not

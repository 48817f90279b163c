"""What wgan-export writes, files and failures: a C array that a C and a C++ compiler
accept and whose bytes are the .tflite, valid C identifiers from any file name, all files or none (existing
ones never replaced without --overwrite, a full disk leaves nothing), NaN weights refused, any Keras backend,
and no converter notes on the user's terminal. Tiny generators (base_filters 4): these are cheap."""
import errno
import os
import shutil
import subprocess

import keras
import numpy as np
import pytest
from commands import as_process, in_process, user_env

from wgan_edge import atomic
from wgan_export import micro
from wgan_export.main import main
from wgan_keras import DCGANGenerator

LATENT = 4
CC, CXX = shutil.which("gcc"), shutil.which("g++")
DUMP = r"""
#include <stdint.h>
#include <stdio.h>
#include "HEADER"
int main(int argc, char **argv) {
  FILE *f = fopen(argv[1], "wb");
  fwrite(NAME, 1, NAME_len, f);
  fclose(f);
  printf("%d %d\n", (int)((uintptr_t)NAME % 16), (int)NAME_arena_bytes);
  return 0;
}
"""


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    keras.utils.set_random_seed(0)
    path = str(tmp_path_factory.mktemp("ckpt") / "g.keras")
    DCGANGenerator(latent_dim=LATENT, image_shape=(28, 28, 1), base_filters=4).save(path)
    return path


def _export(checkpoint, out, *flags):
    return main(["--checkpoint", checkpoint, "--out", str(out), "--quantize", "full_int8", "--fidelity_samples", "4",
                 *flags])


@pytest.mark.skipif(not (CC and CXX), reason="needs gcc and g++")
def test_c_array_compiles_as_c_and_cpp_and_holds_the_tflite_bytes(checkpoint, tmp_path):
    """A non-ASCII file name: the identifier is derived (g_mod_le_1), the .cc includes the real header."""
    out = tmp_path / "modèle-1.tflite"
    assert _export(checkpoint, out, "--c_array") == 0
    name, model = micro.c_identifier("modèle-1"), out.read_bytes()
    assert name == "g_mod_le_1"
    for compiler, flags, main_name in ((CC, ["-std=c11", "-x", "c"], "main.c"), (CXX, ["-std=c++11", "-x", "c++"],
                                                                                 "main.cc")):
        (tmp_path / main_name).write_text(DUMP.replace("HEADER", "modèle-1.h").replace("NAME", name))
        exe, dumped = tmp_path / f"prog-{main_name}", tmp_path / f"bytes-{main_name}"
        subprocess.run([compiler, *flags, "-Wall", "-Werror", str(tmp_path / "modèle-1.cc"), str(tmp_path / main_name),
                        "-o", str(exe)], check=True, capture_output=True, cwd=tmp_path)
        aligned, arena = subprocess.run([str(exe), str(dumped)], check=True, capture_output=True,
                                        text=True).stdout.split()
        assert dumped.read_bytes() == model and aligned == "0" and int(arena) == micro.arena_bytes(model)


def test_c_name_sets_the_identifier_and_bad_ones_are_refused(checkpoint, tmp_path):
    assert _export(checkpoint, tmp_path / "g.tflite", "--c_array", "--c_name", "my_model") == 0
    assert "extern const unsigned char my_model[];" in (tmp_path / "g.h").read_text()
    for bad in (["--c_array", "--c_name", "1x"], ["--c_array", "--c_name", "modèle"], ["--c_name", "ok"]):
        r = in_process("wgan-export", ["--checkpoint", checkpoint, "--out", str(tmp_path / "h.tflite"),
                                       "--quantize", "full_int8", *bad])
        assert r.returncode == 2 and "c_name" in r.stderr and len(r.err_lines) == 1, r.stderr
    assert not (tmp_path / "h.tflite").exists()


def test_an_existing_side_file_refuses_the_export_before_anything_is_written(checkpoint, tmp_path):
    (tmp_path / "g.h").write_text("mine")
    r = in_process("wgan-export", ["--checkpoint", checkpoint, "--out", str(tmp_path / "g.tflite"),
                                   "--quantize", "full_int8", "--c_array"])
    assert r.returncode == 2 and "g.h" in r.stderr and "--overwrite" in r.stderr, r.stderr
    assert sorted(os.listdir(tmp_path)) == ["g.h"] and (tmp_path / "g.h").read_text() == "mine"


def test_a_full_disk_during_a_c_array_export_leaves_nothing(checkpoint, tmp_path, monkeypatch):
    real, calls = atomic._fsync, []

    def full(path):  # the third file's flush finds the disk full (after .tflite and .json were written)
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path)
    monkeypatch.setattr(atomic, "_fsync", full)
    with pytest.raises(OSError, match="No space"):
        _export(checkpoint, tmp_path / "g.tflite", "--c_array")
    assert os.listdir(tmp_path) == []  # no .tflite, .json, .cc, .h, no temporary folder


def test_write_files_takes_back_what_it_published_when_a_later_file_fails(tmp_path, monkeypatch):
    real = atomic._publish

    def racy(tmp, path, overwrite):  # another process creates the second file meanwhile
        if path.endswith("b.json"):
            open(path, "w").write("theirs")
        real(tmp, path, overwrite)
    monkeypatch.setattr(atomic, "_publish", racy)
    with pytest.raises(FileExistsError):
        atomic.write_files({str(tmp_path / "a.tflite"): b"1", str(tmp_path / "b.json"): b"2"})
    assert sorted(os.listdir(tmp_path)) == ["b.json"] and (tmp_path / "b.json").read_text() == "theirs"


def test_nan_weights_are_refused_in_one_line(tmp_path):
    keras.utils.set_random_seed(0)
    g = DCGANGenerator(latent_dim=LATENT, image_shape=(28, 28, 1), base_filters=4)
    kernel = g.layers[1].kernel
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    g.save(tmp_path / "nan.keras")
    r = in_process("wgan-export", ["--checkpoint", str(tmp_path / "nan.keras"), "--out", str(tmp_path / "g.tflite")])
    assert r.returncode == 2 and len(r.err_lines) == 1 and "NaN or inf weights" in r.stderr, r.stderr
    assert "(1 of " in r.stderr and "/kernel" in r.stderr and not (tmp_path / "g.tflite").exists()


def test_export_under_a_torch_keras_backend_with_converter_logs_on(checkpoint, tmp_path):
    """KERAS_BACKEND=torch works (the export runs Keras on TensorFlow itself), and the int8 converter's
    `fully_quantize: ...` C++ line stays off stderr even with the user's own TF_CPP_MIN_LOG_LEVEL=0."""
    r = as_process("wgan-export", ["--checkpoint", checkpoint, "--out", str(tmp_path / "g.tflite"), "--quantize",
                                   "int8", "--fidelity_samples", "4"],
                   env=user_env(KERAS_BACKEND="torch", TF_CPP_MIN_LOG_LEVEL="0"))
    assert r.returncode == 0, r.stderr
    assert "fully_quantize" not in r.stderr and "wrote" in r.stdout and (tmp_path / "g.tflite").exists()

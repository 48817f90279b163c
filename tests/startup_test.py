"""What a process pays and keeps for importing the library and for asking a command for help.

`import wgan_keras` changes nothing in the process (no environment variable, no stderr filter) and
loads neither Keras nor TensorFlow; `--help` and every flag error of the three commands answer before
TensorFlow or Keras load (benchmarks/cli_overhead.py measures how fast that is).
"""
import json
import subprocess
import sys

import pytest

HEAVY = ("tensorflow", "keras", "jax", "torch")


def _python(code, env=None):
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_importing_the_library_changes_nothing_and_loads_no_tensorflow():
    got = _python("""
import json, os, sys
env, err, fd2 = dict(os.environ), sys.stderr, os.fstat(2).st_ino
import wgan_keras
print(json.dumps({"env": dict(os.environ) == env, "stderr": sys.stderr is err and os.fstat(2).st_ino == fd2,
                  "heavy": sorted(m for m in sys.modules if m.split(".")[0] in %r)}))
""" % (HEAVY,))
    assert got == {"env": True, "stderr": True, "heavy": []}


def test_data_is_there_right_after_import():
    got = _python("import json, wgan_keras as wk; print(json.dumps(list(wk.data.load_bundled().shape)))")
    assert got == [4000, 28, 28, 1]


@pytest.mark.parametrize("module, argv", [
    ("wgan_keras.main", ["--help"]),
    ("wgan_keras.main", ["--preset", "fast", "--help"]),
    ("wgan_keras.main", ["--seed=-1"]),
    ("wgan_keras.main", ["--preset", "nope"]),
    ("wgan_export.main", ["--help"]),
    ("wgan_export.main", ["--checkpoint", "nope.keras", "--out", "g.tflite"]),
    ("wgan_edge.sample", ["--help"]),
    ("wgan_edge.sample", ["--num=0", "--model", "x.tflite", "--out", "x.png"]),
])
def test_help_and_flag_errors_answer_before_tensorflow_loads(module, argv):
    got = _python(f"""
import importlib, json, sys, contextlib, io
out = io.StringIO()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
    try:
        importlib.import_module({module!r}).run({argv!r})
    except SystemExit as e:
        code = e.code
print(json.dumps({{"code": code, "text": out.getvalue(),
                  "heavy": sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r})}}))
""")
    assert got["heavy"] == [] and got["code"] == (0 if "--help" in argv else 2), got


def test_help_shows_one_default_per_flag_and_the_presets():
    from commands import in_process
    paper, fast = in_process("wgan-train", ["--help"]).out, in_process("wgan-train", ["--preset", "fast", "--help"]).out
    flat = lambda text: " ".join(text.split())  # noqa: E731  (argparse wraps lines)
    assert "Default: the data's own (folders: 64)." in flat(paper) and "Default: None" not in paper
    for text in (paper, fast):
        for block in flat(text).split("  --")[1:]:  # one flag's help each
            assert block.count("Default:") + block.count("Required.") <= 1, block
    assert "Range: [1e-12, 10]. Default: 0.0004." in flat(fast)  # --learning_rate under --preset fast
    assert "One of: clip, gp, sn. Default: gp." in flat(fast) and "One of: clip, gp, sn. Default: clip." in flat(paper)

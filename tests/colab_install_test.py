"""The Colab notebooks' install line works: each notebook's first cell runs as in Colab (its `%pip install
"wgan-keras @ git+{REPO}"` with a wheel built from this checkout standing in for the git URL) in a fresh
virtual environment that holds everything but wgan-keras (as Colab holds TensorFlow and Keras), and the
rest of the notebook then runs on what that line installed, top to bottom, with WGAN_QUICK=1 (every run
shrunk to a smoke test): no cell may fail or show an error, and each draws its inline plots. (The notebooks'
committed form is checked in tests/notebooks_test.py.)
"""
import os
import pathlib
import shutil
import site
import subprocess
import sys
import textwrap

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbclient")

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOTEBOOKS = ("quickstart.ipynb", "toys.ipynb", "conditional.ipynb")
GIT_LINE = '%pip install -q "wgan-keras @ git+{REPO}"'


@pytest.fixture(scope="module")
def colab_like(tmp_path_factory):
    """(python, wheel): a fresh venv seeing this environment's packages except wgan-keras, and our wheel."""
    tmp = tmp_path_factory.mktemp("colab")
    source = tmp / "source"  # what the git URL holds, copied, so the build leaves no build/ in the checkout
    source.mkdir()
    for name in ("setup.cfg", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for name in ("wgan_keras", "export", "edge"):
        shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__", "node_modules"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp / "dist"), str(source)], check=True, capture_output=True, timeout=600)
    (wheel,) = (tmp / "dist").glob("wgan_keras-*.whl")
    subprocess.run([sys.executable, "-m", "venv", str(tmp / "venv")], check=True, timeout=300)
    python = tmp / "venv" / "bin" / "python"
    inner = subprocess.run([str(python), "-c", "import site; print(site.getsitepackages()[0])"], check=True,
                           capture_output=True, text=True).stdout.strip()
    # A path line in a .pth adds the folder but runs none of its own .pth files: this environment's
    # editable wgan-keras (a .pth finder) stays invisible, its TensorFlow, Keras and Jupyter do not.
    (pathlib.Path(inner) / "runtime.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    found = subprocess.run([str(python), "-c", "import importlib.util as u; print(u.find_spec('wgan_keras'))"],
                           capture_output=True, text=True, cwd=tmp)  # not the checkout's folder
    assert found.stdout.strip() == "None", found.stdout  # nothing to import before the notebook installs it
    return python, wheel


def as_in_colab(nb, wheel):
    """The first code cell run as Colab runs it, the git URL replaced by the wheel; the cells after it run
    as they do locally (no Colab download widget, no network)."""
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert GIT_LINE in first.source, "the notebook's install line changed: update this test"
    first.source = ("import sys, types\nsys.modules['google.colab'] = types.ModuleType('google.colab')\n"
                    + first.source.replace(GIT_LINE, f'%pip install -q --no-index "wgan-keras @ {wheel.as_uri()}"')
                    + "\ndel sys.modules['google.colab']\nIN_COLAB = False\n")
    nb.cells.append(nbformat.v4.new_code_cell("import wgan_keras, sys\nprint('WHERE', wgan_keras.__file__, "
                                              "sys.executable)"))
    return nb


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs_on_what_its_first_cell_installs(name, colab_like, tmp_path):
    python, wheel = colab_like
    nb = as_in_colab(nbformat.read(ROOT / "colab" / name, as_version=4), wheel)
    path = tmp_path / name
    nbformat.write(nb, path)
    run = textwrap.dedent(f"""
        import nbclient, nbformat
        nb = nbformat.read({str(path)!r}, as_version=4)
        nbclient.NotebookClient(nb, kernel_name="python3", timeout=300,
                                resources={{"metadata": {{"path": {str(tmp_path)!r}}}}}).execute()
        outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
        print("ERRORS", sum(o.output_type == "error" for o in outputs))
        print("IMAGES", sum("image/png" in o.get("data", {{}}) for o in outputs))
        print(nb.cells[-1].outputs[0]["text"])
    """)
    env = {**os.environ, "WGAN_QUICK": "1", "TF_CPP_MIN_LOG_LEVEL": "2", "JUPYTER_PATH": "",
           "JUPYTER_DATA_DIR": str(tmp_path / "jupyter")}
    env.pop("MPLBACKEND", None)
    r = subprocess.run([str(python), "-c", run], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-4000:]
    counts = dict(line.split() for line in r.stdout.splitlines() if line.startswith(("ERRORS", "IMAGES")))
    assert counts["ERRORS"] == "0", r.stdout[-4000:]
    assert int(counts["IMAGES"]) >= 3, f"{name}: expected inline plots, got {counts['IMAGES']} images"
    where = next(line for line in r.stdout.splitlines() if line.startswith("WHERE"))
    _, module, executable = where.split()
    venv = python.parent.parent
    assert pathlib.Path(module).is_relative_to(venv), where  # the wheel's copy, not the checkout
    assert pathlib.Path(executable).parent.parent == venv, where

"""The Colab tutorials (colab/*.ipynb) run top to bottom, as a Colab user runs them.

Each notebook is executed with nbclient in a fresh python3 kernel, in a temporary
working directory, with WGAN_QUICK=1 (every run shrunk to a smoke test; under ~90 s
on 2 CPU cores). Any cell error fails the test. The committed notebooks must also
be clean: no outputs and no execution counts.
"""
import pathlib
import time

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

COLAB = pathlib.Path(__file__).resolve().parent.parent / "colab"
NOTEBOOKS = ("quickstart.ipynb", "toys.ipynb", "conditional.ipynb")
CELL_TIMEOUT_S = 300


def _read(name):
    return nbformat.read(COLAB / name, as_version=4)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_is_clean(name):
    nb = _read(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, f"{name} has no code cells"
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{name}: cells {dirty} have outputs or execution counts; strip them before committing"
    first = code[0]
    assert "parameters" in first.metadata.get("tags", []), f"{name}: the first code cell must be tagged parameters"
    assert "WGAN_QUICK" in first.source and '"google.colab" in sys.modules' in first.source
    assert 'REPO = "https://github.com/wgan-keras/wgan-keras"' in first.source and "git+{REPO}" in first.source
    # oneDNN on before anything loads TensorFlow, as `fit`'s one line asks on a CPU where it is off
    assert 'os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")' in first.source
    assert not any(word in first.source for word in ("import tensorflow", "import keras", "import wgan_keras"))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name, tmp_path, monkeypatch):
    monkeypatch.setenv("WGAN_QUICK", "1")  # the kernel inherits this process's environment
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "2")
    monkeypatch.delenv("MPLBACKEND", raising=False)
    nb = _read(name)
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT_S,
                                     resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as e:
        failed = tmp_path / f"failed_{name}"
        nbformat.write(nb, failed)
        pytest.fail(f"{name} failed (executed notebook kept at {failed}):\n{str(e)[-3000:]}")
    elapsed = time.perf_counter() - start
    print(f"{name}: executed in {elapsed:.1f} s")
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, f"{name}: error outputs {errors}"
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)
    assert images >= 3, f"{name}: expected inline plots, got {images} images"


def test_the_repository_url_is_stated_once():
    """setup.cfg's [metadata] url is the one place; notebooks and docs may only repeat exactly it."""
    import configparser
    import re
    root = COLAB.parent
    cfg = configparser.ConfigParser()
    cfg.read(root / "setup.cfg")
    ours = cfg["metadata"]["url"].split("github.com/")[1]
    texts = [p.read_text() for p in [*COLAB.glob("*.ipynb"), root / "README.md", *(root / "docs").glob("*.md")]]
    found = {m for t in texts for m in re.findall(r"github(?:\.com)?/([\w.-]+/[\w.-]+)", t)
             if not m.startswith(("keras-team/", "tensorflow/", "google"))}
    assert ours in found and found == {ours}, found

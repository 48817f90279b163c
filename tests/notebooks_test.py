"""The Colab tutorials (colab/*.ipynb) as committed: clean (no outputs, no execution counts), their first
cell the one a Colab user runs first, and the repository named once. tests/colab_install_test.py runs each
notebook top to bottom on what its own install line installs, as a Colab user runs it.
"""
import pathlib

import pytest

nbformat = pytest.importorskip("nbformat")

COLAB = pathlib.Path(__file__).resolve().parent.parent / "colab"
NOTEBOOKS = ("quickstart.ipynb", "toys.ipynb", "conditional.ipynb")


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

"""The documentation: the site builds with warnings as errors, its API reference covers every public name,
and the README stays a page a newcomer reads in two minutes, with nothing in it that goes stale by itself."""
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_is_short_and_starts_with_what_it_is_and_how_to_install():
    lines = README.splitlines()
    assert len(lines) <= 120, len(lines)
    assert "git clone " in README and "pip install ." in README
    assert README.index("## Install") < README.index("## Quick start")
    assert "![" in "\n".join(lines[:12])  # one picture of samples on the first screen


def test_readme_claims_nothing_that_changes_without_an_edit():
    """Test counts and suite timings change with every commit; they belong to CI's output, not the README."""
    assert not re.search(r"\b\d[\d,]* (tests|passed|skipped)\b", README), "a test count in the README"
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", README), "a date in the README: the history is in git"


def test_docs_name_no_issue_numbers():
    """A reader of the docs has no tracker: a page says why, not which ticket."""
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]
    cited = [f"{p.name}: {m.group(0)}" for p in pages for m in re.finditer(r"\b[Ii]ssues? #?\d+", p.read_text())]
    assert not cited, cited


def test_browser_tests_say_what_they_need():
    text = (ROOT / "docs" / "development.md").read_text()
    assert "chromium" in text and "chromium-driver" in text
    assert "chromium-driver" in README


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("mkdocs", reason="the docs extra: pip install -e '.[docs]'")
    pytest.importorskip("mkdocstrings_handlers.python")
    out = tmp_path_factory.mktemp("site")
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                       capture_output=True, text=True, timeout=600, env={**__import__("os").environ,
                                                                         "NO_MKDOCS_2_WARNING": "1"})
    assert r.returncode == 0, r.stderr[-4000:]
    return out


def test_site_builds_strict_with_every_public_name_in_the_reference(site):
    import wgan_keras
    page = (site / "api" / "wgan_keras" / "index.html").read_text()
    for name in wgan_keras.__all__:
        assert f"wgan_keras.{name}" in page, name
    for heading in ("wgan_keras.evaluation.QualityEvaluator", "wgan_keras.data.load_bundled_labeled"):
        assert heading in page, heading  # a subpackage's names are listed too
    for documented in ("n_critic", "critic iterations per generator iteration", "latent_vectors(n, latent_dim, seed)"):
        assert documented in page, documented  # the docstrings' arguments are rendered, not just the names
    export = (site / "api" / "wgan_export" / "index.html").read_text()
    assert "wgan_export.load" in export and "wgan_export.convert" in export
    edge = (site / "api" / "wgan_edge" / "index.html").read_text()
    assert "latent_vectors" in edge and "wgan_edge.pretrained" in edge
    assert (site / "index.html").is_file() and (site / "changelog" / "index.html").is_file()


def test_changelog_starts_with_the_version_being_released():
    import configparser
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg")
    first = re.search(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M).group(1)
    assert first == cfg["metadata"]["version"], (first, cfg["metadata"]["version"])

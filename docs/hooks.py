"""mkdocs hook: the API reference, one generated page per package, from what each package makes public.

A package's public names are its `__all__` (wgan_keras) or, where it has none (wgan_export, wgan_edge),
its public modules; a public subpackage (wgan_keras.data) lists the names its `__init__` imports from
inside itself. Each object is rendered by mkdocstrings under its defining module's path, so a class added
to `__all__` (or a new module) appears in the reference at the next build without editing a page.
"""
import importlib
import inspect
import os
import pkgutil

from mkdocs.structure.files import File

PACKAGES = {
    "wgan_keras": "The core: models, `WGAN`, losses, data, evaluation, sampling, the shipped generator.",
    "wgan_export": "SavedModel, TFLite, TFLite Micro and web export (`wgan-export`).",
    "wgan_edge": "The TensorFlow-free sampler (`wgan-sample`): numpy and LiteRT only.",
}


def _public(name):
    return not name.startswith("_")


def _defined_inside(obj, package):
    module = getattr(obj, "__module__", None) or ""
    return module == package or module.startswith(package + ".")


def _identifier(obj, fallback):
    if inspect.ismodule(obj):
        return obj.__name__
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    return f"{module}.{qualname}" if module and qualname else fallback


def _members(package):
    """[(heading, identifier)] of what `package` makes public."""
    module = importlib.import_module(package)
    names = getattr(module, "__all__", None)
    if names is None:  # no __all__: every public module is public API
        return [(f"{package}.{m.name}", f"{package}.{m.name}") for m in pkgutil.iter_modules(module.__path__)
                if _public(m.name)]
    rows = []
    for name in names:
        obj = getattr(module, name)
        if inspect.ismodule(obj) and hasattr(obj, "__path__"):  # a subpackage: the names it imports from itself
            inner = getattr(obj, "__all__", None) or [n for n in vars(obj) if _public(n)]
            rows += [(f"{package}.{name}.{n}", _identifier(getattr(obj, n), f"{obj.__name__}.{n}")) for n in inner
                     if (inspect.isclass(getattr(obj, n)) or inspect.isfunction(getattr(obj, n)))
                     and _defined_inside(getattr(obj, n), obj.__name__)]
        else:
            rows.append((f"{package}.{name}", _identifier(obj, f"{package}.{name}")))
    return rows


def page(package):
    lines = [f"# `{package}`", "", PACKAGES[package], ""]
    for heading, identifier in _members(package):
        lines += [f"## `{heading}`", "", f"::: {identifier}", "    options:", "      show_root_heading: false",
                  "      heading_level: 3", ""]
    return "\n".join(lines)


ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def from_root(name, links):
    """A file of the repository root as a page: its links into docs/ made relative to the site."""
    with open(os.path.join(ROOT, name), encoding="utf-8") as f:
        text = f.read()
    for old, new in links:
        text = text.replace(old, new)
    return text


def on_files(files, config):
    for package in PACKAGES:
        files.append(File.generated(config, f"api/{package}.md", content=page(package)))
    # The README is the home page and the CHANGELOG a page: one text each, on GitHub and on the site.
    files.append(File.generated(config, "index.md", content=from_root(
        "README.md", [("](docs/", "]("), ("](CHANGELOG.md)", "](changelog.md)")])))
    files.append(File.generated(config, "changelog.md", content=from_root("CHANGELOG.md", [("](docs/", "](")])))
    return files


def on_config(config):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the build imports the packages; TensorFlow's notes are noise
    return config

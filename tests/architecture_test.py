"""The layout's rules, checked from the source: dependencies point one way (edge <- core <- export),
no import cycles between modules (function-level imports included), one version everywhere."""
import ast
import configparser
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = {"wgan_edge": "edge/wgan_edge", "wgan_keras": "wgan_keras", "wgan_export": "export"}
ALLOWED = {  # what each package may import among ours and the heavy libraries
    "wgan_edge": {"wgan_edge"},
    "wgan_keras": {"wgan_edge", "wgan_keras", "tensorflow", "keras"},
    "wgan_export": {"wgan_edge", "wgan_keras", "wgan_export", "tensorflow", "keras", "tf_keras"},
}
WATCHED = {"wgan_edge", "wgan_keras", "wgan_export", "tensorflow", "keras", "tf_keras"}


def modules():
    """{module name: file path} of every module of the three packages."""
    found = {}
    for package, folder in PACKAGES.items():
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            for name in files:
                if name.endswith(".py"):
                    rel = os.path.relpath(os.path.join(dirpath, name), os.path.join(ROOT, folder))
                    parts = [package] + rel[:-3].split(os.sep)
                    found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = os.path.join(dirpath, name)
    return found


def imports(path, name, known):
    """Every module `path` imports (top-level or inside functions), resolved to our module names."""
    out = set()
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative import
                base = ".".join(name.split(".")[:-node.level] + ([base] if base else []))
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known)
    return out


def graph():
    known = modules()
    return {m: {i for i in imports(p, m, known) if i in known} for m, p in known.items()}, known


def test_dependencies_point_one_way():
    known = modules()
    for module, path in known.items():
        package = module.split(".")[0]
        for imported in imports(path, module, known):
            top = imported.split(".")[0]
            assert top not in WATCHED or top in ALLOWED[package], f"{module} imports {imported}"


def test_no_import_cycles():
    edges, _ = graph()
    # A package's __init__ importing its own submodules is how packages work, not a cycle between rooms.
    edges = {m: {i for i in deps if not (m == i.rsplit(".", 1)[0] or i == m.rsplit(".", 1)[0])}
             for m, deps in edges.items()}
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                cycle = stack[stack.index(nxt):] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)


def test_the_checker_sees_function_level_imports_and_cycles(tmp_path):
    """The import scan must not be blind: a lazy import inside a function counts."""
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from wgan_export.load import describe\n    import tensorflow\n")
    found = imports(str(source), "wgan_edge.m", {"wgan_export.load", "wgan_export.load.describe"})
    assert {"wgan_export.load", "tensorflow"} <= found


def test_one_version_everywhere():
    cfg = configparser.ConfigParser()
    cfg.read(os.path.join(ROOT, "setup.cfg"))
    versions = {"setup.cfg": cfg["metadata"]["version"]}
    for name, path, pattern in (("edge/pyproject.toml", "edge/pyproject.toml", r'^version = "([^"]+)"'),
                                ("wgan_keras", "wgan_keras/__init__.py", r'^__version__ = "([^"]+)"'),
                                ("wgan_edge", "edge/wgan_edge/__init__.py", r'^__version__ = "([^"]+)"')):
        versions[name] = re.search(pattern, open(os.path.join(ROOT, path)).read(), re.M).group(1)
    assert len(set(versions.values())) == 1, versions


def test_edge_distribution_ships_only_the_edge_package():
    text = open(os.path.join(ROOT, "edge", "pyproject.toml")).read()
    deps = re.search(r"dependencies = \[(.*?)\]", text, re.S).group(1)
    names = {re.match(r'\s*"([A-Za-z0-9_.-]+)', d).group(1).lower() for d in deps.split(",") if d.strip()}
    assert names == {"numpy", "ai-edge-litert"}


def test_docs_flags_table_is_the_generated_one():
    """docs/flags.md cannot drift from --help: both come from the config dataclasses."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("make_flags", os.path.join(ROOT, "docs", "make_flags.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert open(os.path.join(ROOT, "docs", "flags.md")).read() == module.render(), \
        "regenerate: python docs/make_flags.py > docs/flags.md"


def test_library_files_and_functions_stay_short():
    """docs/architecture.md: a library file (wgan_edge, wgan_keras, wgan_export) within 300 lines, a function
    within 60."""
    long = []
    for module, path in modules().items():
        source = open(path).read()
        if source.count("\n") > 300:
            long.append(f"{module}: {source.count(chr(10))} lines")
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 60:
                long.append(f"{module}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not long


def test_architecture_doc_names_every_module():
    text = open(os.path.join(ROOT, "docs", "architecture.md")).read()
    missing = [module for module, path in modules().items() if f"`{os.path.basename(path)}`" not in text]
    assert not missing, f"docs/architecture.md does not name {missing}"

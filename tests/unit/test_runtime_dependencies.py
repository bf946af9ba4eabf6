"""Every import under src/ is provided by `[project.dependencies]`: what `pip install .` gives.

The test environment also has the `test` extra, so a module-level import of a test-only package
(httpx was one) passes every other test here and fails on a user's first `dpghub` command. This
scan reads the imports of src/ with `ast`, maps each top-level module to the distributions that
provide it, and follows the requirements of `[project.dependencies]` (with the extras they ask
for) through the installed metadata. A module of an extra a user may choose (`spark`) may be
imported inside a function only, where the hub says what to install when it is missing.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src"
TOOLING = {"test", "dev", "lint", "docs", "bench"}   # extras that are not for users


def closure(requirements: Iterable[str]) -> set[str]:
    """The distributions these requirements install: each one's own requirements followed,
    with the extras asked for, as far as the installed metadata tells."""
    found: set[str] = set()
    seen: set[tuple[str, str]] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        found.add(name)
        for extra in ("", *sorted(req.extras)):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            try:
                requires = metadata.requires(name) or []
            except metadata.PackageNotFoundError:
                continue
            for line in requires:
                child = Requirement(line)
                if child.marker is None or child.marker.evaluate({"extra": extra}):
                    todo.append(child)
    return found


def providers() -> dict[str, set[str]]:
    """Top-level module → the distributions that install it."""
    return {module: {canonicalize_name(d) for d in dists}
            for module, dists in metadata.packages_distributions().items()}


def imports(source: str) -> Iterable[tuple[str, int, bool]]:
    """(top-level module, line, inside a function) of every absolute import."""
    tree = ast.parse(source)
    lazy = {id(node) for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef) for node in ast.walk(fn)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            yield name.split(".")[0], node.lineno, id(node) in lazy


def unprovided(sources: dict[str, str], project: dict) -> dict[str, list[str]]:
    """Modules imported by `sources` (name → text) that a plain `pip install .` lacks, with
    where they are imported."""
    runtime = closure(project.get("dependencies", []))
    optional = closure(r for extra, reqs in project.get("optional-dependencies", {}).items()
                       if extra not in TOOLING for r in reqs)
    provided = providers()
    own = {p.name for p in SRC.iterdir() if p.is_dir()}
    missing: dict[str, list[str]] = {}
    for where, text in sources.items():
        for module, line, lazy in imports(text):
            if module in own or module in sys.stdlib_module_names:
                continue
            dists = provided.get(module, set())
            if dists & runtime or (lazy and dists & optional):
                continue
            missing.setdefault(module, []).append(f"{where}:{line}")
    return missing


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_every_import_under_src_is_a_runtime_dependency() -> None:
    sources = {str(path.relative_to(ROOT)): path.read_text(encoding="utf-8")
               for path in sorted(SRC.rglob("*.py"))}
    assert len(sources) > 50
    missing = unprovided(sources, _project())
    assert missing == {}, (
        "imported under src/ but not installed by `pip install .` (add them to "
        f"[project.dependencies] in pyproject.toml, or use what is there): {missing}")


def test_the_scan_catches_test_only_and_optional_packages_at_module_level() -> None:
    """The check itself: what the test extra or an optional extra installs is not enough."""
    project = _project()
    # (pytest itself now comes with schemathesis, a dependency of the hub's; moto does not)
    assert unprovided({"a.py": "import httpx\nimport moto\nfrom fastapi import FastAPI\n"},
                      project) == {"httpx": ["a.py:1"], "moto": ["a.py:2"]}
    assert unprovided({"b.py": "import pyspark\n"}, project) == {"pyspark": ["b.py:1"]}
    inside = "def engine():\n    from pyspark.sql import SparkSession\n    import moto\n"
    assert unprovided({"c.py": inside}, project) == {"moto": ["c.py:3"]}
    # a requirement's extras count: uvicorn[standard] brings uvloop, watchfiles, websockets
    assert {"uvloop", "websockets"} <= closure(["uvicorn[standard]"])
    assert "websockets" not in closure(["uvicorn"])

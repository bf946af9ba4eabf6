"""The tests' own layout: every folder is a package, and no test module imports another.

Shared builders live in tests/support/; a test that imported another test module would run
that module's import-time work and tie two unrelated files together.
"""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
        elif isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
    return names


def test_every_test_folder_is_a_package() -> None:
    folders = {path.parent for path in TESTS.rglob("*.py") if "__pycache__" not in path.parts}
    assert sorted(str(f.relative_to(TESTS)) for f in folders
                  if not (f / "__init__.py").exists()) == []


def test_no_test_module_imports_another_or_another_folders_conftest() -> None:
    wrong = []
    for path in sorted(TESTS.rglob("*.py")):
        own = ".".join(("tests", *path.parent.relative_to(TESTS).parts, "conftest"))
        for name in _imports(path):
            last = name.rsplit(".", 1)[-1]
            if not name.startswith("tests."):
                continue
            if last.startswith("test_") or (
                    last == "conftest" and name not in ("tests.conftest", own)):
                wrong.append(f"{path.relative_to(TESTS)} imports {name}")
    assert wrong == []

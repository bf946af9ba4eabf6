"""The command line's commands, read the way tools/docs_tables.py writes them into the docs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def docs_tables() -> ModuleType:
    """tools/docs_tables.py, which is a script, not a package."""
    spec = importlib.util.spec_from_file_location("docs_tables", ROOT / "tools" / "docs_tables.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


TABLES = docs_tables()


def command_names(group: Any) -> list[str]:
    """Every leaf command's full name (`dpghub regions load`)."""
    from typer.main import get_command

    return [path for path, _ in TABLES.walk_commands(get_command(group))]

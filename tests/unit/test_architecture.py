"""The walls import-linter cannot express (the contracts in pyproject.toml hold the rest):

- a domain's routes and commands reach another domain only through its public surface (its
  service, schemas, and the few modules it names below), never its tables or internals;
- no module takes a private name (`_x`) from another module.

Imports inside functions count; imports under `if TYPE_CHECKING:` (type hints only) do not.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "dpghub"
DOMAINS = ("identity", "lake", "analysis", "catalog", "gateway")
# what each domain offers the others (DESIGN.md: "a small public module it names")
PUBLIC = {
    "identity": {"service", "schemas", "policy", "dependencies"},
    "lake": {"service", "schemas", "tables", "storage", "rows", "profile", "vocabulary"},
    "analysis": {"service", "schemas"},
    "catalog": {"service", "schemas", "openapi"},
    "gateway": {"service", "schemas", "credentials"},
}
ROUTES = ("api", "pages", "cli")


def module_name(path: Path) -> list[str]:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports(path: Path) -> list[tuple[int, list[str], list[str]]]:
    """(line, target module as parts, names) of every import outside TYPE_CHECKING blocks."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped.update(id(n) for n in ast.walk(node))
    here = module_name(path)
    package = here if path.name == "__init__.py" else here[:-1]
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            target = base + (node.module.split(".") if node.module else [])
            found.append((node.lineno, target, [a.name for a in node.names]))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                found.append((node.lineno, alias.name.split("."), []))
    return found


def resolved(target: list[str], name: str) -> list[str]:
    """`from dpghub.lake import service` names the module dpghub.lake.service."""
    folder = PACKAGE.parent.joinpath(*target)
    if (folder / name).is_dir() or any(folder.glob(f"{name}.*py*")) or \
            any(folder.glob(f"{name}.*.so")):
        return [*target, name]
    return target


def test_routes_reach_other_domains_only_through_their_public_surface() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        here = module_name(path)
        if len(here) < 3 or here[1] not in DOMAINS:
            continue
        is_route = here[2] in ROUTES
        for line, target, names in imports(path):
            for module in ([resolved(target, n) for n in names] or [target]):
                if len(module) < 2 or module[0] != "dpghub" or module[1] not in DOMAINS \
                        or module[1] == here[1]:
                    continue
                room = module[2] if len(module) > 2 else None
                allowed = PUBLIC[module[1]] | ({"models"} if not is_route else set())
                if room not in allowed:
                    wrong.append(f"{'.'.join(here)}:{line} imports {'.'.join(module)}")
    assert wrong == [], "\n".join(sorted(set(wrong)))


def test_no_module_takes_a_private_name_from_another() -> None:
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        here = module_name(path)
        for line, target, names in imports(path):
            if target[:1] != ["dpghub"] or target == here:
                continue
            for name in names:
                if name.startswith("_") and not name.startswith("__") and \
                        resolved(target, name) == target:
                    wrong.append(f"{'.'.join(here)}:{line} takes {'.'.join(target)}.{name}")
    assert wrong == [], "\n".join(sorted(wrong))

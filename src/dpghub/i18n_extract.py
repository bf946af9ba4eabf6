"""Find every translatable message in the code and templates, and keep the catalogs complete.

Used by `make messages` (adds missing ids to each .po file) and by a test that fails when a
message has no Korean translation.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from .core.i18n import LOCALE_DIR

PACKAGE = Path(__file__).resolve().parent
ERROR_CALLS = {"HubError", "Invalid", "Unauthenticated", "Forbidden", "NotFound", "Conflict",
               "Locked", "TooLarge", "TooManyRequests", "Unavailable", "translate", "redirect", "JobFailed",
               "IngestError", "bad_file", "invalid_option", "QueryTimeout", "QueryTooLarge",
               "Fault", "Unresolved", "Outside", "notify", "_act", "Figure", "ModelFailed"}
TEMPLATE_CALL = re.compile(r"""_\(\s*(?P<q>["'])(?P<id>.+?)(?P=q)\s*[,)]""", re.S)


def messages() -> set[str]:
    found: set[str] = set()
    for path in (PACKAGE / "web" / "templates").rglob("*.html"):
        found.update(m.group("id") for m in TEMPLATE_CALL.finditer(path.read_text()))
    for path in PACKAGE.rglob("*.py"):
        found.update(_python_messages(ast.parse(path.read_text(), str(path))))
    found.update(_enum_labels())
    return found


def _enum_labels() -> set[str]:
    """Values shown through `_()` in templates: kinds, roles, access levels, states, types."""
    from .core.jobs import JobState
    from .gateway.models import Plan, SubscriptionStatus
    from .identity.models import OrgKind, Role
    from .lake.infer import TYPES
    from .lake.models import AccessLevel, WriteMode

    labels = {k.value for k in OrgKind} | {r.value for r in Role}
    labels |= {a.value for a in AccessLevel} | {m.value for m in WriteMode} | set(TYPES)
    labels |= {JobState.queued, JobState.running, *JobState.finished, "restore"}
    labels |= {"file", "line", "column", "value"}
    labels |= {p.value for p in Plan} | {s.value for s in SubscriptionStatus}
    labels |= _testbed_labels() | _privacy_labels()
    return labels


def _privacy_labels() -> set[str]:
    # states of combinations and exports, decisions, and why a cell was hidden
    from .privacy.models import CombinationState, ExportState

    labels = {s.value for s in CombinationState} | {s.value for s in ExportState}
    return labels | {"approve", "reject", "pending", "primary", "secondary", "dominance",
                     "difference"}


def _testbed_labels() -> set[str]:
    # a project's stage and a ticket's state have words of their own (testbed/_labels.html)
    return {"collaborator", "api", "data", "infrastructure", "ai", "other", "low", "normal",
            "high", "ready", "done", "mock", "proxy", "expired", "revoked", "active"}


def _python_messages(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name in ERROR_CALLS:
                # where the message is: a flash after the URL, a notice after the user; the
                # testbed pages' `_act(request, session, actor, project_id, work, flash)`
                position = {"redirect": 2, "Fault": 3, "notify": 2, "_act": 5,
                            "Figure": 1}.get(name, 0)
                args = node.args
                if len(args) > position and isinstance(args[position], ast.Constant) and \
                        isinstance(args[position].value, str):
                    found.add(args[position].value)
                for keyword in node.keywords:
                    if name == "redirect" and keyword.arg == "flash" and \
                            isinstance(keyword.value, ast.Constant):
                        found.add(str(keyword.value.value))
        elif isinstance(node, ast.ClassDef):
            for statement in node.body:
                if isinstance(statement, ast.Assign) and any(
                        getattr(t, "id", None) == "title" for t in statement.targets) and \
                        isinstance(statement.value, ast.Constant):
                    found.add(str(statement.value.value))
        elif isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) in ("_REFUSALS", "TRANSLATED", "_STATUS_NOTICES")
                for t in node.targets):
            if isinstance(node.value, ast.Dict):
                found.update(str(v.value) for v in node.value.values
                             if isinstance(v, ast.Constant))
    return found


def update(lang: str = "ko") -> list[str]:
    """Add missing message ids to the catalog; return those that still lack a translation."""
    path = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists():
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=lang)
    else:
        catalog = Catalog(locale=lang, project="dpghub")
    for msgid in sorted(messages()):
        if msgid not in catalog:
            catalog.add(msgid, "")
    with path.open("wb") as handle:
        write_po(handle, catalog, width=100, sort_output=True, omit_header=False)
    return missing(lang)


def missing(lang: str = "ko") -> list[str]:
    from .core.i18n import catalog

    catalog.cache_clear()
    known = catalog(lang)
    return sorted(m for m in messages() if not known.get(m))


if __name__ == "__main__":
    gaps = update()
    print(f"{len(gaps)} messages without a Korean translation")
    for gap in gaps:
        print(" -", gap)

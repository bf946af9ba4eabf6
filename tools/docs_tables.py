"""The reference tables of the README and docs/, generated from their one declaration.

    .venv/bin/python tools/docs_tables.py           # rewrite the tables in place
    .venv/bin/python tools/docs_tables.py --check   # exit 1 naming each table that drifted

A table sits in its page between `<!-- generated: NAME -->` and `<!-- end: NAME -->`; the
text between the marks belongs to this script. Settings come from `dpghub.config.Settings`,
commands from the typer app, permission actions from `identity.policy.ACTIONS`, so a new
setting, command or action changes the docs by running this, and tests/unit/test_docs.py
fails until someone does.
"""

from __future__ import annotations

import enum
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import typer.main

ROOT = Path(__file__).resolve().parents[1]


# --- settings -------------------------------------------------------------------------------

def settings_table() -> str:
    from dpghub.config import Settings

    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        rows.append(f"| `DPGHUB_{name.upper()}` | {_default(field.default)} | "
                    f"{_cell(field.description or '')} |")
    return "\n".join(rows)


def _default(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"`{value}`"


# --- commands -------------------------------------------------------------------------------

def commands_table() -> str:
    from dpghub.cli import app

    rows = ["| command | what it does |", "|---|---|"]
    for path, command in walk_commands(typer.main.get_command(app)):
        help_text = (command.help or "").strip().split("\n\n")[0].replace("\n", " ")
        rows.append(f"| `{_cell(usage(path, command))}` | {_cell(help_text)} |")
    return "\n".join(rows)


def walk_commands(group: Any, path: str = "dpghub") -> Iterator[tuple[str, Any]]:
    """Every leaf command with its full name, in the order the CLI lists them."""
    children = getattr(group, "commands", None)
    if not children:
        yield path, group
        return
    for name, child in children.items():
        yield from walk_commands(child, f"{path} {name}")


def usage(path: str, command: Any) -> str:
    """`dpghub ingest PATHS… --org ORG [--mode append|replace|upsert] …` from the params
    (typer's own click: arguments have no leading dashes, options do)."""
    parts = [path]
    for param in command.params:
        if param.name == "help":
            continue
        if not param.opts[0].startswith("-"):
            name = (param.metavar or param.name or "").upper()
            parts.append(name + ("…" if param.nargs == -1 else ""))
            continue
        flag = max(param.opts, key=len)
        if param.is_flag:
            text = flag
        else:
            text = f"{flag} {_metavar(param)}"
            if param.multiple:
                text += " …"
        parts.append(text if param.required else f"[{text}]")
    return " ".join(parts)


def _metavar(param: Any) -> str:
    """The choices of an enum-typed option, else the option's name in capitals."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return "|".join(str(member.value) for member in annotation)
    return (param.name or "value").rstrip("_").upper()


# --- permission actions ---------------------------------------------------------------------

RULES = {
    "anyone": "anyone, signed in or not",
    "authenticated": "any signed-in user",
    "self": "the user themselves",
    "org_member": "members of the organization",
    "org_editor": "editors and admins of the organization",
    "org_admin": "admins of the organization",
    "operator": "platform operators",
    "data_reader": "depends on the dataset's access level",
    "data_sampler": "as for rows, and apps with an approved development subscription",
    "data_owner": "open data: anyone; restricted and sensitive: members of the owner",
    "supporter": "the testbed's support staff (platform role `supporter`) and operators",
    "participant": "members of the organization of the project (or safe zone) and the people "
                   "it names: invited collaborators, zone analysts",
    "key_manager": "key managers (platform role `key_manager`; not operators as such)",
    "reviewer": "export reviewers (platform role `reviewer`; not operators as such)",
    "applicant": "members of the applying organizations (a consortium's lead and members) "
                 "and the call's assigned reviewers",
    "call_reviewer": "the reviewers operators assigned to the call (not operators as such)",
    "team": "people of the project's lead and consortium member organizations, operators",
}


def actions_table() -> str:
    from dpghub.identity.policy import ACTIONS

    rows = ["| action | who may | changes state | what it allows |", "|---|---|---|---|"]
    unworded = {a.rule.value for a in ACTIONS.values()} - set(RULES)
    if unworded:
        raise SystemExit(f"tools/docs_tables.py: RULES has no wording for {sorted(unworded)}")
    for action in ACTIONS.values():
        rows.append(f"| `{action.name}` | {RULES[action.rule.value]} | "
                    f"{'yes' if action.write else 'no'} | {_cell(action.description)} |")
    return "\n".join(rows)


def _cell(text: str) -> str:
    """One table cell: one line, and `|` escaped (GitHub splits cells on it even in code)."""
    return " ".join(text.split()).replace("|", "\\|")


# --- the pages ------------------------------------------------------------------------------

TABLES: dict[str, tuple[str, Callable[[], str]]] = {
    "settings": ("README.md", settings_table),
    "commands": ("README.md", commands_table),
    "actions": ("docs/identity.md", actions_table),
}


def block(name: str, text: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- generated: {name} -->\n)(.*?)(<!-- end: {name} -->)", re.S)


def current(name: str) -> str | None:
    """The table as the page holds it now (None when the page has no marks for it)."""
    page, _ = TABLES[name]
    found = block(name, "").search((ROOT / page).read_text(encoding="utf-8"))
    return found.group(2).rstrip("\n") if found else None


def expected(name: str) -> str:
    return TABLES[name][1]()


def write(name: str) -> bool:
    """Put the generated table into its page; True when the page changed."""
    page, _ = TABLES[name]
    path = ROOT / page
    text = path.read_text(encoding="utf-8")
    pattern = block(name, text)
    if not pattern.search(text):
        raise SystemExit(f"{page} has no '<!-- generated: {name} -->' … "
                         f"'<!-- end: {name} -->' marks")
    updated = pattern.sub(lambda m: m.group(1) + expected(name) + "\n" + m.group(3), text)
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


def main(argv: list[str]) -> int:
    if argv[1:] == ["--check"]:
        drifted = [n for n in TABLES if current(n) != expected(n)]
        for name in drifted:
            print(f"{TABLES[name][0]}: the {name} table is out of date; run "
                  "`.venv/bin/python tools/docs_tables.py`", file=sys.stderr)
        return 1 if drifted else 0
    if argv[1:]:
        print(__doc__, file=sys.stderr)
        return 2
    for name in TABLES:
        if write(name):
            print(f"{TABLES[name][0]}: {name} table updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

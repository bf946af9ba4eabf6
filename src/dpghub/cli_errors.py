"""How every `dpghub` command ends on bad input or a refusal: one line that names the field at
fault, in the terminal's language, and a non-zero exit; never a traceback.

Exit 2 for input that is not valid (as click does for a bad option), 1 for the other refusals
(not found, conflicts, permissions, a database error). The field is named as
the user typed it: the option (`--dataset`) whose value failed, else the schema's field, else
the setting's variable (`DPGHUB_…`) when the environment holds a bad value.
"""

from __future__ import annotations

import os
from typing import Any

import typer
from pydantic import ValidationError
from rich.console import Console
from sqlalchemy.exc import OperationalError
from typer.core import TyperCommand, TyperGroup, TyperOption

from .core.errors import HubError
from .core.i18n import LANGUAGES, translate

ARGV = "dpghub.argv"
err = Console(stderr=True, soft_wrap=True, highlight=False)


class HubCommands(TyperGroup):
    """The root command group: every command runs inside its `invoke`, so its errors end here."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta[ARGV] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (HubError, ValidationError, OperationalError) as exc:
            leaf, argv = self._leaf(ctx)
            code, line = explain(exc, leaf, argv, terminal_language())
            err.print(line, markup=False)
            raise typer.Exit(code) from None

    def _leaf(self, ctx: Any) -> tuple[TyperCommand | TyperGroup | None, list[str]]:
        """The command that ran and the arguments after its name."""
        argv = ctx.meta.get(ARGV, [])
        command: TyperCommand | TyperGroup | None = self
        at = 0
        while isinstance(command, TyperGroup) and at < len(argv):
            command = command.get_command(ctx, argv[at])
            at += 1
        return command, argv[at:]


def terminal_language() -> str:
    """Korean when the terminal's locale is Korean (LANG=ko_KR.UTF-8), else English."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "")
        if value:
            lang = value.split("_")[0].split(".")[0].lower()
            return lang if lang in LANGUAGES else "en"
    return "en"


def explain(exc: Exception, command: TyperCommand | TyperGroup | None, argv: list[str],
            lang: str) -> tuple[int, str]:
    """(exit code, the one line) for an error a command raised."""
    if isinstance(exc, ValidationError):
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid"}
        field = ".".join(str(part) for part in first.get("loc", ()))
        if exc.title == "Settings":     # the environment holds a bad setting
            shown = f"DPGHUB_{field.upper()}"
        else:
            shown = _typed_as(command, argv, field, first.get("input"))
        message = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        text = translate("{field}: {message}", lang, field=shown or "input", message=message)
        return 2, _one_line(text, lang)
    if isinstance(exc, OperationalError):
        reason = str(exc.orig or exc).strip().splitlines()[0]
        return 1, _one_line(translate("Database error: {reason}", lang,
                                      reason=reason), lang)
    assert isinstance(exc, HubError)
    shown = _typed_as(command, argv, exc.field, None) if exc.field else None
    params = {**exc.params, "field": shown} if shown else exc.params
    text = translate(exc.message, lang, **params)
    if shown and not text.startswith(shown):
        text = f"{shown}: {text}"
    return (2 if exc.status in (400, 422) else 1), _one_line(text, lang)


def _one_line(text: str, lang: str) -> str:
    return f"{translate('error', lang)}: " + " ".join(text.split())


def _typed_as(command: TyperCommand | TyperGroup | None, argv: list[str], field: str | None,
              value: Any) -> str | None:
    """The option the user typed for this field: the one given the failing value, or the one
    named like the field; else the field itself."""
    if command is None or not field:
        return field
    options = [p for p in command.params if isinstance(p, TyperOption)]
    if value is not None:
        wanted = str(value)
        for at, token in enumerate(argv):
            name, eq, given = token.partition("=")
            if eq and given == wanted and any(name in p.opts for p in options):
                return name
            if token == wanted and at and any(argv[at - 1] in p.opts and not p.is_flag
                                             for p in options):
                return argv[at - 1]
    top = field.split(".")[0]
    for param in options:
        if param.name == top:
            return max(param.opts, key=len) + field[len(top):]
    return field

"""The README documents every setting and every CLI command (and they exist)."""

from __future__ import annotations

from pathlib import Path

import typer.main

from dpghub.cli import app
from dpghub.config import Settings

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()


def test_readme_opens_with_the_two_commands() -> None:
    block = README.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines()]
    assert commands == ["make run", "make test"]


def test_every_setting_is_documented() -> None:
    for name in Settings.model_fields:
        assert f"`DPGHUB_{name.upper()}`" in README, f"DPGHUB_{name.upper()} is not in the README"


def _commands(group: typer.Typer, prefix: str = "dpghub") -> list[str]:
    click_group = typer.main.get_command(group)
    names: list[str] = []

    def walk(command, path: str) -> None:  # type: ignore[no-untyped-def]
        sub = getattr(command, "commands", None)
        if sub:
            for name, child in sub.items():
                walk(child, f"{path} {name}")
        else:
            names.append(path)

    walk(click_group, prefix)
    return names


def test_every_cli_command_is_documented() -> None:
    commands = _commands(app)
    assert "dpghub audit verify" in commands
    for command in commands:
        assert f"`{command}" in README, f"{command} is not in the README"

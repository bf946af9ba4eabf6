"""The command line, in-process with typer's runner, on both backends."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from dpghub.cli import app
from dpghub.core.audit import AuditEvent
from dpghub.core.db import make_engine
from tests.conftest import empty_database

runner = CliRunner()


@pytest.fixture
def cli_env(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DPGHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DPGHUB_DATABASE_URL", db_url)
    yield db_url
    engine = make_engine(db_url)
    empty_database(engine)
    engine.dispose()


def run(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_init_is_idempotent_and_prints_the_login(cli_env: str) -> None:
    first = run("init", "--demo")
    password = re.search(r"with password (\S+)", first)
    assert password and "admin@dpghub.kr" in first
    assert "mois" in first
    second = run("init", "--demo")
    assert "already exists" in second and "with password" not in second


def test_org_user_token_and_audit_commands(cli_env: str) -> None:
    run("init", "--admin-email", "ops@example.com", "--admin-password", "operator-pass-1")
    run("org", "create", "mois", "--name-ko", "행정안전부", "--name-en", "MOIS", "--kind", "public",
        "--verified")
    created = run("user", "create", "kim@example.com", "--org", "mois", "--role", "editor")
    assert re.search(r"Password: \S{19}", created)
    token = run("token", "create", "kim@example.com", "--name", "batch", "--scope", "read",
                "--scope", "write")
    assert re.search(r"dpg_[\w-]{40,}", token)
    run("user", "password", "kim@example.com", "--password", "another-pass-2")
    assert "OK" in run("audit", "verify")


def test_bad_input_exits_with_the_reason(cli_env: str) -> None:
    run("init", "--admin-password", "operator-pass-1")
    run("org", "create", "mois", "--name-ko", "가", "--name-en", "A", "--kind", "public")
    duplicate = run("org", "create", "mois", "--name-ko", "가", "--name-en", "A", "--kind",
                    "public", code=1)
    assert "already taken" in duplicate
    assert "slug" in run("org", "create", "Bad Slug", "--name-ko", "가", "--name-en", "A",
                         "--kind", "public", code=2)
    assert "does not exist" in run("user", "create", "x@example.com", "--org", "nope", code=1)
    assert "No account" in run("token", "create", "ghost@example.com", "--name", "t", code=1)


def test_commands_refuse_an_uninitialised_hub(cli_env: str, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPGHUB_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    assert "dpghub init" in run("org", "create", "x1", "--name-ko", "가", "--name-en", "A",
                                "--kind", "civic", code=1)


def test_audit_verify_names_a_hand_edited_row(cli_env: str) -> None:
    run("init", "--admin-password", "operator-pass-1", "--demo")
    engine = make_engine(cli_env)
    with engine.begin() as conn:
        conn.execute(update(AuditEvent).where(AuditEvent.seq == 3)
                     .values(details={"slug": "tampered"}))
    engine.dispose()
    broken = run("audit", "verify", code=1)
    assert "BROKEN" in broken and "event 3" in broken


def test_every_command_has_help() -> None:
    from tests.unit.test_docs import _commands

    commands = [c.split()[1:] for c in _commands(app)]
    assert ["ingest"] in commands and ["query"] in commands and ["regions", "load"] in commands
    for command in [[], *commands]:
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, command

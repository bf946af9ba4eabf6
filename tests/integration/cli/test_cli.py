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


ENGLISH = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}


def run(*args: str, code: int = 0, env: dict[str, str | None] | None = None) -> str:
    result = runner.invoke(app, list(args), env={**ENGLISH, **(env or {})})
    assert result.exit_code == code, result.output
    return result.output


def refused(*args: str, code: int, env: dict[str, str | None] | None = None) -> str:
    """A command that fails: one line on stderr, no traceback, the exit code asked for."""
    result = runner.invoke(app, list(args), env={**ENGLISH, **(env or {})})
    assert result.exit_code == code, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exception
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.output
    return lines[0]


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


def test_every_command_names_the_field_in_one_line(cli_env: str, tmp_path: Path) -> None:
    run("init", "--admin-password", "operator-pass-1")
    run("org", "create", "mois", "--name-ko", "행정안전부", "--name-en", "MOIS", "--kind",
        "public")
    csv = tmp_path / "f.csv"
    csv.write_text("시도,인구\n서울,9400000\n", encoding="utf-8")
    # the option the user typed is named, not the schema's field behind it
    assert refused("ingest", str(csv), "--org", "mois", "--dataset", "Bad Slug!", code=2) == (
        "error: --dataset: a slug is 2 to 64 lowercase letters, digits and dashes, starting "
        "and ending with a letter or digit")
    assert refused("ingest", str(csv), "--org", "mois", "--dataset=Bad", code=2).startswith(
        "error: --dataset: a slug is")
    assert refused("ingest", str(csv), "--org", "mois", "--dataset", "fine", "--mode",
                   "upsert", code=2) == "error: --key: An upsert needs the key column(s)"
    # ... and the refused ingestion left nothing behind, not even the dataset it would create
    assert "does not exist" in refused("dataset", "show", "mois/fine", code=1)
    assert refused("ingest", str(csv), "--org", "nowhere", "--dataset", "fine", code=1) == \
        "error: Organization nowhere does not exist"
    assert refused("token", "create", "admin@dpghub.kr", "--name", "t", "--days", "-3",
                   code=2) == "error: --days: Input should be greater than or equal to 1"
    assert refused("user", "create", "not-an-address", code=2) == \
        "error: email: not a valid e-mail address"
    assert refused("query", "DROP TABLE mois.x", code=1) == \
        "error: Only SELECT queries are allowed (this is DROP)"
    assert refused("regions", "load", str(csv), code=2).startswith(
        "error: f.csv: not an official code file (no column named 법정동코드")
    # a bad setting in the environment names its variable
    assert refused("datasets", "list", code=2, env={"DPGHUB_DEFAULT_LANGUAGE": "fr"}) == \
        "error: DPGHUB_DEFAULT_LANGUAGE: String should match pattern '^(ko|en)$'"


def test_errors_follow_the_terminal_language(cli_env: str) -> None:
    run("init", "--admin-password", "operator-pass-1")
    run("org", "create", "mois", "--name-ko", "가", "--name-en", "A", "--kind", "public")
    args = ("org", "create", "mois", "--name-ko", "가", "--name-en", "A", "--kind", "public")
    assert refused(*args, code=1, env={"LANG": "ko_KR.UTF-8"}) == \
        "오류: slug: 식별자 mois은(는) 이미 사용 중입니다"
    assert refused(*args, code=1) == "error: slug: The slug mois is already taken"


def test_an_unreachable_database_is_one_line(cli_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DPGHUB_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert refused("datasets", "list", code=1).startswith("error: Database error: ")


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
    from tests.support.commands import command_names

    commands = [c.split()[1:] for c in command_names(app)]
    assert ["ingest"] in commands and ["query"] in commands and ["regions", "load"] in commands
    for command in [[], *commands]:
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0 and "Usage" in result.output, command


def test_commands_that_run_jobs_know_every_kind(cli_env: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """`dpghub worker` and `dpghub ingest` run whatever job is queued, derived datasets too
    (the worker once knew only the lake's kinds and failed a derive job with 'no handler')."""
    from dpghub.analysis.service import DERIVE_JOB
    from dpghub.core import jobs
    from dpghub.lake.service import INGEST_JOB, RESTORE_JOB
    from dpghub.privacy.service import combinations, pseudonyms
    from dpghub.testbed.service import synthetic, validations

    run("init")
    monkeypatch.setattr(jobs, "HANDLERS", {})       # as in a fresh process
    monkeypatch.setattr(jobs, "RECOVERY_HOOKS", [])
    run("audit", "verify")                           # any command that opens the hub
    assert set(jobs.HANDLERS) == {INGEST_JOB, RESTORE_JOB, DERIVE_JOB, synthetic.JOB,
                                  validations.JOB, pseudonyms.JOB, combinations.JOB}
    assert len(jobs.RECOVERY_HOOKS) == 1

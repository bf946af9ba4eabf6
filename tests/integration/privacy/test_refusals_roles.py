"""Platform roles (key_manager, reviewer) are granted by operators only, by name: through the
API and the CLI a non-operator or an unknown role is refused and nothing changes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dpghub.cli import app
from dpghub.core.db import make_engine
from tests.conftest import Hub, empty_database
from tests.support.privacy import make_world
from tests.support.refusals import changed, refused, state

runner = CliRunner()
ENGLISH = {"LC_ALL": None, "LC_MESSAGES": None, "LANG": "C.UTF-8"}


def test_only_operators_grant_known_roles(hub: Hub) -> None:
    w = make_world(hub)
    operator = hub.make_user(operator=True)
    target = hub.make_user("new@committee.kr")
    before = state(w, operator, target)
    for actor in (w.key_manager, w.reviewers[0], w.hospital_admin):
        for method in ("POST", "DELETE"):
            answer = w.call(actor, method, f"/users/{target.id}/roles/reviewer")
            assert answer.status_code == 403, (method, answer.text)
    assert w.call(None, "POST", f"/users/{target.id}/roles/reviewer").status_code == 401
    for method in ("POST", "DELETE"):
        refused(w.call(operator, method, f"/users/{target.id}/roles/judge"), 422,
                "unknown_role", "judge", "reviewer", field="role")
    assert w.call(operator, "POST", "/users/999999/roles/reviewer").status_code == 404
    assert changed(before, state(w, operator, target)) == []

    granted = w.ok(operator, "POST", f"/users/{target.id}/roles/reviewer")
    assert granted["platform_roles"] == ["reviewer"]
    assert w.ok(operator, "DELETE", f"/users/{target.id}/roles/reviewer")["platform_roles"] \
        == []
    events = w.ok(operator, "GET", "/audit", params={"target_type": "user"})
    actions = [e["action"] for e in events if e["target_id"] == str(target.id)]
    assert sorted(a for a in actions if "platform_role" in a) == [
        "identity.platform_role.grant", "identity.platform_role.revoke"]


@pytest.fixture
def cli_env(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("DPGHUB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("DPGHUB_DATABASE_URL", db_url)
    yield db_url
    engine = make_engine(db_url)
    empty_database(engine)
    engine.dispose()


def cli(*args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), env=ENGLISH)
    assert result.exit_code == code, result.output
    return result.output


def test_the_cli_grants_and_revokes_by_name(cli_env: str) -> None:
    cli("init", "--admin-password", "operator-pass-1")
    cli("user", "create", "keys@kisa.or.kr")
    assert "key_manager" in cli("user", "grant", "keys@kisa.or.kr", "key_manager")
    assert "key_manager reviewer" in cli("user", "grant", "keys@kisa.or.kr", "reviewer")
    unknown = runner.invoke(app, ["user", "grant", "keys@kisa.or.kr", "judge"], env=ENGLISH)
    assert unknown.exit_code != 0 and "Traceback" not in unknown.output
    assert "judge" in unknown.output and "reviewer" in unknown.output, unknown.output
    assert "No account" in cli("user", "grant", "ghost@kisa.or.kr", "reviewer", code=1)
    assert cli("user", "revoke", "keys@kisa.or.kr", "key_manager").strip().endswith(
        "reviewer")
    assert cli("user", "revoke", "keys@kisa.or.kr", "reviewer").strip().endswith("-")

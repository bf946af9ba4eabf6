"""The validation proxy (Prism's proxy mode): a project's calls of a service go to the
developer's own server, and each request and answer is checked against the contract."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from typer.testing import CliRunner

from dpghub.cli import app as cli
from tests.conftest import Hub
from tests.support.devserver import EXAMPLE, KEY, DevService, devserver
from tests.support.loopback import free_port
from tests.support.sandbox import (
    Sandbox,
    make_testbed,
    sqlite_only_hub,  # noqa: F401 — `hub` is SQLite here
)


@pytest.fixture
def dev() -> Iterator[DevService]:
    with devserver({"schema"}) as service:
        yield service


@pytest.fixture
def world(hub: Hub, dev: DevService) -> Sandbox:
    world = make_testbed(hub)
    registered = hub.client.post("/api/v1/orgs/startup/services", headers=world.developer,
                                 json={"slug": "bizcheck", "title_ko": "거래처 상태 확인",
                                       "upstream_url": dev.base_url, "openapi": dev.spec})
    assert registered.status_code == 201, registered.text
    pointed = world.api("PUT", f"/projects/{world.project['id']}/services/startup/bizcheck",
                        json={"upstream_url": dev.base_url})
    assert pointed.status_code == 200, pointed.text
    return world


def _call(world: Sandbox, path: str, **headers: str):  # type: ignore[no-untyped-def]
    return world.hub.client.get(f"/sandbox/startup/bizcheck{path}",
                                headers={"Authorization": f"Bearer {world.key}",
                                         "X-API-Key": KEY, **headers})


def test_an_answer_that_breaks_the_contract_is_passed_on_and_logged(
        world: Sandbox, dev: DevService) -> None:
    answer = _call(world, f"/businesses/{EXAMPLE}")
    assert answer.status_code == 200
    assert answer.headers["x-sandbox-mode"] == "proxy"
    assert int(answer.headers["x-sandbox-violations"]) >= 1
    assert isinstance(answer.json()["b_stt_cd"], int)          # as the server sent it
    [entry] = world.api("GET", f"/projects/{world.project['id']}/requests").json()["items"]
    assert entry["mode"] == "proxy" and entry["valid"] is False
    assert any("b_stt_cd" in v["field"] or "tax_type" in v["message"]
               for v in entry["violations"])
    # the dev server got its own key, never the sandbox key or the hub's cookies
    method, path, headers = dev.seen[-1]
    assert headers.get("x-api-key") == KEY
    assert world.key not in str(headers) and "cookie" not in headers


def test_a_request_that_breaks_the_contract_is_logged_too(world: Sandbox) -> None:
    _call(world, "/businesses?page=0&colour=red")
    [entry] = world.api("GET", f"/projects/{world.project['id']}/requests").json()["items"]
    assert entry["valid"] is False
    assert {v["location"] for v in entry["violations"]} >= {"query"}


def test_a_dev_server_that_is_down_is_a_502_naming_it(world: Sandbox) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    world.api("PUT", f"/projects/{world.project['id']}/services/startup/bizcheck",
              json={"upstream_url": down})
    answer = _call(world, f"/businesses/{EXAMPLE}")
    assert answer.status_code == 502
    assert answer.json()["code"] == "dev_server_unreachable"
    back = world.api("PUT", f"/projects/{world.project['id']}/services/startup/bizcheck",
                     json={"upstream_url": None})
    assert back.status_code == 200
    mocked = _call(world, f"/businesses/{EXAMPLE}")
    assert mocked.headers["x-sandbox-mode"] == "mock"


def test_the_command_line_validates_and_writes_its_reports(
        world: Sandbox, dev: DevService, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DPGHUB_HOME", str(world.hub.settings.home))
    monkeypatch.setenv("DPGHUB_DATABASE_URL", world.hub.settings.database_url or "")
    monkeypatch.setenv("DPGHUB_GATEWAY_ALLOWED_NETWORKS", "127.0.0.0/8")
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    args = ["testbed", "validate", "startup/bizcheck", "--url", dev.base_url, "--max-cases", "5",
            "--header", f"X-API-Key:{KEY}", "--report", str(report), "--junit", str(junit)]
    failed = CliRunner().invoke(cli, args)
    assert failed.exit_code == 1, failed.output
    assert "response_schema_conformance" in failed.output and "curl" in failed.output
    assert KEY not in failed.output
    assert "<testsuite" in junit.read_text() and report.exists()
    checked = CliRunner().invoke(cli, ["testbed", "verify-report", str(report)])
    assert checked.exit_code == 0, checked.output
    dev.faults = set()
    passed = CliRunner().invoke(cli, args)
    assert passed.exit_code == 0, passed.output
    assert "PASSED" in passed.output


def test_the_command_line_names_bad_input_in_one_line(
        world: Sandbox, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DPGHUB_HOME", str(world.hub.settings.home))
    monkeypatch.setenv("DPGHUB_DATABASE_URL", world.hub.settings.database_url or "")
    runner = CliRunner()
    unnamed = runner.invoke(cli, ["testbed", "validate", "bizcheck"])
    assert unnamed.exit_code == 2 and "ORG/SLUG" in unnamed.output
    assert "Traceback" not in unnamed.output
    header = runner.invoke(cli, ["testbed", "validate", "startup/bizcheck", "--header", "nocolon"])
    assert header.exit_code == 2 and "--header" in header.output
    unknown = runner.invoke(cli, ["testbed", "validate", "startup/nope"])
    assert unknown.exit_code == 1 and "startup/nope" in unknown.output
    garbage = tmp_path / "report.json"
    garbage.write_text("not json")
    unread = runner.invoke(cli, ["testbed", "verify-report", str(garbage)])
    assert unread.exit_code == 2 and "report.json" in unread.output

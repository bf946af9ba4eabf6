"""Issue 15's journey, as a new developer tries the testbed: a project and a sandbox key, the
mock of 국세청's business-status API (valid answers, a precise 400), a synthetic copy of the
library data with its reports, the project pointed at the developer's own server (planted
contract faults), a validation naming each fault with a curl, the faults fixed, a passing
signed report, the project validated — and a question answered by a supporter on the way."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dpghub.cli import app as cli
from dpghub.core import jobs
from dpghub.identity import service as identity
from dpghub.identity.policy import CLI
from tests.support.devserver import KEY, PLANTED, devserver
from tests.support.lake import LIBRARY, Lake
from tests.support.sandbox import Sandbox, make_testbed

# each planted fault, and the check the report must name it by
NAMED = {"server_error": "not_a_server_error", "undocumented_status": "status_code_conformance",
         "schema": "response_schema_conformance", "content_type": "content_type_conformance",
         "no_auth": "ignored_auth", "slow": "max_response_time",
         "required_header": "missing_required_header",
         "response_header": "response_headers_conformance"}


def _wait(world: Sandbox, job_id: int) -> None:
    job = jobs.wait(world.hub.factory, job_id, timeout=600)
    assert job.state == "succeeded", job.error


@pytest.mark.acceptance
def test_a_developer_builds_validates_and_is_helped(lake: Lake, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    world = make_testbed(lake.hub)
    hub, pid = world.hub, world.project["id"]

    # the mock of 국세청's API answers, and refuses a request that breaks the contract
    ok = world.mock("/status", json={"b_no": ["2208162517"]})
    assert ok.status_code == 200 and ok.json()["status_code"] == "OK"
    bad = world.mock("/status", json={"b_no": "2208162517"})
    assert bad.status_code == 400 and "b_no" in bad.text

    # a question to the support desk, answered by a supporter
    helper = hub.make_user("help@nia.or.kr", name="지원 담당")
    with hub.session() as s:
        identity.set_platform_role(s, actor=CLI, user=identity.get_user(s, helper.id),
                                   role="supporter")
    asked = world.api("POST", f"/projects/{pid}/tickets", json={
        "title": "목업이 400을 줍니다", "question": "b_no를 문자열로 보내면 왜 400인가요?",
        "category": "api", "consent_to_publish": True})
    assert asked.status_code == 201, asked.text
    staff = hub.bearer(helper)
    queue = world.api("GET", "/tickets", who=staff).json()
    assert [t["title"] for t in queue] == ["목업이 400을 줍니다"]
    answered = world.api("POST", f"/tickets/{asked.json()['id']}/answers", who=staff,
                         json={"body": "b_no는 문자열 배열입니다: [\"2208162517\"]"})
    assert answered.json()["state"] == "answered"
    assert answered.json()["first_answer_minutes"] is not None

    # a synthetic copy of the library data, with its reports
    lake.create("libraries", title_ko="전국도서관표준데이터")
    lake.ingest_ok("libraries", LIBRARY)
    copy = world.api("POST", f"/projects/{pid}/synthetic", json={"dataset": "molit/libraries"})
    _wait(world, copy.json()["job_id"])
    [made] = world.api("GET", f"/projects/{pid}/synthetic").json()
    assert made["privacy"]["exact_copies"] == 0 and made["quality"]["overall"] > 0.7

    # the developer's own service, registered, and the project pointed at its dev server
    with devserver(PLANTED, slow_s=1.2) as dev:
        registered = hub.client.post("/api/v1/orgs/startup/services", headers=world.developer,
                                     json={"slug": "bizcheck", "title_ko": "거래처 상태 확인",
                                           "upstream_url": dev.base_url, "openapi": dev.spec})
        assert registered.status_code == 201, registered.text
        pointed = world.api("PUT", f"/projects/{pid}/services/startup/bizcheck",
                            json={"upstream_url": dev.base_url})
        assert pointed.status_code == 200, pointed.text
        through = hub.client.get("/sandbox/startup/bizcheck/businesses",
                                 headers={"X-API-Key": world.key})
        assert through.headers["x-sandbox-mode"] == "proxy"
        logged = world.api("GET", f"/projects/{pid}/requests",
                           params={"service": "startup/bizcheck"}).json()["items"]
        assert logged and logged[0]["mode"] == "proxy"

        # a validation names each planted fault, with a curl that shows it again
        started = world.api("POST", f"/projects/{pid}/validations", json={
            "service": "startup/bizcheck", "max_cases": 20, "headers": {"X-API-Key": KEY},
            "response_time_limit_ms": 800})
        assert started.status_code == 202, started.text
        _wait(world, started.json()["job_id"])
        report = world.api("GET", f"/validations/{started.json()['id']}").json()
        assert report["passed"] is False
        named = {f["check"] for f in report["failures"]}
        assert set(NAMED.values()) <= named, named
        assert all(f["curl"].startswith("curl") and KEY not in f["curl"]
                   for f in report["failures"])
        refused = world.api("POST", f"/projects/{pid}/stage",
                            json={"stage": "validated", "validation": report["id"]})
        assert refused.status_code == 409

        # the faults fixed, a passing report, signed
        dev.faults = set()
        again = world.api("POST", f"/projects/{pid}/validations", json={
            "service": "startup/bizcheck", "max_cases": 20, "headers": {"X-API-Key": KEY},
            "response_time_limit_ms": 800})
        _wait(world, again.json()["job_id"])
        passed = world.api("GET", f"/validations/{again.json()['id']}").json()
        assert passed["passed"] is True, passed["failures"] or passed["errors"]
        junit = world.api("GET", f"/validations/{again.json()['id']}",
                          params={"format": "junit"})
        assert junit.headers["content-type"].startswith("application/xml")
        assert "<testsuite" in junit.text
        signed = world.api("GET", f"/validations/{again.json()['id']}",
                           params={"format": "signed"}).json()

    moved = world.api("POST", f"/projects/{pid}/stage",
                      json={"stage": "validated", "validation": passed["id"]})
    assert moved.status_code == 200 and moved.json()["stage"] == "validated"

    # anyone with the hub's key checks the report; a changed one is refused
    monkeypatch.setenv("DPGHUB_HOME", str(hub.settings.home))
    monkeypatch.setenv("DPGHUB_DATABASE_URL", hub.settings.database_url or "")
    file = tmp_path / "report.json"
    file.write_text(json.dumps(signed, ensure_ascii=False))
    checked = CliRunner().invoke(cli, ["testbed", "verify-report", str(file)])
    assert checked.exit_code == 0, checked.output
    assert "Signature valid" in checked.output
    signed["report"]["passed"] = False
    file.write_text(json.dumps(signed, ensure_ascii=False))
    tampered = CliRunner().invoke(cli, ["testbed", "verify-report", str(file)])
    assert tampered.exit_code == 2, tampered.output

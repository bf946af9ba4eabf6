"""The work a project runs, asked for on its page: a synthetic copy of a small open dataset
whose quality figures and charts the page shows once the job is done, and a validation of
the developer's server (tests/support/devserver.py, faults planted) whose report page names
each failure with a curl."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.conftest import Hub
from tests.support.devserver import KEY, devserver
from tests.support.lake import Lake
from tests.support.sandbox import sqlite_only_hub  # noqa: F401 — `hub` is SQLite here
from tests.support.testbed_pages import Startup, finish, shops_csv, start_project


@pytest.fixture
def startup(hub: Hub) -> Startup:
    return start_project(hub)


def test_a_synthetic_copy_asked_on_the_page_shows_its_quality(startup: Startup) -> None:
    lake = Lake(startup.hub)
    lake.create("shops", title_ko="상가 현황")
    lake.ingest_ok("shops", ("상가.csv", shops_csv()))
    page = startup.browser.get(startup.page)
    assert '<option value="molit/shops">상가 현황 (molit/shops, 공개)</option>' in page.text
    asked = startup.act("/synthetic", {"dataset": "molit/shops", "rows": ""})
    assert asked.status_code == 200
    assert '<p class="flash" role="status">합성 사본을 만들고 있습니다.</p>' in asked.text
    [copy] = startup.api("/synthetic")
    finish(startup.hub, copy["job_id"])
    shown = startup.browser.get(startup.page).text
    overall = re.search(r"품질 <strong>(\d+\.\d)%</strong>", shown)
    assert overall, "no quality figure on the page"
    [ready] = startup.api("/synthetic")
    assert float(overall.group(1)) == round(ready["quality"]["overall"] * 100, 1)
    assert "실제 행과 똑같은 행: <strong>0</strong>" in shown
    assert "<code>sandbox.molit_shops</code>" in shown
    charts = re.findall(r'<svg role="img" aria-label="([^"]+)"', shown)
    assert any(label.startswith("시군구명") for label in charts), charts
    assert any(label.startswith("매출액") for label in charts), charts
    # the page's CSV link reads the copy with the same session
    link = re.search(r'href="(/api/v1/testbed/projects/\d+/synthetic/\d+/rows\?format=csv)"',
                     shown)
    assert link
    rows = startup.browser.get(link.group(1))
    assert rows.status_code == 200
    header = next(csv.reader(io.StringIO(rows.content.decode("utf-8-sig"))))
    real = lake.rows("shops", format="csv", limit=1).content.decode("utf-8-sig")
    assert header == next(csv.reader(io.StringIO(real)))
    assert header[:7] == ["상호명", "시도명", "시군구명", "업종", "종업원수", "매출액", "개업일"]


def test_a_synthetic_copy_of_restricted_data_elsewhere_is_refused_on_the_page(
        startup: Startup) -> None:
    hub = startup.hub
    owner = hub.make_user()
    hub.make_org("agency", admin=owner)
    made = hub.client.post("/api/v1/orgs/agency/datasets", headers=hub.bearer(owner),
                           json={"slug": "people", "title_ko": "사람", "access": "restricted"})
    assert made.status_code == 201
    own = hub.client.post("/api/v1/orgs/startup/datasets", headers=hub.bearer(startup.dev),
                          json={"slug": "clients", "title_ko": "거래처", "access": "restricted"})
    assert own.status_code == 201
    offered = startup.browser.get(startup.page).text
    assert 'value="startup/clients"' in offered               # its own restricted data
    assert 'value="agency/people"' not in offered              # not another's
    refused = startup.act("/synthetic", {"dataset": "agency/people"})   # a form kept open
    assert refused.status_code == 403
    assert "agency/people" in refused.text and 'role="alert"' in refused.text
    assert startup.api("/synthetic") == []


def test_a_validation_asked_on_the_page_reports_failures_with_curl(startup: Startup) -> None:
    hub = startup.hub
    with devserver(slow_s=0.05) as dev:
        registered = hub.client.post("/api/v1/orgs/startup/services",
                                     headers=hub.bearer(startup.dev),
                                     json={"slug": "bizcheck", "title_ko": "거래처 상태 확인",
                                           "upstream_url": dev.base_url, "openapi": dev.spec})
        assert registered.status_code == 201, registered.text
        started = startup.act("/validations", {"service": "startup/bizcheck",
                                               "url": dev.base_url, "max_cases": "3",
                                               "headers": f"X-API-Key: {KEY}\n"})
        assert started.status_code == 200
        assert '<p class="flash" role="status">검증을 시작했습니다.</p>' in started.text
        [validation] = startup.api("/validations")
        finish(hub, validation["job_id"])
        assert any(h.get("x-api-key") == KEY for _, _, h in dev.seen)
    report_path = f"/testbed/validations/{validation['id']}"
    project = startup.browser.get(startup.page).text
    assert f'<a href="{report_path}">{validation["id"]}</a>' in project
    report = startup.browser.get(report_path)
    assert report.status_code == 200
    assert '<span class="tag">실패</span>' in report.text
    assert "허브의 키로 서명" in report.text
    failures = startup.api("/validations")[0]["failures"]
    assert failures
    curls = re.findall(r"<pre><code>(curl [^<]+)</code></pre>", report.text)
    assert len(curls) == len(failures)
    assert any(dev.base_url in c for c in curls)
    assert all("$" in c for c in curls if "X-API-Key" in c)
    assert KEY not in report.text                        # the credential stays out of it
    assert report.text.count('<p lang="en">') == len(failures)     # Schemathesis' English
    checks = {f["check"] for f in failures}
    # the example's answer drops tax_type; a call without the key is answered anyway
    assert {"response_schema_conformance", "ignored_auth"} <= checks, checks
    for check in checks:
        assert f"· {check}" in report.text
    # a failing report does not make the project validated
    refused = startup.act("/stage", {"stage": "validated",
                                     "validation": str(validation["id"])})
    assert refused.status_code == 409
    assert f"검증 {validation['id']}" in refused.text


def test_a_server_outside_the_allowed_networks_is_refused_on_the_form(startup: Startup) -> None:
    refused = startup.act("/validations", {"service": "nts/nts-businessman",
                                           "url": "http://10.0.0.8/api", "max_cases": "3"})
    assert refused.status_code == 422
    assert "http://10.0.0.8/api" in refused.text and 'id="form-error"' in refused.text
    assert startup.api("/validations") == []


def test_a_header_that_is_not_name_colon_value_is_refused_on_the_form(
        startup: Startup) -> None:
    refused = startup.act("/validations", {"service": "nts/nts-businessman",
                                           "url": "http://127.0.0.1:9/api", "max_cases": "3",
                                           "headers": "X-API-Key dev-only-key"})
    assert refused.status_code == 422
    assert "헤더는 한 줄에 하나씩 이름: 값으로 쓰세요" in refused.text
    assert startup.api("/validations") == []


def test_a_report_not_yet_run_says_so_rather_than_no_failures(startup: Startup) -> None:
    startup.hub.app.state.job_runner.stop()              # the job waits in the queue
    started = startup.act("/validations", {"service": "nts/nts-businessman",
                                           "url": "http://127.0.0.1:9/api", "max_cases": "3"})
    assert started.status_code == 200
    [validation] = startup.api("/validations")
    report = startup.browser.get(f"/testbed/validations/{validation['id']}")
    assert report.status_code == 200
    assert '<span class="tag">대기</span>' in report.text
    assert "보고서는 검증이 끝까지 실행된 뒤에 작성됩니다." in report.text
    assert "실패가 없습니다." not in report.text

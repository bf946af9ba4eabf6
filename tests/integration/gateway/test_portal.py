"""The developer portal without JavaScript: a company developer makes an app, gets a key,
asks for access, tries the API through the gateway; the agency approves on its page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.conftest import Hub, unavailable
from tests.support.gateway import SPEC
from tests.support.identity import csrf_of, sign_in
from tests.support.upstream import KASI, serve


@pytest.fixture
def portal(hub: Hub) -> Iterator[tuple[Hub, object, object]]:
    if not KASI.exists():
        unavailable(f"the KASI responses are not at {KASI}")
    with serve() as (url, _upstream):
        agency = hub.make_user()
        hub.make_org("kasi", admin=agency)
        assert hub.client.post("/api/v1/orgs/kasi/services", headers=hub.bearer(agency), json={
            "slug": "spcde", "title_ko": "특일 정보", "upstream_url": url,
            "openapi": SPEC}).status_code == 201
        developer = hub.make_user()
        hub.make_org("hanbit", admin=developer, kind="company")
        yield hub, agency, developer


def test_app_key_subscription_and_try_it(portal) -> None:  # type: ignore[no-untyped-def]
    hub, agency, developer = portal
    browser = hub.browser()
    sign_in(browser, developer.email)
    apps = browser.get("/apps")
    assert apps.status_code == 200 and 'action="/apps"' in apps.text
    made = browser.post("/apps", data={"csrf_token": csrf_of(apps.text), "org": "hanbit",
                                       "name": "공휴일 알리미"})
    assert made.status_code == 200
    key = re.search(r'<code id="new-key">(dpk_[^<]+)</code>', made.text).group(1)
    app_url = str(made.url)
    assert "/apps/" in app_url
    again = browser.get(app_url)
    assert key not in again.text                       # shown once
    asked = browser.post(app_url + "/subscriptions", data={
        "csrf_token": csrf_of(again.text), "service": "kasi/spcde", "plan": "development",
        "purpose": "알림 기능 개발"})
    assert asked.status_code == 200 and "kasi/spcde" in asked.text
    page = browser.get("/services/kasi/spcde")
    assert "/gw/kasi/spcde" in page.text
    tried = browser.post("/services/kasi/spcde/try", data={
        "csrf_token": csrf_of(page.text), "operation": "GET /getRestDeInfo",
        "query": "solYear=2021", "key": key})
    assert tried.status_code == 200
    assert "200" in tried.text and "&lt;locdate&gt;20210301&lt;/locdate&gt;" in tried.text
    hub.app.state.recorder.flush()
    usage = browser.get(app_url).text
    assert '<svg class="chart"' in usage and "p50" in usage
    assert re.search(r"<th scope=\"row\">\d{4}-\d\d-\d\d</th><td>1</td><td>0</td>", usage)


def test_the_agency_approves_on_its_page(portal) -> None:  # type: ignore[no-untyped-def]
    hub, agency, developer = portal
    consumer = hub.bearer(developer)
    app = hub.client.post("/api/v1/orgs/hanbit/apps", headers=consumer,
                          json={"name": "정산"}).json()
    sub = hub.client.post(f"/api/v1/apps/{app['id']}/subscriptions", headers=consumer, json={
        "service": "kasi/spcde", "plan": "production", "purpose": "운영"}).json()
    assert sub["status"] == "pending"
    browser = hub.browser()
    sign_in(browser, agency.email)
    page = browser.get("/orgs/kasi/subscriptions")
    assert "정산" in page.text and "운영" in page.text
    rejected = browser.post(f"/subscriptions/{sub['id']}/reject",
                            data={"csrf_token": csrf_of(page.text), "reason": ""})
    assert rejected.status_code == 422                   # a reason is required
    approved = browser.post(f"/subscriptions/{sub['id']}/approve", data={
        "csrf_token": csrf_of(page.text), "rate_per_second": "20", "daily_quota": "50000"})
    assert approved.status_code == 200
    state = hub.client.get(f"/api/v1/subscriptions/{sub['id']}", headers=consumer).json()
    assert state["status"] == "approved" and state["daily_quota"] == 50000
    # the developer cannot decide on the agency's page
    outsider = hub.browser()
    sign_in(outsider, developer.email)
    theirs = outsider.get("/orgs/kasi/subscriptions")
    assert theirs.status_code == 403

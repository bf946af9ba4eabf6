"""A service's `access` says who decides a subscription: `open` approves every request at once
(data.go.kr's automatic approval), whatever the plan; `approval` keeps a production request
for the provider's admins. An app without an approved subscription is refused either way."""

from __future__ import annotations

import pytest

from tests.conftest import Hub
from tests.support.gateway import SPEC


@pytest.fixture
def provider_and_app(hub: Hub) -> tuple[dict[str, str], dict[str, str], dict]:  # type: ignore[type-arg]
    agency = hub.make_user()
    hub.make_org("kasi", admin=agency)
    provider = hub.bearer(agency)
    for slug, access in (("open-api", "open"), ("checked-api", "approval")):
        made = hub.client.post("/api/v1/orgs/kasi/services", headers=provider, json={
            "slug": slug, "title_ko": "특일 정보", "upstream_url": "http://x.test/api",
            "openapi": SPEC, "access": access})
        assert made.status_code == 201, made.text
        assert made.json()["access"] == access
    developer = hub.make_user()
    hub.make_org("hanbit", admin=developer, kind="company")
    consumer = hub.bearer(developer)
    app = hub.client.post("/api/v1/orgs/hanbit/apps", headers=consumer,
                          json={"name": "공휴일 알리미"}).json()
    return provider, consumer, app


def subscribe(hub: Hub, consumer: dict[str, str], app: dict, service: str,  # type: ignore[type-arg]
              plan: str) -> dict:  # type: ignore[type-arg]
    answer = hub.client.post(f"/api/v1/apps/{app['id']}/subscriptions", headers=consumer,
                             json={"service": service, "plan": plan, "purpose": "공휴일 알림"})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_an_open_service_approves_every_plan_at_once(hub: Hub, provider_and_app) -> None:  # type: ignore[no-untyped-def]
    provider, consumer, app = provider_and_app
    production = subscribe(hub, consumer, app, "kasi/open-api", "production")
    assert production["status"] == "approved"
    assert production["reason"] == "open service: approved at once"
    assert (production["rate_per_second"], production["daily_quota"]) == (50, 100_000)
    development = subscribe(hub, consumer, app, "kasi/open-api", "development")
    assert development["status"] == "approved"
    assert (development["rate_per_second"], development["daily_quota"]) == (5, 1_000)


def test_a_service_needing_approval_keeps_production_for_its_admins(hub: Hub, provider_and_app) -> None:  # type: ignore[no-untyped-def]
    provider, consumer, app = provider_and_app
    production = subscribe(hub, consumer, app, "kasi/checked-api", "production")
    assert production["status"] == "pending"
    assert subscribe(hub, consumer, app, "kasi/checked-api", "development")["status"] == \
        "approved"


def test_an_open_service_still_refuses_an_app_without_a_subscription(hub: Hub, provider_and_app) -> None:  # type: ignore[no-untyped-def]
    provider, consumer, app = provider_and_app
    refused = hub.client.get("/gw/kasi/open-api/getRestDeInfo",
                             headers={"X-API-Key": app["key"]})
    assert refused.status_code == 403
    assert refused.json()["code"] == "subscription_required"

"""A provider's data.go.kr-style service behind the gateway, and a developer's app to call it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from tests.conftest import Hub, unavailable
from tests.support.upstream import KASI, Upstream

SPEC = {"openapi": "3.0.3", "info": {"title": "특일 정보", "version": "1"},
        "paths": {"/getRestDeInfo": {"get": {"operationId": "getRestDeInfo",
                                             "summary": "공휴일 정보조회",
                                             "responses": {"200": {"description": "ok"}}}},
                  "/echo/{name}": {"post": {"operationId": "echo", "parameters": [
                      {"name": "name", "in": "path", "required": True,
                       "schema": {"type": "string"}}],
                      "responses": {"200": {"description": "ok"}}}},
                  "/slow": {"get": {"responses": {"200": {"description": "ok"}}}}}}


@dataclass
class World:
    hub: Hub
    upstream: Upstream
    provider: dict[str, str]       # the agency admin's auth header
    consumer: dict[str, str]       # the company developer's auth header
    app: dict[str, Any]
    key: str

    def call(self, path: str = "/getRestDeInfo", *, key: str | None = None,
             style: str = "header", method: str = "GET", **kwargs: Any):  # type: ignore[no-untyped-def]
        key = self.key if key is None else key
        url = f"/gw/kasi/spcde{path}"
        headers = dict(kwargs.pop("headers", {}))
        if style == "header":
            headers["X-API-Key"] = key
        elif style == "servicekey":
            url += ("&" if "?" in url else "?") + "serviceKey=" + quote(key, safe="")
        return self.hub.client.request(method, url, headers=headers, **kwargs)

    def subscribe(self, plan: str = "development") -> dict[str, Any]:
        answer = self.hub.client.post(f"/api/v1/apps/{self.app['id']}/subscriptions",
                                      headers=self.consumer, json={
                                          "service": "kasi/spcde", "plan": plan,
                                          "purpose": "공휴일 알림 기능"})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def decide(self, sub: dict[str, Any], verdict: str, **body: Any):  # type: ignore[no-untyped-def]
        return self.hub.client.post(f"/api/v1/subscriptions/{sub['id']}/{verdict}",
                                    headers=self.provider, json=body)


def make_world(hub: Hub, upstream_url: str, upstream: Upstream) -> World:
    """The world for calls that reach the recorded KASI answers (skipped without them)."""
    if not KASI.exists():
        unavailable(f"the KASI responses are not at {KASI}")
    return open_world(hub, upstream_url, upstream)


def open_world(hub: Hub, upstream_url: str, upstream: Upstream) -> World:
    """KASI's service `kasi/spcde` at `upstream_url`, and Hanbit's app with its key (no
    subscription yet); for tests whose calls need none of the recorded answers."""
    agency = hub.make_user()
    hub.make_org("kasi", admin=agency)
    provider = hub.bearer(agency)
    registered = hub.client.post("/api/v1/orgs/kasi/services", headers=provider, json={
        "slug": "spcde", "title_ko": "특일 정보", "upstream_url": upstream_url,
        "openapi": SPEC})
    assert registered.status_code == 201, registered.text
    developer = hub.make_user()
    hub.make_org("hanbit", admin=developer, kind="company")
    consumer = hub.bearer(developer)
    created = hub.client.post("/api/v1/orgs/hanbit/apps", headers=consumer,
                              json={"name": "공휴일 알리미"})
    assert created.status_code == 201, created.text
    app = created.json()
    return World(hub, upstream, provider, consumer, app, app["key"])

"""A testbed world: 국세청 publishes its real business-status API (the data.go.kr Swagger
document in ../shared/data/kr), a startup starts a sandbox project on it and gets a key."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Hub, unavailable
from tests.support.lake import KR

NTS_SPEC = "openapi_specs/15081808_nts-businessman_v1_swagger2.json"


def nts_spec() -> dict[str, Any]:
    path: Path = KR / NTS_SPEC
    if not path.exists():
        unavailable(f"the 국세청 spec is not at {path}")
    return json.loads(path.read_text(encoding="utf-8"))


@dataclass
class Sandbox:
    hub: Hub
    provider: dict[str, str]      # 국세청's admin
    developer: dict[str, str]     # the startup's editor
    developer_user: Any
    project: dict[str, Any]
    key: str

    def mock(self, path: str, *, key: str | None = None, method: str = "POST",
             **kwargs: Any):  # type: ignore[no-untyped-def]
        headers = {"X-API-Key": self.key if key is None else key, **kwargs.pop("headers", {})}
        return self.hub.client.request(method, f"/sandbox/nts/nts-businessman{path}",
                                       headers=headers, **kwargs)

    def api(self, method: str, path: str, *, who: dict[str, str] | None = None,
            **kwargs: Any):  # type: ignore[no-untyped-def]
        return self.hub.client.request(method, f"/api/v1/testbed{path}",
                                       headers=who or self.developer, **kwargs)


def register_nts(hub: Hub) -> dict[str, str]:
    agency = hub.make_user()
    hub.make_org("nts", admin=agency)
    provider = hub.bearer(agency)
    answer = hub.client.post("/api/v1/orgs/nts/services", headers=provider, json={
        "slug": "nts-businessman", "title_ko": "국세청 사업자등록정보 진위확인 및 상태조회",
        "upstream_url": "https://api.odcloud.kr/api/nts-businessman/v1",
        "openapi": nts_spec()})
    assert answer.status_code == 201, answer.text
    return provider


def make_testbed(hub: Hub) -> Sandbox:
    provider = register_nts(hub)
    dev = hub.make_user("dev@startup.kr", name="김개발")
    hub.make_org("startup", admin=dev, kind="company")
    developer = hub.bearer(dev)
    created = hub.client.post("/api/v1/orgs/startup/testbed/projects", headers=developer, json={
        "name": "거래처 확인", "purpose": "사업자 상태로 거래처를 확인한다",
        "services": ["nts/nts-businessman"]})
    assert created.status_code == 201, created.text
    project = created.json()
    key = hub.client.post(f"/api/v1/testbed/projects/{project['id']}/keys", headers=developer)
    assert key.status_code == 201, key.text
    return Sandbox(hub, provider, developer, dev, project, key.json()["key"])


@pytest.fixture(name="hub")
def sqlite_only_hub(sqlite_hub: Hub) -> Hub:
    """`hub` on SQLite only, for a module that imports this: what it tests does not depend on
    the database (the rules of projects, keys, tickets and copies run on PostgreSQL too, in
    their own modules and the journey)."""
    return sqlite_hub

"""The operator's networks hold at registration and on every connection the gateway opens: a
name that resolves to an allowed address when registered and to an internal one when called
(DNS rebinding) reaches nothing. DNS is played by a resolver the hub is given."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dpghub.config import Settings
from dpghub.gateway.models import CallRecord
from tests.conftest import Hub, build_hub
from tests.support.gateway import SPEC, make_world
from tests.support.loopback import free_port
from tests.support.upstream import serve

PUBLIC = "211.43.0.8"      # a public address (registered, never called)


@pytest.fixture
def hubs(tmp_path: Path, sqlite_url: str) -> Iterator[Callable[..., Hub]]:
    """Builds a hub with the given settings and resolver; empties its database afterwards,
    whether the test passed or not."""
    built: list[Iterator[Hub]] = []

    def make(**overrides: Any) -> Hub:
        built.append(build_hub(tmp_path, sqlite_url, **overrides))
        return next(built[-1])

    yield make
    for each in built:
        next(each, None)


def _register(hub: Hub, auth: dict[str, str], url: str):  # type: ignore[no-untyped-def]
    return hub.client.post("/api/v1/orgs/kasi/services", headers=auth, json={
        "slug": "svc", "title_ko": "서비스", "upstream_url": url, "openapi": SPEC})


class Rebinding:
    """A resolver whose answers a test changes, as a DNS server under an attacker's control
    can between two lookups of the gateway."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: list[str] = []

    def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.table:
            raise OSError(f"{host}: Name or service not known")
        return self.table[host]


def test_by_default_only_public_upstreams_can_be_registered(hubs: Callable[..., Hub]) -> None:
    default = Settings.model_fields["gateway_allowed_networks"].default
    dns = Rebinding({"metadata.google.internal": ["169.254.169.254"],
                     "api.example.kr": [PUBLIC], "localhost": ["127.0.0.1", "::1"]})
    hub = hubs(gateway_allowed_networks=default, resolver=dns)
    owner = hub.make_user()
    hub.make_org("kasi", admin=owner)
    register = partial(_register, hub, hub.bearer(owner))
    for url in ("http://127.0.0.1:9/x", "http://localhost:8000/", "http://[::1]/",
                "http://169.254.169.254./latest/meta-data/",
                "http://metadata.google.internal/computeMetadata/v1/",
                "http://metadata.google.internal./computeMetadata/v1/",
                "http://no-such-host.invalid/api", "http://10.0.0.8/"):
        answer = register(url)
        assert answer.status_code == 422, url
        assert answer.json()["code"] == "upstream_not_allowed", url
        assert answer.json()["field"] == "upstream_url"
    unknown = register("http://no-such-host.invalid/api")
    assert "no-such-host.invalid" in unknown.json()["detail"]
    assert register("https://api.example.kr/v1").status_code == 201


def test_dns_rebinding_cannot_reach_an_internal_address(hubs: Callable[..., Hub]) -> None:
    """The provider's name resolves to 127.0.0.1 (the only network allowed) when registered;
    then to 127.0.0.2, where an internal service listens on the same port."""
    port = free_port()
    dns = Rebinding({"api.provider.test": ["127.0.0.1"]})
    with serve("127.0.0.1", port) as (url, upstream), \
            serve("127.0.0.2", port) as (_, internal):
        named = url.replace("127.0.0.1", "api.provider.test")
        hub = hubs(gateway_allowed_networks="127.0.0.1/32", resolver=dns)
        world = make_world(hub, named, upstream)
        world.subscribe()
        dns.table["api.provider.test"] = ["127.0.0.2"]          # rebound after the check
        refused = world.call()
        assert refused.status_code == 502
        assert refused.json()["code"] == "upstream_address_refused"
        as_datagokr = world.call("/getRestDeInfo?solYear=2021", style="servicekey")
        assert as_datagokr.status_code == 502
        assert "<returnReasonCode>04</returnReasonCode>" in as_datagokr.text
        dns.table["api.provider.test"] = ["127.0.0.1", "127.0.0.2"]   # one bad is enough
        assert world.call().json()["code"] == "upstream_address_refused"
        assert internal.seen == [] and upstream.seen == []
        # back to the allowed address: the name is looked up once for the connection,
        # and the connection goes to the address checked (the machine's own DNS does not
        # know this name: a second lookup could not have succeeded)
        dns.table["api.provider.test"] = ["127.0.0.1"]
        asked = len(dns.asked)
        assert world.call().status_code == 200
        assert len(dns.asked) == asked + 1 and len(upstream.seen) == 1
        # a kept-alive connection was checked when it was opened, and stays where it is
        dns.table["api.provider.test"] = ["127.0.0.2"]
        assert world.call().status_code == 200 and internal.seen == []
        hub.app.state.recorder.flush()
        with hub.session() as s:
            faults = [r.fault for r in s.scalars(select(CallRecord).order_by(CallRecord.id))]
        assert faults[:3] == ["upstream_address_refused"] * 3


def test_a_name_that_no_longer_resolves_is_unreachable(hubs: Callable[..., Hub]) -> None:
    dns = Rebinding({"api.provider.test": ["127.0.0.1"]})
    with serve() as (url, upstream):
        hub = hubs(resolver=dns)
        world = make_world(hub, url.replace("127.0.0.1", "api.provider.test"), upstream)
        world.subscribe()
        del dns.table["api.provider.test"]
        answer = world.call()
        assert answer.status_code == 502 and answer.json()["code"] == "upstream_unreachable"
        assert upstream.seen == []


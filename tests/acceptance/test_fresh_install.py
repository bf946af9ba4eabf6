"""The README's first command on a machine that never ran the project.

A fresh copy of the repository (its files as a clone has them: no .venv, no build left-overs),
then `make run` there with a new virtual environment outside it and the package installed as a
user installs it — `pip install .`, not editable, no extras. The test's own environment has the
`test` extra, so a runtime import that only the extras provide passes every other test; here
the hub does not start. Then: health and the sign-in page answer, the printed password signs
in, and the server stops when asked. pip reuses its cache; the rest is offline.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import unavailable
from tests.support.loopback import free_port

REPO = Path(__file__).resolve().parents[2]


def fresh_copy(target: Path) -> Path:
    """The repository's files as a clone has them (tracked, plus new files not ignored)."""
    if shutil.which("git") is None or not (REPO / ".git").exists():
        unavailable("the fresh-install check copies the repository with git")
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = REPO / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, html[:500]
    return match.group(1)


def said(log: Path) -> str:
    """What `make run` printed, without pip's notes about this machine's package indexes."""
    lines = [line for line in log.read_text(errors="replace").splitlines()
             if not line.startswith("WARNING: Location ")]
    return "\n".join(lines[-60:])


def stop(process: subprocess.Popen[bytes]) -> int:
    """Ctrl-C to `make` and the hub under it (their own process group), as a user stops it."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    return process.returncode


@pytest.mark.acceptance
def test_make_run_from_a_fresh_clone_in_a_new_venv_without_extras(tmp_path: Path) -> None:
    clone = fresh_copy(tmp_path / "clone")
    venv = tmp_path / "venv"
    port = free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("DPGHUB_") and k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME")}
    env["DPGHUB_HOME"] = str(tmp_path / "home")
    log = tmp_path / "run.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["make", "-s", "run", f"VENV={venv}", "EDITABLE=",
                                    f"PORT={port}"], cwd=clone, env=env, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900   # installs every dependency and builds the wheel
        while True:
            try:
                if f"DPG Hub on {base}" in log.read_text() and \
                        httpx.get(base + "/api/v1/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert process.poll() is None, f"make run ended:\n{said(log)}"
            assert time.monotonic() < deadline, f"the hub did not start in time:\n{said(log)}"
            time.sleep(0.5)

        # the hub runs from the new venv, installed as a user installs it, without extras
        probe = subprocess.run([str(venv / "bin" / "python"), "-c", (
            "import dpghub, importlib.util as u; print(dpghub.__file__); "
            # (pytest itself is no sign: schemathesis, a dependency of the hub's, brings it)
            "print(sorted(m for m in ('ruff', 'playwright', 'moto') if u.find_spec(m)))")],
            capture_output=True, text=True, env=env, cwd=tmp_path, check=True).stdout.splitlines()
        assert Path(probe[0]).is_relative_to(venv), probe      # not editable: not the copy
        assert probe[1] == "[]", probe                          # no test extra

        printed = log.read_text()
        login = re.search(r"Sign in at \S+ as (\S+) with password (\S+)", printed)
        assert login, said(log)
        with httpx.Client(base_url=base, headers={"accept": "text/html"}) as browser:
            page = browser.get("/signin")
            assert page.status_code == 200
            signed_in = browser.post("/signin", data={
                "email": login.group(1), "password": login.group(2),
                "csrf_token": csrf(page.text)})
            assert signed_in.status_code == 303, signed_in.text[:2000]
            account = browser.get("/account")
            assert account.status_code == 200 and login.group(1) in account.text
    finally:
        stop(process)
    with pytest.raises(httpx.TransportError):
        httpx.get(base + "/api/v1/health", timeout=2)

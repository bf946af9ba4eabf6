"""The sandbox's cached lookups under concurrency: the calls that find an entry stale at the
same moment share one read, and a change (a revoked key) is never hidden behind a read that
started before it."""

from __future__ import annotations

import asyncio
import threading
from contextlib import nullcontext
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest

from dpghub.testbed import sandbox as sandbox_module
from dpghub.testbed.sandbox import Sandbox
from dpghub.testbed.service import calls, projects

KEY = "dsk_concurrent-callers"
DOCUMENT = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"},
            "paths": {"/status": {"get": {"responses": {"200": {"description": "ok"}}}}}}


def grant(revoked: bool) -> calls.KeyGrant:
    return calls.KeyGrant(1, 7, revoked, datetime(2099, 1, 1), 10.0, 10_000)


@pytest.fixture
def sandbox() -> Sandbox:
    return Sandbox(SimpleNamespace(session_factory=nullcontext))


def test_callers_that_find_a_key_unknown_at_once_share_one_read(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []

    def grant_for(session: Any, credential: str) -> calls.KeyGrant:
        reads.append(credential)
        return grant(False)

    monkeypatch.setattr(calls, "grant_for", grant_for)

    async def main() -> list[calls.KeyGrant | None]:
        return await asyncio.gather(*(sandbox.grant(KEY) for _ in range(32)))

    found = asyncio.run(main())
    assert reads == [KEY]
    assert all(g is not None and g.project_id == 7 and not g.revoked for g in found)


def test_a_call_after_a_revocation_does_not_take_a_read_begun_before_it(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    revoked = [False]
    started, release = threading.Event(), threading.Event()

    def grant_for(session: Any, credential: str) -> calls.KeyGrant:
        seen = revoked[0]
        if not started.is_set():      # the first read is slow: it is still running …
            started.set()
            release.wait(timeout=30)
        return grant(seen)

    monkeypatch.setattr(calls, "grant_for", grant_for)

    async def main() -> tuple[calls.KeyGrant | None, calls.KeyGrant | None]:
        before = asyncio.ensure_future(sandbox.grant(KEY))
        await asyncio.to_thread(started.wait, 30)
        revoked[0] = True             # … when the key is revoked
        projects.changed()
        after = await sandbox.grant(KEY)
        release.set()
        return await before, after

    first, second = asyncio.run(main())
    assert first is not None and not first.revoked
    assert second is not None and second.revoked


def test_callers_that_find_a_service_unknown_at_once_build_its_mock_once(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[tuple[str, str]] = []
    builds: list[int] = []

    def contract_of(session: Any, org: str, slug: str) -> calls.Contract:
        reads.append((org, slug))
        return calls.Contract(3, datetime(2026, 1, 1) + timedelta(seconds=1), DOCUMENT)

    real_build = sandbox_module.MockSpec.build

    def build(document: dict[str, Any]) -> Any:
        builds.append(1)
        return real_build(document)

    monkeypatch.setattr(calls, "contract_of", contract_of)
    monkeypatch.setattr(sandbox_module.MockSpec, "build", staticmethod(build))

    async def main() -> list[Any]:
        return await asyncio.gather(*(sandbox.spec("nts", "status") for _ in range(32)))

    found = asyncio.run(main())
    assert reads == [("nts", "status")]
    assert len(builds) == 1
    assert all(f is not None and f[0].service_id == 3 and f[1] is found[0][1] for f in found)

"""Schemathesis over the hub's own OpenAPI schema, signed in as an operator throughout:
generated input never gets a 5xx, and the answers keep to what the schema documents (statuses,
media types). Bounded and seeded, so the run is the same every time and takes about a
minute."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi import checks as openapi_checks

from dpghub.identity.models import User
from tests.conftest import Hub, build_hub

# Cases per operation. Every operation gets calls (asserted below); a parameterless one gets one
# case, as there is only one. 25 rather than 40 keeps the test near a minute on a loaded
# 2-core machine.
EXAMPLES = 25
CHECKS = (openapi_checks.status_code_conformance, openapi_checks.content_type_conformance)
# 5xx answers that say the hub is set up without something, whatever the input: the hub's
# own AI features with no model configured (DPGHUB_AI_ASSIST_MODEL), as in this hub
NOT_SET_UP = {"ai_features_off"}


@pytest.fixture
def fuzzed(tmp_path: Path, sqlite_url: str) -> Iterator[tuple[Hub, User, dict[str, str]]]:
    """A hub with an organization, an open dataset with rows, an app, and an operator's
    token — so generated calls reach past "not found" into the code."""
    for hub in build_hub(tmp_path, sqlite_url):
        user = hub.make_user(operator=True)
        hub.make_org("org1", admin=user)
        auth = hub.bearer(user)
        hub.client.post("/api/v1/orgs/org1/datasets", headers=auth,
                        json={"slug": "data", "title_ko": "자료"})
        hub.client.post("/api/v1/datasets/org1/data/ingest", headers=auth,
                        files=[("files", ("a.csv", "코드,값\n0101,1\n0202,2\n".encode()))])
        hub.client.post("/api/v1/orgs/org1/apps", headers=auth, json={"name": "앱"})
        yield hub, user, auth


def test_generated_calls_get_no_server_error(
        fuzzed: tuple[Hub, User, dict[str, str]]) -> None:
    hub, user, auth = fuzzed
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", hub.app)
    faults: list[str] = []
    calls: dict[str, int] = {}  # each operation's calls made
    statuses: dict[str, set[int]] = {}  # and the statuses it answered
    for result in schema.get_all_operations():
        operation = result.ok()
        calls[operation.label] = 0
        statuses[operation.label] = set()

        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def call(case) -> None:  # type: ignore[no-untyped-def]
            calls[case.operation.label] += 1
            response = case.call(headers=auth)
            statuses[case.operation.label].add(response.status_code)
            if case.method != "GET" and response.status_code < 300:
                _stay_signed_in(hub, user, auth)
            if response.status_code == 503 and _code(response) in NOT_SET_UP:
                return
            assert response.status_code < 500, (response.status_code, response.text[:300])
            case.validate_response(response, checks=CHECKS)

        try:
            call()
        except (Exception, BaseExceptionGroup) as fault:  # noqa: BLE001 — gather them all
            inner = getattr(fault, "exceptions", ())
            faults.append(f"{operation.label}: {fault}\n" + "\n".join(
                f"  - {type(e).__name__}: {str(e)[:600]}" for e in inner))
    assert len(calls) > 40
    assert not [label for label, n in calls.items() if n == 0], calls
    # signed in throughout: only the operation that takes an app's credential, not a
    # person's, answered nothing but 401
    assert [label for label, seen in statuses.items() if seen == {401}] == [
        "GET /api/v1/discovery/allowed"]
    assert not faults, "\n\n".join(faults)


def _stay_signed_in(hub: Hub, user: User, auth: dict[str, str]) -> None:
    """A fresh token in `auth` when the call just made ended the operator's: DELETE
    /api/v1/tokens/{token_id} revokes `auth` itself when it draws its id (among the first
    tried), and every operation after it would then be fuzzed signed out, meeting only 401.
    Asked after each state-changing call that succeeded, so any other way of ending the
    token is caught too."""
    if hub.client.get("/api/v1/me", headers=auth).status_code == 401:
        auth.update(hub.bearer(user))


def _code(response) -> str | None:  # type: ignore[no-untyped-def]
    try:
        return response.json().get("code")
    except ValueError:
        return None

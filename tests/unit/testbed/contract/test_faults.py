"""A developer validates a service with one contract slip planted: the report names that slip
by its check, on its operation, and nothing else — and its curl, run by hand with the
sandbox key in $SANDBOX_KEY, shows the same slip again. Fixing every slip makes it pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable

import pytest

from dpghub.testbed.contract import ValidationResult, run
from tests.conftest import unavailable
from tests.support.devserver import KEY, PLANTED, DevService, devserver

ONE = "GET /businesses/{b_no}"
LIST = "GET /businesses"
STATUS = "POST /status"
OPERATIONS = {ONE, LIST, STATUS}

Answer = tuple[int, dict[str, str], bytes]


def replay(curl: str) -> Answer:
    """Run a report's curl as a developer would, the key in $SANDBOX_KEY: status, headers, body."""
    if shutil.which("curl") is None:
        unavailable("curl is not installed")
    done = subprocess.run(["bash", "-c", curl + " -sS -i --max-time 10"], capture_output=True,
                          timeout=20, env={"PATH": os.environ["PATH"], "SANDBOX_KEY": KEY},
                          check=True)
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), headers, body


def validate(service: DevService, **options: object) -> ValidationResult:
    return run(service.spec, service.base_url, headers={"X-API-Key": KEY}, **options)


# fault → the (operation, check) pairs it must fail, and what its curl shows again
CASES: dict[str, tuple[set[tuple[str, str]], str, Callable[[Answer], bool]]] = {
    "server_error": ({(ONE, "not_a_server_error"), (ONE, "status_code_conformance")},
                     "not_a_server_error", lambda a: a[0] == 500),
    "undocumented_status": ({(STATUS, "status_code_conformance")}, "status_code_conformance",
                            lambda a: a[0] == 206),
    "schema": ({(ONE, "response_schema_conformance")}, "response_schema_conformance",
               lambda a: a[0] == 200 and "tax_type" not in json.loads(a[2])),
    "content_type": ({(LIST, "content_type_conformance")}, "content_type_conformance",
                     lambda a: a[1]["content-type"].startswith("text/html")),
    "required_header": ({(STATUS, "missing_required_header")}, "missing_required_header",
                        lambda a: a[0] == 200),
    "response_header": ({(LIST, "response_headers_conformance")},
                        "response_headers_conformance", lambda a: "x-total-count" not in a[1]),
}


@pytest.mark.parametrize("fault", sorted(CASES))
def test_a_planted_fault_is_named_by_its_check_and_its_curl_shows_it_again(fault: str) -> None:
    expected, check, shows = CASES[fault]
    with devserver({fault}) as service:
        result = validate(service)
        assert not result.passed
        assert {(f.operation, f.check) for f in result.failures} == expected
        assert result.errors == []
        failure = next(f for f in result.failures if f.check == check)
        assert KEY not in failure.curl
        assert shows(replay(failure.curl)), failure.curl


def test_a_service_that_answers_without_credentials_fails_ignored_auth_everywhere() -> None:
    with devserver({"no_auth"}) as service:
        result = validate(service)
        found = {(f.operation, f.check) for f in result.failures}
        assert {(op, "ignored_auth") for op in OPERATIONS} <= found
        others = [f for f in result.failures if f.check != "ignored_auth"]
        assert all(f.check == "missing_required_header" and "X-API-Key" in f.message
                   for f in others)
        proof = next(f for f in result.failures if f.check == "ignored_auth")
        assert "X-API-Key" not in proof.curl            # the request that got in had no key
        assert replay(proof.curl)[0] == 200


def test_a_slow_answer_fails_the_response_time_limit() -> None:
    with devserver({"slow"}) as service:
        result = validate(service, response_time_limit_ms=150)
    slow = [f for f in result.failures if f.check == "max_response_time"]
    assert [f.operation for f in slow] == [LIST]
    assert "Limit: 150.00ms" in slow[0].message
    assert slow[0].elapsed_ms is not None and slow[0].elapsed_ms > 150
    page = int(slow[0].curl.split("page=")[1].split("&")[0].rstrip("'"))
    assert page > 500                                # the deep page the service is slow on


def test_the_sandbox_key_appears_nowhere_in_the_report() -> None:
    with devserver(PLANTED) as service:
        result = validate(service)
    assert KEY not in json.dumps(result.to_dict(), ensure_ascii=False)
    assert any('-H "X-API-Key: $SANDBOX_KEY"' in f.curl for f in result.failures)


def test_fixing_every_fault_and_validating_again_passes() -> None:
    with devserver(PLANTED) as service:
        first = run(service.spec, service.base_url, headers={"X-API-Key": KEY},
                    response_time_limit_ms=150)
        service.faults = set()
        second = run(service.spec, service.base_url, headers={"X-API-Key": KEY})
    assert not first.passed
    assert {f.check for f in first.failures} == {
        "not_a_server_error", "status_code_conformance", "response_schema_conformance",
        "content_type_conformance", "ignored_auth", "missing_required_header",
        "response_headers_conformance", "max_response_time"}
    assert second.passed, [(f.operation, f.message) for f in second.failures] + second.errors
    assert {op.operation for op in second.operations} == OPERATIONS
    assert all(op.cases > 0 and op.failures == 0 for op in second.operations)

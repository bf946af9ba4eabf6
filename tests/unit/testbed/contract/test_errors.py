"""When requests get no usable answer — nothing listens, the answer comes too late, it is not
HTTP, or its JSON is broken — the run still finishes, says so per operation in plain words,
and does not pass."""

from __future__ import annotations

import pytest

from dpghub.core.errors import Invalid
from dpghub.testbed.contract import run
from tests.support.devserver import KEY, SPEC, devserver, garbage_server
from tests.support.loopback import free_port

OPERATIONS = {"GET /businesses/{b_no}", "GET /businesses", "POST /status"}


def test_a_service_that_is_not_running_is_reported_and_the_run_gives_up() -> None:
    result = run(SPEC, f"http://127.0.0.1:{free_port()}", headers={"X-API-Key": KEY})
    assert not result.passed
    assert result.stopped == "unreachable"
    assert result.failures == []
    assert {e.kind for e in result.errors} == {"connection_refused"}
    assert {e.operation for e in result.errors} <= OPERATIONS
    assert "Is it running?" in result.errors[0].message
    assert result.errors[0].curl.startswith("curl -X ")
    assert KEY not in result.errors[0].curl


def test_an_answer_that_is_not_http_is_an_error_of_each_operation() -> None:
    with garbage_server() as base:
        result = run(SPEC, base, headers={"X-API-Key": KEY}, max_cases=4)
    assert not result.passed
    assert result.stopped is None                    # it answers, just not in HTTP
    assert {e.operation for e in result.errors} == OPERATIONS
    assert {e.kind for e in result.errors} == {"not_http"}
    assert "garbage, not HTTP" in result.errors[0].message


def test_a_request_that_times_out_is_an_error_of_its_operation_only() -> None:
    with devserver({"slow"}, slow_s=1.0) as service:
        result = run(service.spec, service.base_url, headers={"X-API-Key": KEY},
                     request_timeout_s=0.2)
    assert not result.passed
    timeouts = [e for e in result.errors if e.kind == "timeout"]
    assert [e.operation for e in timeouts] == ["GET /businesses"]
    assert "No answer within 0.2 s" in timeouts[0].message
    assert "page=" in timeouts[0].curl
    listed = next(op for op in result.operations if op.operation == "GET /businesses")
    assert listed.errors == timeouts[0].occurrences >= 1


def test_a_json_answer_that_does_not_parse_is_an_error_not_a_schema_failure() -> None:
    with devserver({"broken_json"}) as service:
        result = run(service.spec, service.base_url, headers={"X-API-Key": KEY}, max_cases=6)
    assert not result.passed
    assert [(e.operation, e.kind) for e in result.errors] == [
        ("GET /businesses/{b_no}", "invalid_json")]
    assert result.errors[0].message.startswith("The answer says JSON but is not valid JSON")
    assert result.failures == []


def test_an_operation_the_document_breaks_is_an_error_and_the_others_are_still_tested() -> None:
    document = {**SPEC, "paths": {**SPEC["paths"], "/broken/{id}": {"get": {
        "parameters": [{"name": "id", "in": "path", "required": True,
                        "schema": {"$ref": "#/components/schemas/Nowhere"}}],
        "responses": {"200": {"description": "ok"}}}}}}
    with devserver(set()) as service:
        result = run(document, service.base_url, headers={"X-API-Key": KEY}, max_cases=4)
    assert [(e.operation, e.kind) for e in result.errors] == [
        ("GET /broken/{id}", "invalid_operation")]
    assert "#/components/schemas/Nowhere" in result.errors[0].message
    assert result.failures == []
    cases = {op.operation: op.cases for op in result.operations}
    assert cases.pop("GET /broken/{id}") == 0
    assert cases == dict.fromkeys(OPERATIONS, 4)


@pytest.mark.parametrize(("document", "reason"), [
    ({"openapi": "3.0.3"}, "'info' is a required property"),
    ({"swagger": "2.0", "info": {"title": "t", "version": "1"}, "paths": {}}, "OpenAPI 3.x"),
])
def test_a_document_that_cannot_be_tested_is_refused_before_any_request(
        document: dict, reason: str) -> None:
    with pytest.raises(Invalid) as caught:
        run(document, f"http://127.0.0.1:{free_port()}")
    assert caught.value.code == "invalid_openapi"
    assert reason.replace("'", '"') in str(caught.value).replace("'", '"')

"""The validation proxy's check of a developer's real server: what it answered against what
the contract declares — the status, the content type, the body, the required headers."""

from __future__ import annotations

import json

import pytest

from dpghub.testbed.mock import MockSpec, Prefer
from tests.support.testbed import constructs_document, nts_document

JSON = {"content-type": "application/json"}


@pytest.fixture(scope="module")
def spec() -> MockSpec:
    return MockSpec.build(constructs_document())


def faults(spec: MockSpec, method: str, path: str, status: int, headers: dict[str, str],
           body: bytes) -> list[tuple[str, str, str]]:
    found = spec.validate_response(spec.match(method, path), status, headers, body)
    return sorted((v.location, v.field, v.rule) for v in found)


def test_the_mocks_own_answers_pass(spec: MockSpec) -> None:
    for method, path in (("GET", "/citizens/3"), ("GET", "/citizens"), ("POST", "/payments"),
                         ("GET", "/notices"), ("DELETE", "/citizens/3")):
        match = spec.match(method, path)
        answer = spec.respond(match, Prefer(), b"s")
        headers = {k.decode(): v.decode() for k, v in answer.headers}
        if answer.media_type:
            headers["content-type"] = answer.media_type
        assert spec.validate_response(match, answer.status, headers, answer.body) == []


def test_a_wrong_type_in_the_body_is_named(spec: MockSpec) -> None:
    answer = json.loads(spec.respond(spec.match("GET", "/citizens/3"), Prefer(), b"s").body)
    answer["age"] = "서른"
    answer["address"]["zip"] = 4321
    assert faults(spec, "GET", "/citizens/3", 200, JSON, json.dumps(answer).encode()) == [
        ("body", "body.address.zip", "type"), ("body", "body.age", "type")]


def test_a_write_only_property_in_an_answer_is_a_fault(spec: MockSpec) -> None:
    answer = json.loads(spec.respond(spec.match("GET", "/citizens/3"), Prefer(), b"s").body)
    answer["password"] = "secret"
    assert faults(spec, "GET", "/citizens/3", 200, JSON, json.dumps(answer).encode()) == [
        ("body", "body.password", "writeOnly")]


def test_an_undeclared_status_is_named_with_the_declared_ones(spec: MockSpec) -> None:
    found = spec.validate_response(spec.match("GET", "/citizens"), 418, JSON, b"{}")
    assert [(v.location, v.rule) for v in found] == [("status", "declared")]
    assert "418" in found[0].message and "200, 400" in found[0].message


def test_a_status_default_covers_is_declared(spec: MockSpec) -> None:
    body = json.dumps({"title": "점검 중"}).encode()
    assert faults(spec, "GET", "/citizens/3", 503,
                  {"content-type": "application/problem+json"}, body) == []


def test_an_undeclared_content_type_is_named(spec: MockSpec) -> None:
    assert faults(spec, "GET", "/citizens/3", 200, {"content-type": "text/html"},
                  b"<html></html>") == [("content-type", "content-type", "declared")]
    assert faults(spec, "GET", "/citizens/3", 200, {}, b"{}") == [
        ("content-type", "content-type", "declared")]


def test_a_body_that_is_not_json_is_named(spec: MockSpec) -> None:
    assert faults(spec, "GET", "/citizens/3", 200, JSON, b"{'name': 1}") == [
        ("body", "body", "syntax")]


def test_a_missing_required_header_is_named(spec: MockSpec) -> None:
    body = json.dumps({"items": [], "total": 0}).encode()
    assert faults(spec, "GET", "/citizens", 200, JSON, body) == [
        ("header", "X-Rate-Limit", "required")]
    assert faults(spec, "GET", "/citizens", 200, {**JSON, "x-rate-limit": "0"}, body) == [
        ("header", "X-Rate-Limit", "minimum")]


def test_a_body_where_none_is_declared_and_broken_xml_are_named(spec: MockSpec) -> None:
    assert faults(spec, "DELETE", "/citizens/3", 204, {}, b"done") == [
        ("body", "body", "declared")]
    assert faults(spec, "GET", "/notices", 200, {"content-type": "application/xml"},
                  b"<response><items></response>") == [("body", "body", "syntax")]


def test_a_real_server_of_the_nts_document_is_checked() -> None:
    spec = MockSpec.build(nts_document())
    body = json.dumps({"status_code": "OK", "match_cnt": "1", "data": [{"b_no": 1}]}).encode()
    found = spec.validate_response(spec.match("POST", "/status"), 200, JSON, body)
    assert sorted((v.field, v.rule) for v in found) == [("body.data[0].b_no", "type"),
                                                        ("body.match_cnt", "type")]

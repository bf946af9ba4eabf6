"""A request checked against its contract: each violation names where (query, path, header,
body), which field, and which rule — parameters' text first made into their declared types."""

from __future__ import annotations

import json

import pytest
from faker import Faker

from dpghub.testbed.mock import MockSpec, Violation
from tests.support.testbed import constructs_document

TRACE = "8d7f2c1e-3b4a-4c5d-9e6f-7a8b9c0d1e2f"


@pytest.fixture(scope="module")
def spec() -> MockSpec:
    return MockSpec.build(constructs_document())


@pytest.fixture(scope="module")
def citizen() -> dict[str, str]:
    fake = Faker("ko_KR")
    fake.seed_instance(7)
    return {"created": "2024-05-01T09:00:00+09:00", "name": fake.name(), "resident": "yes",
            "email": "kim@example.kr", "phone": "010-1234-5678", "status": "active",
            "code": "SEO-1234"}


def listing(spec: MockSpec, query: list[tuple[str, str]],
            headers: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    found = spec.validate_request(spec.match("GET", "/citizens"), query,
                                  {"x-trace-id": TRACE} if headers is None else headers,
                                  b"", None)
    return sorted((v.location, v.field, v.rule) for v in found)


def creating(spec: MockSpec, body: bytes,
             content_type: str = "application/json") -> list[Violation]:
    return spec.validate_request(spec.match("POST", "/citizens"), [], {}, body, content_type)


def test_query_text_is_read_as_the_declared_types(spec: MockSpec) -> None:
    assert listing(spec, [("page", "3"), ("active", "true"), ("sort", "age"),
                          ("ids", "1"), ("ids", "2"), ("q", "서울")]) == []


@pytest.mark.parametrize(("query", "expected"), [
    ([], [("query", "page", "required")]),
    ([("page", "abc")], [("query", "page", "type")]),
    ([("page", "0")], [("query", "page", "minimum")]),
    ([("page", "101")], [("query", "page", "maximum")]),
    ([("page", "1"), ("active", "yes")], [("query", "active", "type")]),
    ([("page", "1"), ("sort", "date")], [("query", "sort", "enum")]),
    ([("page", "1"), ("ids", "1"), ("ids", "x")], [("query", "ids[1]", "type")]),
    ([("page", "1"), *[("ids", str(i)) for i in range(4)]], [("query", "ids", "maxItems")]),
    ([("page", "1"), ("q", "서울특별시청")], [("query", "q", "maxLength")]),
    ([("page", "1"), ("q", "seoul")], [("query", "q", "pattern")]),
])
def test_each_broken_query_parameter_is_named_with_its_rule(
        spec: MockSpec, query: list[tuple[str, str]],
        expected: list[tuple[str, str, str]]) -> None:
    assert listing(spec, query) == expected


def test_a_required_header_is_checked_and_its_format_too(spec: MockSpec) -> None:
    assert listing(spec, [("page", "1")], {}) == [("header", "X-Trace-Id", "required")]
    assert listing(spec, [("page", "1")], {"x-trace-id": "not-a-uuid"}) == [
        ("header", "X-Trace-Id", "format")]


def test_the_hubs_credentials_are_not_the_mocks_business(spec: MockSpec) -> None:
    """X-API-Key is declared required; the hub checks keys, so a missing one is no fault."""
    assert listing(spec, [("page", "1")]) == []


def test_path_parameters_are_typed_and_bounded(spec: MockSpec) -> None:
    def check(path: str) -> list[tuple[str, str, str]]:
        found = spec.validate_request(spec.match("GET", path), [], {}, b"", None)
        return [(v.location, v.field, v.rule) for v in found]
    assert check("/citizens/12") == []
    assert check("/citizens/0") == [("path", "id", "minimum")]
    assert check("/citizens/kim") == [("path", "id", "type")]


def test_a_valid_body_passes_and_read_only_properties_are_not_required(
        spec: MockSpec, citizen: dict[str, str]) -> None:
    assert creating(spec, json.dumps(citizen).encode()) == []     # no `id`: it is readOnly


def test_body_faults_are_named_by_their_json_path(spec: MockSpec,
                                                  citizen: dict[str, str]) -> None:
    body = {**citizen, "email": "kim.example.kr", "status": "gone", "code": "SE-1",
            "age": 12, "tags": ["a", "a"], "address": {"road": "세종대로", "zip": "1234",
                                                       "floor": 3}}
    del body["phone"]
    found = {(v.field, v.rule) for v in creating(spec, json.dumps(body).encode())}
    assert found == {("body.phone", "required"), ("body.email", "format"),
                     ("body.status", "enum"), ("body.code", "pattern"),
                     ("body.code", "minLength"), ("body.age", "minimum"),
                     ("body.tags", "uniqueItems"), ("body.address.zip", "pattern"),
                     ("body.address.floor", "additionalProperties")}


def test_a_read_only_property_sent_in_a_request_is_a_fault(spec: MockSpec,
                                                            citizen: dict[str, str]) -> None:
    body = {**citizen, "id": "8d7f2c1e-3b4a-4c5d-9e6f-7a8b9c0d1e2f"}
    found = creating(spec, json.dumps(body).encode())
    assert [(v.field, v.rule) for v in found] == [("body.id", "readOnly")]


def test_a_null_is_accepted_only_where_the_schema_is_nullable(
        spec: MockSpec, citizen: dict[str, str]) -> None:
    assert creating(spec, json.dumps({**citizen, "nickname": None}).encode()) == []
    found = creating(spec, json.dumps({**citizen, "name": None}).encode())
    assert [(v.field, v.rule) for v in found] == [("body.name", "type")]


def test_a_form_body_is_read_with_its_declared_types(spec: MockSpec) -> None:
    form = "application/x-www-form-urlencoded"
    assert creating(spec, "name=김민서&age=30".encode(), form) == []
    found = creating(spec, b"age=12", form)
    assert sorted((v.field, v.rule) for v in found) == [("body.age", "minimum"),
                                                        ("body.name", "required")]


def test_messages_name_the_field_and_the_rule(spec: MockSpec) -> None:
    violation = spec.validate_request(spec.match("GET", "/citizens"), [("page", "500")],
                                      {"x-trace-id": TRACE}, b"", None)[0]
    assert violation.message == "query parameter 'page' must be at most 100 (maximum)"
    assert violation.as_dict() == {"location": "query", "field": "page", "rule": "maximum",
                                   "message": violation.message}

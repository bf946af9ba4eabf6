"""An operation the mock cannot serve is reported with the reason, and the others still
serve: one bad schema never takes a whole service's sandbox down."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from dpghub.testbed.mock import MockSpec, Prefer, render_match
from tests.support.testbed import json_content, ref


def ok(schema: dict[str, Any]) -> dict[str, Any]:
    return {"responses": {"200": {"description": "ok", "content": json_content(schema)}}}


@pytest.fixture(scope="module")
def spec() -> MockSpec:
    return MockSpec.build({
        "openapi": "3.0.3", "info": {"title": "Broken", "version": "1"},
        "paths": {
            "/loop": {"get": ok(ref("Loop"))},
            "/missing": {"get": ok(ref("Nowhere")),
                         "post": {"requestBody": {"content": json_content(ref("Gone"))},
                                  "responses": {"204": {"description": "none"}}}},
            "/lookahead": {"get": ok({"type": "string", "pattern": "^(?=.*[0-9])\\w{8}$"})},
            "/conflict": {"get": ok({"allOf": [{"type": "string"}, {"type": "integer"}]})},
            "/fine": {"get": ok(ref("Node")), "put": ok({"type": "string"})},
            "/lookahead-with-example": {"get": ok({"type": "string", "example": "abc12345",
                                                   "pattern": "^(?=.*[0-9])\\w{8}$"})},
        },
        "components": {"schemas": {
            "Loop": {"type": "object", "required": ["next"],
                     "properties": {"next": ref("Loop")}},
            "Node": {"type": "object", "required": ["name"], "properties": {
                "name": {"type": "string"}, "parent": ref("Node")}},
        }},
    })


def test_each_broken_operation_is_recorded_with_a_sentence_naming_it(spec: MockSpec) -> None:
    assert set(spec.broken) == {("GET", "/loop"), ("GET", "/missing"), ("POST", "/missing"),
                                ("GET", "/lookahead"), ("GET", "/conflict")}
    loop = spec.broken[("GET", "/loop")]
    assert loop.startswith("The operation GET /loop cannot be mocked: ")
    assert "'#/components/schemas/Loop' contains itself" in loop and loop.endswith(".")
    assert "'#/components/schemas/Nowhere' points to nothing" in spec.broken[("GET", "/missing")]
    assert "Gone" in spec.broken[("POST", "/missing")]
    assert "lookaround" in spec.broken[("GET", "/lookahead")]
    assert "no common type" in spec.broken[("GET", "/conflict")]


def test_the_other_operations_still_serve(spec: MockSpec) -> None:
    node = json.loads(spec.respond(spec.match("GET", "/fine"), Prefer(), b"s").body)
    assert isinstance(node["name"], str)
    assert spec.respond(spec.match("PUT", "/fine"), Prefer(), b"s").status == 200


def test_an_example_rescues_a_pattern_the_mock_cannot_generate(spec: MockSpec) -> None:
    answer = spec.respond(spec.match("GET", "/lookahead-with-example"), Prefer(), b"s")
    assert json.loads(answer.body) == "abc12345"


def test_a_broken_operation_is_answered_501_with_its_reason(spec: MockSpec) -> None:
    match = spec.match("GET", "/loop")
    assert (match.kind, match.status) == ("broken", 501)
    status, media, body, headers = render_match(match, "problem")
    problem = json.loads(body)
    assert (status, media, headers) == (501, "application/problem+json", [])
    assert problem["code"] == "mock_operation_broken"
    assert problem["title"] == "The mock cannot serve this operation"
    assert problem["detail"] == spec.broken[("GET", "/loop")]


def test_unknown_paths_and_methods_are_answered_404_and_405(spec: MockSpec) -> None:
    status, _, body, _ = render_match(spec.match("GET", "/nowhere"), "problem")
    assert (status, json.loads(body)["code"]) == (404, "mock_path_unknown")
    status, _, body, headers = render_match(spec.match("DELETE", "/fine"), "datagokr-json")
    assert (status, headers) == (405, [(b"allow", b"GET, PUT")])
    assert json.loads(body)["response"]["header"]["resultCode"] == "04"


def test_a_document_read_from_yaml_is_served_as_json_would_have_it() -> None:
    """YAML reads `2020-01-01` as a date; the mock keeps its own copy with the string, so
    changing the caller's document afterwards changes nothing either."""
    document = {"openapi": "3.0.3", "info": {"title": "YAML", "version": "1"},
                "paths": {"/day": {"get": ok({"type": "string", "format": "date",
                                              "enum": [date(2020, 1, 1)]})}}}
    spec = MockSpec.build(document)
    document["paths"].clear()
    assert spec.broken == {}
    assert spec.respond(spec.match("GET", "/day"), Prefer(), b"s").body == b'"2020-01-01"'

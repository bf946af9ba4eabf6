"""What a developer asks of the mock with Prism's `Prefer` header — a status, a named example,
fresh values — and the answers being the same for the same request otherwise."""

from __future__ import annotations

import json
from typing import Any

import pytest

from dpghub.testbed.mock import MockSpec, Prefer
from tests.support.testbed import constructs_document


@pytest.fixture(scope="module")
def spec() -> MockSpec:
    return MockSpec.build(constructs_document())


@pytest.mark.parametrize(("header", "expected"), [
    (None, Prefer()),
    ("code=404", Prefer(code=404)),
    ("example=kim", Prefer(example="kim")),
    ("dynamic=true", Prefer(dynamic=True)),
    ("code=201, example=kim", Prefer(code=201, example="kim")),
    ("code=500;dynamic=true", Prefer(code=500, dynamic=True)),
    ("dynamic=false, code=abc", Prefer()),
])
def test_the_prefer_header_is_read_as_prism_reads_it(header: str | None,
                                                     expected: Prefer) -> None:
    assert Prefer.parse(header) == expected


def test_without_preference_the_lowest_success_is_answered(spec: MockSpec) -> None:
    assert spec.respond(spec.match("GET", "/citizens/3"), Prefer(), b"s").status == 200
    assert spec.respond(spec.match("DELETE", "/citizens/3"), Prefer(), b"s").status == 204


def test_a_declared_code_is_answered_with_its_own_schema(spec: MockSpec) -> None:
    answer = spec.respond(spec.match("GET", "/citizens"), Prefer(code=400), b"s")
    assert (answer.status, answer.media_type) == (400, "application/problem+json")
    assert isinstance(json.loads(answer.body)["title"], str)


def test_a_code_only_default_covers_is_answered_with_that_code(spec: MockSpec) -> None:
    answer = spec.respond(spec.match("GET", "/citizens/3"), Prefer(code=503), b"s")
    assert (answer.status, answer.media_type) == (503, "application/problem+json")


def test_an_undeclared_code_is_refused_naming_what_is_declared(spec: MockSpec) -> None:
    answer = spec.respond(spec.match("GET", "/citizens"), Prefer(code=418), b"s")
    problem = json.loads(answer.body)
    assert (answer.status, answer.media_type) == (400, "application/problem+json")
    assert problem["code"] == "request_invalid"
    assert problem["errors"] == [{
        "location": "header", "field": "prefer", "rule": "declared",
        "message": "The Prefer header asks for status 418, which GET /citizens does not "
                   "declare (it declares 200, 400) (declared)"}]
    assert "prefer" in problem["title"] and "declared" in problem["title"]


def test_a_named_example_is_answered_as_written(spec: MockSpec) -> None:
    answer = spec.respond(spec.match("POST", "/citizens"), Prefer(example="kim"), b"s")
    assert answer.status == 201
    assert json.loads(answer.body)["name"] == "김민서"


def test_an_unknown_example_is_refused_naming_the_examples(spec: MockSpec) -> None:
    answer = spec.respond(spec.match("POST", "/citizens"), Prefer(example="lee"), b"s")
    assert answer.status == 400
    message = json.loads(answer.body)["errors"][0]["message"]
    assert "'lee'" in message and "kim, wrong" in message


def test_a_valid_example_is_preferred_to_values_built_from_the_schema(spec: MockSpec) -> None:
    answers = {spec.respond(spec.match("GET", "/greeting"), Prefer(), bytes([s])).body
               for s in range(5)}
    assert answers == {json.dumps({"text": "안녕하세요"}, ensure_ascii=False).encode()}


def test_an_example_invalid_against_its_schema_is_not_answered(spec: MockSpec) -> None:
    answer = json.loads(spec.respond(spec.match("GET", "/stale"), Prefer(), b"s").body)
    assert isinstance(answer["count"], int)         # the example says "many"


def test_the_same_seed_gives_the_same_answer_and_another_seed_another(spec: MockSpec) -> None:
    match = spec.match("GET", "/citizens/3")
    first = spec.respond(match, Prefer(), b"request-1")
    fresh = MockSpec.build(constructs_document())          # no cache shared between them
    assert fresh.respond(fresh.match("GET", "/citizens/3"), Prefer(), b"request-1") == first
    assert spec.respond(match, Prefer(), b"request-2").body != first.body


def test_dynamic_answers_differ_each_time_even_for_the_same_seed(spec: MockSpec) -> None:
    match = spec.match("GET", "/citizens/3")
    bodies = {spec.respond(match, Prefer(dynamic=True), b"same").body for _ in range(5)}
    assert len(bodies) == 5
    greeting = spec.respond(spec.match("GET", "/greeting"), Prefer(dynamic=True), b"same")
    assert json.loads(greeting.body)["text"] != "안녕하세요"   # built, not the example


def test_accept_chooses_among_declared_media_types(spec: MockSpec) -> None:
    answer = spec.respond(spec.match("GET", "/citizens"), Prefer(code=400), b"s",
                          accept="text/html;q=0.9, application/problem+json")
    assert answer.media_type == "application/problem+json"


def test_declared_answer_headers_are_sent(spec: MockSpec) -> None:
    answer = spec.respond(spec.match("GET", "/citizens"), Prefer(), b"s")
    headers: dict[bytes, Any] = dict(answer.headers)
    assert int(headers[b"x-rate-limit"]) >= 1
    assert headers[b"x-next"].startswith(b"https://")     # a name like an extension's

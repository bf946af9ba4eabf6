"""The project page's curl examples: made from the service's own document, values from its
examples, the key left as a shell variable."""

from __future__ import annotations

import shlex

from dpghub.catalog.openapi import normalize
from dpghub.testbed.try_it import curl
from tests.support.devserver import EXAMPLE, SPEC


def _document(paths: dict) -> dict:
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths}


def test_a_path_parameter_takes_the_documents_example() -> None:
    command = curl(normalize(SPEC), "startup/bizcheck", "http://hub.example/")
    assert command == ('curl -H "X-API-Key: $SANDBOX_KEY" '
                       f"http://hub.example/sandbox/startup/bizcheck/businesses/{EXAMPLE}")


def test_a_json_body_gets_its_required_fields_and_required_headers_and_query_are_sent() -> None:
    document = _document({"/orders": {"post": {
        "parameters": [
            {"name": "X-Request-Id", "in": "header", "required": True,
             "schema": {"type": "string", "example": "req-1"}},
            {"name": "page", "in": "query", "required": True, "schema": {"type": "integer"}},
            {"name": "sort", "in": "query", "schema": {"type": "string"}}],
        "requestBody": {"content": {"application/json": {"schema": {
            "$ref": "#/components/schemas/Order"}}}},
        "responses": {"201": {"description": "made"}}}}})
    document["components"] = {"schemas": {"Order": {
        "type": "object", "required": ["item", "count", "kind"],
        "properties": {"item": {"type": "string", "example": "사과"},
                       "count": {"type": "integer"},
                       "kind": {"type": "string", "enum": ["retail", "bulk"]},
                       "note": {"type": "string"}}}}}
    words = shlex.split(curl(document, "shop/orders", "http://hub.example") or "")
    assert words[:3] == ["curl", "-X", "POST"]
    assert words[words.index("-d") + 1] == '{"item": "사과", "count": 1, "kind": "retail"}'
    assert "X-Request-Id: req-1" in words and "X-API-Key: $SANDBOX_KEY" in words
    assert words[-1] == "http://hub.example/sandbox/shop/orders/orders?page=1"


def test_a_document_without_operations_has_no_example() -> None:
    assert curl(_document({}), "x/y", "http://hub.example/") is None

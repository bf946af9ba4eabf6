"""The OpenAPI document as the hub really answers.

FastAPI describes every error answer as `application/json` and its own validation answer as
`HTTPValidationError`; the hub answers errors as `application/problem+json` (RFC 9457) with
one shape (`Problem`), validation included. This rewrites the generated document once so that
clients and contract testers (Schemathesis) read what the hub does.

A few error answers follow another standard and keep the body their route declares with a
model of its own: the OAuth token endpoint's (RFC 6749 §5.2, `application/json` with `error`)
and the readiness probe's 503 (its `Ready` body, which load balancers read).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from .problems import FieldError, Problem

PROBLEM = "application/problem+json"
PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
FASTAPI_ONLY = ("HTTPValidationError", "ValidationError")
# The schemas FastAPI puts on error answers that the hub renders as problem+json
PROBLEM_SHAPED = {PROBLEM_REF["$ref"], "#/components/schemas/HTTPValidationError"}


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _rewrite(get_openapi(
                title=app.title, version=app.version, description=app.description,
                routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _rewrite(document: dict[str, Any]) -> dict[str, Any]:
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for name in FASTAPI_ONLY:
        components.pop(name, None)
    components["Problem"] = Problem.model_json_schema(ref_template="#/components/schemas/"
                                                                  "{model}")
    components["FieldError"] = components["Problem"].pop("$defs", {}).get(
        "FieldError", FieldError.model_json_schema())
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            for status, answer in operation["responses"].items():
                if status[:1] in "45":
                    answer["content"] = _error_content(answer.get("content") or {})
            if operation.get("parameters") or operation.get("requestBody"):
                operation["responses"].setdefault("422", {
                    "description": "Invalid input",
                    "content": {PROBLEM: {"schema": PROBLEM_REF}}})
                operation["responses"]["422"]["description"] = "Invalid input"
    return document


def _error_content(content: dict[str, Any]) -> dict[str, Any]:
    """problem+json, plus any body of its own the route declared for this status (a model
    other than the problem shapes) — a standard's error body, which the hub does answer."""
    own = {media: body for media, body in content.items() if media != PROBLEM
           and body.get("schema", {}).get("$ref", PROBLEM_REF["$ref"]) not in PROBLEM_SHAPED}
    if own and PROBLEM not in content:
        return own
    return {**own, PROBLEM: {"schema": PROBLEM_REF}}

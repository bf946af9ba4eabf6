"""The curl a project's page shows for each service it builds on: the service's first
operation on its mock, with the values its document gives as examples — so the command that
is copied calls a service of this hub, not one the page assumed was registered."""

from __future__ import annotations

import json
import shlex
from typing import Any
from urllib.parse import quote, urlencode

from ..catalog import openapi

KEY_VARIABLE = "$SANDBOX_KEY"
MAX_DEPTH = 6


def curl(document: dict[str, Any], ref: str, base_url: str) -> str | None:
    """`curl …` for the first operation of `document` on /sandbox/{ref}/, or None when the
    document has no operation."""
    found = openapi.operations(document)
    if not found:
        return None
    first = found[0]
    raw = (document.get("paths") or {}).get(first["path"], {})
    op = raw.get(first["method"].lower(), {})
    params = [*(raw.get("parameters") or []), *(op.get("parameters") or [])]
    path, query, headers = first["path"], [], [f"X-API-Key: {KEY_VARIABLE}"]
    for param in (_resolve(document, p) for p in params):
        if not (param.get("required") or param.get("in") == "path"):
            continue
        value = _scalar(_example(document, param, param.get("schema") or {}, 0))
        if param.get("in") == "path":
            path = path.replace("{" + str(param.get("name")) + "}", quote(value, safe=""))
        elif param.get("in") == "query":
            query.append((param.get("name"), value))
        elif param.get("in") == "header" and str(param.get("name")).lower() != "x-api-key":
            headers.append(f"{param.get('name')}: {value}")
    # the key stays a shell variable (double quotes), set once: SANDBOX_KEY=dsk_…
    parts = ["curl"] if first["method"] == "GET" else ["curl", "-X", first["method"]]
    parts += ["-H", f'"{headers[0]}"']
    for header in headers[1:]:
        parts += ["-H", shlex.quote(header)]
    body = (first.get("request_body") or {}).get("application/json")
    if body is not None:
        example = json.dumps(_example(document, {}, body, 0), ensure_ascii=False)
        parts += ["-H", shlex.quote("Content-Type: application/json"), "-d",
                  shlex.quote(example)]
    url = f"{base_url.rstrip('/')}/sandbox/{ref}{path}" + (f"?{urlencode(query)}" if query
                                                           else "")
    return " ".join([*parts, shlex.quote(url)])


def _resolve(document: dict[str, Any], node: Any) -> Any:
    for _ in range(MAX_DEPTH):
        if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
            return node
        target: Any = document
        for step in node["$ref"].lstrip("#/").split("/"):
            target = target.get(step, {}) if isinstance(target, dict) else {}
        node = target
    return {}


def _example(document: dict[str, Any], holder: dict[str, Any], schema: Any, depth: int) -> Any:
    """The value the document gives (`example`, else the first of `enum`, `default`), or one
    made from the schema's type; objects get their required properties."""
    schema = _resolve(document, schema)
    for source in (holder, schema if isinstance(schema, dict) else {}):
        if "example" in source:
            return source["example"]
    if not isinstance(schema, dict) or depth > MAX_DEPTH:
        return "…"
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return {name: _example(document, {}, props.get(name, {}), depth + 1)
                for name in schema.get("required") or []}
    if kind == "array":
        return [_example(document, {}, schema.get("items") or {}, depth + 1)]
    return {"integer": 1, "number": 1, "boolean": True}.get(str(kind), "…")


def _scalar(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list) else str(value)

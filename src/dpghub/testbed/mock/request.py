"""A request checked against its operation: path, query, header and cookie parameters (their
text made into the declared types first) and the body (JSON, or a urlencoded form)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from .checker import violations
from .model import Violation, phrase
from .operation import MISSING, Body, Media, Operation
from .params import coerce, value_of


def base_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def is_json(media_type: str) -> bool:
    return media_type == "application/json" or media_type.endswith("+json")


def declared(content: dict[str, Any], media_type: str) -> str | None:
    """The declared media type that covers `media_type` (exact, type/*, then */*)."""
    if media_type in content:
        return media_type
    wildcard = media_type.split("/", 1)[0] + "/*"
    if wildcard in content:
        return wildcard
    return "*/*" if "*/*" in content else None


def check(operation: Operation, path_params: dict[str, str], query: list[tuple[str, str]],
          headers: dict[str, str], body: bytes, content_type: str | None,
          cookies: dict[str, str] | None = None) -> list[Violation]:
    found: list[Violation] = []
    sent = {"path": {k: [v] for k, v in path_params.items()}, "query": {}, "header": {},
            "cookie": {k: [v] for k, v in (cookies or {}).items()}}
    for name, value in query:
        sent["query"].setdefault(name, []).append(value)
    for location, validator in operation.checks.items():
        params = operation.params[location]
        given = sent.get(location, {}) if location != "header" else {
            p.name: [headers[p.name.lower()]] for p in params if p.name.lower() in headers}
        values = {p.name: value_of(p, given[p.name]) for p in params if p.name in given}
        if not validator.is_valid(values):
            found.extend(violations(validator, values, location, "", "request"))
    if operation.body is not None:
        found.extend(check_body(operation.body, body, content_type))
    return found


def check_body(spec: Body, body: bytes, content_type: str | None) -> list[Violation]:
    if not body:
        if spec.required:
            return [Violation.of("body", "body", "required", "required",
                                 subject=phrase("request body"))]
        return []
    media_type = base_type(content_type)
    if not media_type and len(spec.content) == 1:
        media_type = next(iter(spec.content))
    key = declared(spec.content, media_type)
    if key is None:
        return [Violation.of("content-type", "content-type", "declared", "content type",
                             sent=media_type or "none",
                             expected=", ".join(spec.content) or "none")]
    media = spec.content[key]
    if media.validator is None:
        return []
    value, fault = parse(media, media_type, body, spec.form_types.get(key, {}))
    if fault is not None:
        return [fault]
    if value is MISSING or media.validator.is_valid(value):
        return []
    return list(violations(media.validator, value, "body", "body", "request"))


def parse(media: Media, media_type: str, body: bytes,
          form_types: dict[str, tuple[frozenset[str], frozenset[str]]]
          ) -> tuple[Any, Violation | None]:
    """(the body as a value, or a violation saying why it cannot be read)."""
    if is_json(media_type) or (media.media_type == "*/*" and body[:1] in (b"{", b"[")):
        try:
            return json.loads(body), None
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:   # nested past reading
            return None, Violation.of("body", "body", "syntax", "not json",
                                      subject=phrase("request body"), expected=str(exc))
    if media_type == "application/x-www-form-urlencoded":
        pairs = parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
        return form(pairs, form_types), None
    if media_type.startswith("text/"):
        return body.decode("utf-8", "replace"), None
    return MISSING, None      # multipart, XML, binary: the mock does not read them


def form(pairs: list[tuple[str, str]],
         types: dict[str, tuple[frozenset[str], frozenset[str]]]) -> dict[str, Any]:
    grouped: dict[str, list[str]] = {}
    for name, value in pairs:
        grouped.setdefault(name, []).append(value)
    out: dict[str, Any] = {}
    for name, values in grouped.items():
        kinds, items = types.get(name, (frozenset(), frozenset()))
        if "array" in kinds:
            out[name] = [coerce(v, items) for v in values]
        else:
            out[name] = coerce(values[-1], kinds)
    return out

"""A real server's answer checked against the contract, for the validation proxy: the status
is declared, the content type is one the status declares, the body is valid against its
schema (JSON and forms; XML only for being well formed), required headers are present."""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import ParseError, fromstring

from .checker import violations
from .model import Violation, phrase
from .operation import Operation
from .params import INTEGER, NUMBER
from .request import base_type, declared, is_json


def check(op: Operation, status: int, headers: dict[str, str], body: bytes) -> list[Violation]:
    key = op.response_key(status)
    if key is None:
        return [Violation.of("status", "status", "declared", "status",
                             operation=op.label, sent=status,
                             expected=", ".join(op.responses))]
    response = op.responses[key]
    found = [Violation.of("header", h.name, "required", "required",
                          subject=phrase("header", name=h.name))
             for h in response.headers if h.required and h.name.lower() not in headers]
    for header in response.headers:
        sent = headers.get(header.name.lower())
        if sent is not None and header.validator is not None:
            value = _header_value(sent, header.schema)
            found += violations(header.validator, value, "header", header.name, "response")
    if not response.content:
        if body.strip():
            found.append(Violation.of("body", "body", "declared", "no body", status=status))
        return found
    media_type = base_type(headers.get("content-type"))
    media_key = declared(response.content, media_type) if media_type else None
    if media_key is None:
        found.append(Violation.of("content-type", "content-type", "declared", "answer type",
                                  sent=media_type or "none", status=status,
                                  expected=", ".join(response.content)))
        return found
    media = response.content[media_key]
    if media.validator is None:
        return found
    if is_json(media_type):
        try:
            value = json.loads(body)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:   # nested past reading
            return [*found, Violation.of("body", "body", "syntax", "not json",
                                         subject=phrase("answer body"), expected=str(exc))]
        found += violations(media.validator, value, "body", "body", "response")
    elif media_type.endswith("xml"):
        try:
            fromstring(body)
        except ParseError as exc:
            found.append(Violation.of("body", "body", "syntax", "not xml",
                                      subject=phrase("answer body"), expected=str(exc)))
    return found


def _header_value(sent: str, schema: Any) -> Any:
    target = schema if isinstance(schema, dict) else {}
    kind = target.get("type")
    if kind == "integer" and INTEGER.match(sent):
        return int(sent)
    if kind == "number" and NUMBER.match(sent):
        return float(sent)
    if kind == "boolean" and sent in ("true", "false"):
        return sent == "true"
    if kind == "array":
        return [part.strip() for part in sent.split(",")]
    return sent

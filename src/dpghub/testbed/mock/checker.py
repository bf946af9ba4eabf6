"""Compiled validators (jsonschema-rs, a Rust engine: tens of times faster per call than a
Python one) and their errors as Violations that name the field and the rule."""

from __future__ import annotations

import binascii
import re
from base64 import b64decode
from collections.abc import Iterable, Iterator
from typing import Any

import jsonschema_rs

from .messages import TRANSLATED
from .model import Phrase, Violation, phrase
from .oas import Converter, Mode, uri_of
from .refs import Resolver

Validator = Any   # a jsonschema_rs validator: is_valid(value), iter_errors(value)

RULES = {"OneOfMultipleValid": "oneOf", "OneOfNotValid": "oneOf", "Constant": "const",
         "FalseSchema": "false"}
EXPECTED = ("types", "options", "format", "limit", "multiple_of", "pattern", "expected_value")


def _is_byte(value: str) -> bool:
    try:
        b64decode(value.encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return False
    return True


TIME = re.compile(r"([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([zZ]|[+-]([01]\d|2[0-3]):[0-5]\d)?")


def _is_time(value: str) -> bool:
    """HH:MM:SS with or without an offset: JSON Schema asks for the offset, openapi-core's
    checker refuses it (OpenAPI 3.0 does not define `time`), so both are accepted here and
    the mock answers without one."""
    return TIME.fullmatch(value) is not None


FORMATS = {"byte": _is_byte, "binary": lambda _value: True, "password": lambda _value: True,
           "time": _is_time}


class Checker:
    """Validators over one document in one direction (request or response)."""

    def __init__(self, document: dict[str, Any], resolver: Resolver, mode: Mode,
                 registry: jsonschema_rs.Registry | None = None) -> None:
        self.mode = mode
        self.converter = Converter(document, resolver, mode)
        self.uri = uri_of(mode)
        self.registry = registry or registry_of(document, resolver)
        self._compiled: dict[int, tuple[Any, Validator]] = {}

    def compile(self, schema: Any) -> Validator:
        """A validator of a JSON Schema (already converted) whose refs are absolute."""
        return jsonschema_rs.Draft202012Validator(
            schema, registry=self.registry, validate_formats=True, formats=FORMATS)

    def at(self, ref: str) -> Validator:
        """A validator of the schema at `ref` ("#/…") in this direction."""
        return self.compile({"$ref": self.uri + ref})

    def of(self, node: Any) -> Validator:
        """A validator of one schema object of the document (cached while it lives)."""
        hit = self._compiled.get(id(node))
        if hit is None:
            hit = (node, self.compile(self.converter.schema(node)))
            self._compiled[id(node)] = hit
        return hit[1]


def registry_of(document: dict[str, Any], resolver: Resolver) -> jsonschema_rs.Registry:
    """Both directions of the document in one registry (one conversion each)."""
    return jsonschema_rs.Registry([
        (uri_of(mode), Converter(document, resolver, mode).document(document))
        for mode in ("request", "response")])


def field_name(prefix: str, path: Iterable[str | int]) -> str:
    name = prefix
    for step in path:
        if isinstance(step, int):
            name += f"[{step}]"
        else:
            name = f"{name}.{step}" if name else str(step)
    return name


def subject(location: str, name: str) -> Phrase:
    if location == "body":
        return phrase("field", name=name)
    return phrase("header", name=name) if location == "header" else \
        phrase("parameter", location=location, name=name)


def violations(validator: Validator, value: Any, location: str, prefix: str,
               mode: Mode) -> Iterator[Violation]:
    """The errors of `value` as Violations; `prefix` starts each field ("body", or "")."""
    for error in validator.iter_errors(value):
        kind = error.kind
        kind_name = type(kind).__name__
        rule = RULES.get(kind_name) or kind_name[0].lower() + kind_name[1:]
        path = list(error.instance_path)
        facts = kind.as_dict()
        if rule == "false":
            rule = "readOnly" if mode == "request" else "writeOnly"
        if rule == "required":
            path.append(facts.get("property", "?"))
        names = ([field_name(prefix, [*path, p]) for p in facts.get("unexpected", [])]
                 if rule == "additionalProperties" else [field_name(prefix, path) or prefix])
        key = next((k for k in EXPECTED if k in facts), None)
        expected = facts[key] if key else error.message
        if isinstance(expected, list):
            expected = (" or ".join(expected) if key == "types"
                        else ", ".join(map(_show, expected)))
        elif key == "expected_value":
            expected = _show(expected)
        for name in names:
            yield Violation.of(location, name, rule, rule if rule in TRANSLATED else "other",
                               subject=subject(location, name), expected=expected)


def _show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else "null" if value is None else str(value)

"""Parameters as OpenAPI serialises them: every value arrives as text, and becomes the number,
boolean or list its schema says before it is validated (style and explode as declared)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .refs import Resolver, Unresolvable

INTEGER = re.compile(r"-?\d+\Z")
NUMBER = re.compile(r"-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\Z")
SEPARATORS = {"form": ",", "simple": ",", "spaceDelimited": " ", "pipeDelimited": "|"}
# the hub's own credentials: a document often declares them, and the hub checks them
CREDENTIALS = {("query", "servicekey"), ("header", "x-api-key"), ("header", "authorization")}


@dataclass(frozen=True)
class Param:
    name: str
    where: str                  # query | header | path | cookie
    required: bool
    types: frozenset[str]       # the JSON types its schema allows ({} when any)
    item_types: frozenset[str]  # for arrays: the types of the items
    separator: str | None       # None: one value per repetition (form, explode)
    json: bool                  # declared with `content: application/json`

    @property
    def is_array(self) -> bool:
        return "array" in self.types


def types_of(schema: Any, resolver: Resolver, depth: int = 0) -> frozenset[str]:
    """The JSON types a schema admits, looking through $ref and the composition keywords."""
    try:
        schema = resolver.target(schema)
    except Unresolvable:
        return frozenset()
    if not isinstance(schema, dict) or depth > 4:
        return frozenset()
    declared = schema.get("type")
    if isinstance(declared, str):
        found = {declared}
    elif isinstance(declared, list):
        found = set(declared)
    else:
        found = set()
        for key in ("allOf", "oneOf", "anyOf"):
            for part in schema.get(key) or []:
                found |= types_of(part, resolver, depth + 1)
    if schema.get("nullable") is True and found:
        found.add("null")
    return frozenset(found)


def make_param(raw: dict[str, Any], resolver: Resolver) -> Param:
    where = str(raw.get("in"))
    schema = raw.get("schema")
    content = raw.get("content") or {}
    is_json = schema is None and any("json" in m for m in content)
    if schema is None and content:
        schema = next(iter(content.values())).get("schema")
    types = types_of(schema, resolver)
    items: frozenset[str] = frozenset()
    if "array" in types:
        target = resolver.target(schema)
        items = types_of(target.get("items", {}), resolver) if isinstance(target, dict) else items
    style = raw.get("style") or ("form" if where in ("query", "cookie") else "simple")
    explode = raw.get("explode", style == "form")
    separator = None if (explode and style == "form") else SEPARATORS.get(style, ",")
    return Param(str(raw.get("name")), where, bool(raw.get("required")) or where == "path",
                 types, items, separator, is_json)


def is_credential(raw: dict[str, Any], extra: set[tuple[str, str]]) -> bool:
    key = (str(raw.get("in")), str(raw.get("name", "")).lower())
    return key in CREDENTIALS or key in extra


def coerce(text: str, types: frozenset[str]) -> Any:
    """The value `text` stands for under these types; the text itself when none fits, so
    the validator names the fault."""
    if not types or "string" in types:
        return text
    if "integer" in types and INTEGER.match(text):
        return int(text)
    if "number" in types and NUMBER.match(text):
        number = float(text)
        return int(number) if number.is_integer() and "e" not in text.lower() else number
    if "boolean" in types and text in ("true", "false"):
        return text == "true"
    if "null" in types and text in ("", "null"):
        return None
    return text


def value_of(param: Param, texts: list[str]) -> Any:
    """The value of a parameter sent as `texts` (one per repetition)."""
    if param.json:
        try:
            return json.loads(texts[-1])
        except ValueError:
            return texts[-1]
    if param.is_array:
        if param.separator is not None:
            texts = [piece for text in texts for piece in text.split(param.separator)]
        return [coerce(t, param.item_types) for t in texts]
    if "object" in param.types:
        return texts[-1]      # objects in a query (deepObject…) are not checked, only present
    return coerce(texts[-1], param.types)

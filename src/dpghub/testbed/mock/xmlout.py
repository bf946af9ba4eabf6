"""A value as XML, the way its schema's `xml` objects name things (data.go.kr's documents
often declare only application/xml): element names, attributes, wrapped arrays."""

from __future__ import annotations

import re
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from .merge import Merger
from .refs import Resolver, Unresolvable

NOT_NAME = re.compile(r"[^\w.\-]", re.UNICODE)
HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def element_name(name: str) -> str:
    name = NOT_NAME.sub("_", name) or "item"
    return name if (name[0].isalpha() or name[0] == "_") else "_" + name


class XmlWriter:
    def __init__(self, resolver: Resolver, merger: Merger) -> None:
        self.resolver = resolver
        self.merger = merger

    def document(self, value: Any, schema: Any, fallback: str = "response") -> bytes:
        parts = [HEAD]
        self._element(parts, self._xml(schema).get("name") or self._ref_name(schema) or
                      fallback, value, schema)
        return "".join(parts).encode()

    def _view(self, schema: Any) -> dict[str, Any]:
        try:
            target = self.merger.flat(self.resolver.target(schema))
        except Unresolvable:
            return {}
        return target if isinstance(target, dict) else {}

    def _xml(self, schema: Any) -> dict[str, Any]:
        """The node's own xml object (a property's wins over its target's), else its target's."""
        if isinstance(schema, dict) and isinstance(schema.get("xml"), dict):
            return schema["xml"]
        found = self._view(schema).get("xml")
        return found if isinstance(found, dict) else {}

    @staticmethod
    def _ref_name(schema: Any) -> str | None:
        ref = schema.get("$ref") if isinstance(schema, dict) else None
        return ref.rsplit("/", 1)[-1] if isinstance(ref, str) else None

    def _element(self, parts: list[str], name: str, value: Any, schema: Any) -> None:
        tag = element_name(name)
        view = self._view(schema)
        if isinstance(value, dict):
            props = view.get("properties") or {}
            extra = view.get("additionalProperties")
            attrs = "".join(f" {element_name(self._xml(props.get(k)).get('name') or k)}="
                            f"{quoteattr(_text(v))}" for k, v in value.items()
                            if self._xml(props.get(k)).get("attribute"))
            parts.append(f"<{tag}{attrs}>")
            for key, item in value.items():
                sub = props.get(key, extra if isinstance(extra, dict) else {})
                if not self._xml(sub).get("attribute"):
                    self._child(parts, key, item, sub)
            parts.append(f"</{tag}>")
        elif isinstance(value, list):
            parts.append(f"<{tag}>")
            items = view.get("items", {})
            for item in value:
                self._element(parts, self._xml(items).get("name") or "item", item, items)
            parts.append(f"</{tag}>")
        elif value is None:
            parts.append(f"<{tag}/>")
        else:
            parts.append(f"<{tag}>{escape(_text(value))}</{tag}>")

    def _child(self, parts: list[str], key: str, value: Any, schema: Any) -> None:
        own = self._xml(schema)
        name = own.get("name") or key
        if not isinstance(value, list):
            self._element(parts, name, value, schema)
            return
        items = self._view(schema).get("items", {})
        item_name = self._xml(items).get("name") or name
        if own.get("wrapped"):
            parts.append(f"<{element_name(name)}>")
        for item in value:
            self._element(parts, item_name, item, items)
        if own.get("wrapped"):
            parts.append(f"</{element_name(name)}>")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)

"""`$ref`s inside one OpenAPI document. The mock serves a single stored document, so a
reference to another file or URL is unresolvable and marks its operation as broken."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote


class Unresolvable(Exception):
    """A `$ref` that points outside the document, or at nothing in it."""


def escape(token: str) -> str:
    """One JSON pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    return "#" + "".join("/" + escape(str(t)) for t in tokens)


class Resolver:
    """Looks references up in the document, and follows chains of them."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def get(self, ref: str) -> Any:
        if not ref.startswith("#"):
            raise Unresolvable(f"the reference '{ref}' points outside the document")
        node: Any = self.document
        for raw in filter(None, ref[1:].split("/")):
            key = unquote(raw).replace("~1", "/").replace("~0", "~")
            if isinstance(node, list) and key.isdigit() and int(key) < len(node):
                node = node[int(key)]
            elif isinstance(node, dict) and key in node:
                node = node[key]
            else:
                raise Unresolvable(f"the reference '{ref}' points to nothing in the document")
        return node

    def deref(self, node: Any, where: str = "#") -> tuple[Any, str]:
        """(the object a chain of `$ref`s ends at, its pointer)."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref = node["$ref"]
            if ref in seen:
                raise Unresolvable(f"the reference '{ref}' only refers to itself")
            seen.add(ref)
            node, where = self.get(ref), ref
        return node, where

    def target(self, node: Any) -> Any:
        return self.deref(node)[0]

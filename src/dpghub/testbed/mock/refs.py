"""`$ref`s inside one OpenAPI document. The mock serves a single stored document, so a
reference to another file or URL is unresolvable and marks its operation as broken."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

FRAGMENT_SAFE = "/~!$&'()*+,;=:@-._%"   # what a URI fragment may hold unencoded


class Unresolvable(Exception):
    """A `$ref` that points outside the document, or at nothing in it."""


def escape(token: str) -> str:
    """One JSON pointer token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer(*tokens: str | int) -> str:
    """A JSON pointer as a URI fragment ("/users/{id}" → "#/~1users~1%7Bid%7D")."""
    return "#" + "".join("/" + quote(escape(str(t)), safe=FRAGMENT_SAFE) for t in tokens)


def as_fragment(ref: str) -> str:
    """A `$ref` of the document written as a valid URI fragment (Hangul, braces encoded)."""
    return quote(ref, safe="#" + FRAGMENT_SAFE)


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


def refs_inside(node: Any) -> set[str]:
    """The `$ref`s written inside `node` (not followed)."""
    found: set[str] = set()
    todo = [node]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            ref = item.get("$ref")
            if isinstance(ref, str):
                found.add(ref)
            todo.extend(v for k, v in item.items() if k not in ("example", "examples", "enum"))
        elif isinstance(item, list):
            todo.extend(item)
    return found


def cyclic(resolver: Resolver) -> set[str]:
    """The `$ref`s that can reach themselves: only their compiled values depend on the path
    they are reached by (the others are compiled once)."""
    edges: dict[str, set[str]] = {}
    todo = list(refs_inside(resolver.document))
    while todo:
        ref = todo.pop()
        if ref in edges:
            continue
        try:
            edges[ref] = refs_inside(resolver.get(ref))
        except Unresolvable:
            edges[ref] = set()
        todo.extend(edges[ref] - edges.keys())
    found = set()
    for start in edges:
        seen, stack = set(), list(edges[start])
        while stack:
            ref = stack.pop()
            if ref == start:
                found.add(start)
                break
            if ref not in seen:
                seen.add(ref)
                stack.extend(edges.get(ref, ()))
    return found

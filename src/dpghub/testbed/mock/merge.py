"""`allOf` merged into one schema before a value is built from it: every part's properties
and every part's `required` names (the fault mocks are most often reported for is a required
field of one allOf part left out), and the strictest of each bound.

Merged schemas are memoised per source object, so a schema the generator sees is always one
long-lived object (its compiled validator can be cached by identity)."""

from __future__ import annotations

from typing import Any

from .model import Unsatisfiable
from .refs import Resolver

LOWER = ("minimum", "minLength", "minItems", "minProperties")
UPPER = ("maximum", "maxLength", "maxItems", "maxProperties")


class Merger:
    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self._memo: dict[int, tuple[Any, dict[str, Any]]] = {}
        self._branches: dict[tuple[int, str, int], tuple[Any, Any]] = {}

    def flat(self, node: Any, seen: tuple[int, ...] = ()) -> Any:
        """`node` without `allOf`: its parts merged into it (refs of parts followed)."""
        if not isinstance(node, dict) or "allOf" not in node:
            return node
        hit = self._memo.get(id(node))
        if hit is not None:
            return hit[1]
        if id(node) in seen:
            raise Unsatisfiable("an allOf contains itself")
        merged: dict[str, Any] = {}
        for part in node["allOf"]:
            target = self.resolver.target(part)
            merged = merge(merged, self.flat(target, (*seen, id(node))))
        merged = merge(merged, {k: v for k, v in node.items() if k != "allOf"})
        self._memo[id(node)] = (node, merged)
        return merged

    def with_branch(self, node: dict[str, Any], key: str, index: int) -> Any:
        """The schema of `node` with its oneOf/anyOf replaced by one of its branches."""
        memo_key = (id(node), key, index)
        hit = self._branches.get(memo_key)
        if hit is not None:
            return hit[1]
        base = {k: v for k, v in node.items() if k not in ("oneOf", "anyOf", "discriminator")}
        if key == "anyOf" and "oneOf" in node:
            base["oneOf"] = node["oneOf"]
        branch = self.flat(self.resolver.target(node[key][index]))
        merged = merge(base, branch) if _shapes(base) else branch
        self._branches[memo_key] = (node, merged)
        return merged


def _shapes(schema: dict[str, Any]) -> bool:
    """Whether the schema has more than annotations beside its branches."""
    return any(k not in ("description", "title", "xml", "example", "nullable") for k in schema)


def merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(b, dict):
        if b is False:
            raise Unsatisfiable("an allOf part admits no value (false)")
        return a
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
            continue
        current = out[key]
        if key == "properties" and isinstance(value, dict):
            props = dict(current)
            for name, schema in value.items():
                props[name] = {"allOf": [props[name], schema]} if name in props else schema
            out[key] = props
        elif key == "required":
            out[key] = list(dict.fromkeys([*current, *value]))
        elif key in LOWER:
            out[key] = max(current, value)
        elif key in UPPER:
            out[key] = min(current, value)
        elif key in ("exclusiveMinimum", "exclusiveMaximum"):
            if isinstance(current, bool) or isinstance(value, bool):
                out[key] = bool(current) or bool(value)
            else:
                out[key] = max(current, value) if key == "exclusiveMinimum" else \
                    min(current, value)
        elif key == "enum":
            out[key] = [v for v in current if v in value]
            if not out[key]:
                raise Unsatisfiable("the allOf parts allow no common enum value")
        elif key == "type":
            out[key] = _type(current, value)
        elif key == "additionalProperties":
            out[key] = False if (current is False or value is False) else current
        elif key == "nullable":
            out[key] = bool(current) and bool(value)
        elif key in ("readOnly", "writeOnly"):
            out[key] = bool(current) or bool(value)
    return out


def _type(a: Any, b: Any) -> Any:
    left = set(a) if isinstance(a, list) else {a}
    right = set(b) if isinstance(b, list) else {b}
    common = left & right
    if ("integer" in left and "number" in right) or ("number" in left and "integer" in right):
        common.add("integer")
    if not common:
        raise Unsatisfiable(f"the allOf parts have no common type ({a} and {b})")
    if len(common) == 1:
        return common.pop()
    return [t for t in (a if isinstance(a, list) else [a]) if t in common]

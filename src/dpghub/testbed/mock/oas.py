"""OpenAPI schemas as JSON Schema 2020-12, so a compiled validator checks them.

OpenAPI 3.0 speaks a dialect: `nullable`, boolean `exclusiveMinimum`, `int32`/`int64` formats
that bound a number, and `readOnly`/`writeOnly` that change what `required` means in a request
or an answer. The whole document is converted once per direction (request, response), with
every `$ref` made absolute so validators built from any part of it resolve against it.
"""

from __future__ import annotations

from typing import Any, Literal

from .refs import Resolver, Unresolvable, as_fragment

Mode = Literal["request", "response"]

SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
SCHEMA_ONE = ("additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
              "unevaluatedItems", "unevaluatedProperties", "additionalItems")
SCHEMA_LISTS = ("allOf", "anyOf", "oneOf", "prefixItems")
DROPPED = ("nullable", "discriminator", "xml", "example", "externalDocs", "deprecated")
NOT_SCHEMAS = ("example", "examples")     # values only: never validated, often large
INT_BOUNDS = {"int32": (-(2 ** 31), 2 ** 31 - 1), "int64": (-(2 ** 63), 2 ** 63 - 1)}


def uri_of(mode: Mode) -> str:
    return f"urn:dpghub:mock:{mode}"


class Converter:
    """Converts schemas of one document for one direction."""

    def __init__(self, document: dict[str, Any], resolver: Resolver, mode: Mode) -> None:
        self.resolver = resolver
        self.mode = mode
        self.uri = uri_of(mode)
        self.v30 = str(document.get("openapi", "3.0")).startswith("3.0")
        self.hidden = "readOnly" if mode == "request" else "writeOnly"

    def document(self, node: Any) -> Any:
        """The document with each schema found where OpenAPI puts one converted."""
        if isinstance(node, list):
            return [self.document(v) for v in node]
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in NOT_SCHEMAS:
                continue
            if key == "schema":
                out[key] = self.schema(value)
            elif key in ("schemas", "definitions") and isinstance(value, dict):
                out[key] = {name: self.schema(s) for name, s in value.items()}
            elif key == "$ref" and isinstance(value, str):
                out[key] = self.ref(value)
            else:
                out[key] = self.document(value)
        return out

    def ref(self, ref: str) -> str:
        return self.uri + as_fragment(ref) if ref.startswith("#") else ref

    def schema(self, node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key in DROPPED or key.startswith("x-"):
                continue
            if key in SCHEMA_MAPS and isinstance(value, dict):
                out[key] = {name: self.schema(s) for name, s in value.items()}
            elif key in SCHEMA_ONE or (key == "items" and isinstance(value, dict)):
                out[key] = self.schema(value)
            elif key in SCHEMA_LISTS or (key == "items" and isinstance(value, list)):
                out["prefixItems" if key == "items" else key] = [self.schema(s) for s in value]
            elif key == "$ref" and isinstance(value, str):
                out[key] = self.ref(value)
            else:
                out[key] = value
        if out.get("type") == "file":   # Swagger 2.0's upload type has no JSON meaning
            del out["type"]
        self._exclusive(out)
        self._int_bounds(out)
        self._hide(node, out)
        return self._nullable(node, out) if self.v30 else out

    @staticmethod
    def _exclusive(out: dict[str, Any]) -> None:
        for bound, exclusive in (("minimum", "exclusiveMinimum"),
                                 ("maximum", "exclusiveMaximum")):
            flag = out.get(exclusive)
            if isinstance(flag, bool):
                if flag and bound in out:
                    out[exclusive] = out.pop(bound)
                else:
                    del out[exclusive]

    @staticmethod
    def _int_bounds(out: dict[str, Any]) -> None:
        bounds = INT_BOUNDS.get(out.get("format", ""))
        types = out.get("type")
        if bounds is None or not (types == "integer" or
                                  (isinstance(types, list) and "integer" in types)):
            return
        if "minimum" not in out and "exclusiveMinimum" not in out:
            out["minimum"] = bounds[0]
        if "maximum" not in out and "exclusiveMaximum" not in out:
            out["maximum"] = bounds[1]

    def _hide(self, node: dict[str, Any], out: dict[str, Any]) -> None:
        """readOnly properties are not sent, writeOnly ones not answered: neither is required
        there, and one that appears anyway is a fault (as openapi-core also says)."""
        properties = node.get("properties")
        if not isinstance(properties, dict):
            return
        hidden = {name for name, prop in properties.items() if self.flagged(prop, self.hidden)}
        if not hidden:
            return
        for name in hidden:
            out["properties"][name] = False
        if isinstance(out.get("required"), list):
            out["required"] = [r for r in out["required"] if r not in hidden]

    def flagged(self, prop: Any, flag: str) -> bool:
        if not isinstance(prop, dict):
            return False
        if prop.get(flag) is True:
            return True
        try:
            target = self.resolver.target(prop)
        except Unresolvable:
            return False
        return isinstance(target, dict) and target.get(flag) is True

    @staticmethod
    def _nullable(node: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
        if node.get("nullable") is not True:
            return out
        types = out.get("type")
        if isinstance(types, str):
            out["type"] = [types, "null"]
            if isinstance(out.get("enum"), list) and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
            return out
        if types is None:
            return {"anyOf": [out, {"type": "null"}]}
        return out

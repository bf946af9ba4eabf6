"""Values built from a schema: every required property present (also under allOf, oneOf and
anyOf), formats and patterns that validate, bounds kept, a oneOf value valid against exactly
one branch, no writeOnly property in an answer, recursion cut where the schema allows it.

A schema the mock cannot build a value for raises Unsatisfiable with the reason in English;
the spec records that operation as broken instead of answering it wrongly."""

from __future__ import annotations

import json
from random import Random
from typing import Any

from . import korean, regex_gen, scalars
from .checker import Checker
from .merge import Merger
from .model import Recursion, Unsatisfiable
from .oas import Mode
from .refs import Resolver, Unresolvable

SAME_REF = 2        # how often one $ref may be entered on one path from the root
MAX_DEPTH = 48      # schema steps from the root, whatever they are
Stack = tuple[str, ...]


class Generator:
    def __init__(self, resolver: Resolver, merger: Merger, checker: Checker,
                 mode: Mode = "response") -> None:
        self.resolver = resolver
        self.merger = merger
        self.checker = checker
        self.hidden = "writeOnly" if mode == "response" else "readOnly"

    def value(self, schema: Any, rng: Random, name: str = "") -> Any:
        try:
            return self._gen(schema, rng, (), 0, name, "")
        except Recursion as exc:
            raise Unsatisfiable(f"{exc}, and no optional property or empty list stops it") \
                from None
        except Unresolvable as exc:
            raise Unsatisfiable(str(exc)) from None

    def _gen(self, schema: Any, rng: Random, stack: Stack, depth: int, name: str,
             description: str) -> Any:
        if depth > MAX_DEPTH:
            raise Recursion("the schema nests deeper than the mock follows")
        if schema is True or schema is None:
            return korean.words(rng)
        if not isinstance(schema, dict):
            raise Unsatisfiable("a schema admits no value (false)")
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if stack.count(ref) >= SAME_REF:
                raise Recursion(f"the schema '{ref}' contains itself")
            return self._gen(self.resolver.get(ref), rng, (*stack, ref), depth + 1, name,
                             description or schema.get("description", ""))
        schema = self.merger.flat(schema)
        description = description or schema.get("description", "")
        for key in ("oneOf", "anyOf"):
            if schema.get(key):
                return self._branch(schema, key, rng, stack, depth, name, description)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return self._enum(schema, rng)
        kind = type_of(schema)
        if kind == "object":
            return self._object(schema, rng, stack, depth, name)
        if kind == "array":
            return self._array(schema, rng, stack, depth, name)
        if kind == "integer":
            return scalars.integer(schema, rng)
        if kind == "number":
            return scalars.number(schema, rng)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "null":
            return None
        return self._string(schema, rng, name, description)

    @staticmethod
    def _enum(schema: dict[str, Any], rng: Random) -> Any:
        options = [v for v in schema["enum"] if v is not None] or list(schema["enum"])
        if not options:
            raise Unsatisfiable("an enum lists no value")
        return rng.choice(options)

    def _branch(self, schema: dict[str, Any], key: str, rng: Random, stack: Stack,
                depth: int, name: str, description: str) -> Any:
        branches = schema[key]
        order = list(range(len(branches)))
        rng.shuffle(order)
        failure: Unsatisfiable = Unsatisfiable(f"no branch of a {key} admits a value")
        for index in order * 2:
            ref = branches[index].get("$ref") if isinstance(branches[index], dict) else None
            path = (*stack, ref) if isinstance(ref, str) else stack
            if isinstance(ref, str) and stack.count(ref) >= SAME_REF:
                failure = Recursion(f"the schema '{ref}' contains itself")
                continue
            try:
                merged = self.merger.with_branch(schema, key, index)
                value = self._gen(merged, rng, path, depth + 1, name, description)
            except Unsatisfiable as exc:
                failure = exc
                continue
            if key == "anyOf":
                return value
            self._discriminate(schema, branches[index], value)
            if sum(self.checker.of(b).is_valid(value) for b in branches) == 1:
                return value
            failure = Unsatisfiable("no value the mock built is valid against exactly one "
                                    "branch of a oneOf (the branches overlap)")
        raise failure

    @staticmethod
    def _discriminate(schema: dict[str, Any], branch: Any, value: Any) -> None:
        """Sets the discriminator property to the name of the branch it was built from."""
        found = schema.get("discriminator")
        ref = branch.get("$ref") if isinstance(branch, dict) else None
        if not isinstance(found, dict) or not isinstance(value, dict) or not ref:
            return
        mapping = {target: label for label, target in (found.get("mapping") or {}).items()}
        value[found.get("propertyName", "type")] = mapping.get(ref, ref.rsplit("/", 1)[-1])

    def _object(self, schema: dict[str, Any], rng: Random, stack: Stack, depth: int,
                name: str) -> dict[str, Any]:
        properties = schema.get("properties") or {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        extra = schema.get("additionalProperties")
        out: dict[str, Any] = {}
        for key in [*properties, *(r for r in required if r not in properties)]:
            sub = properties.get(key, extra if isinstance(extra, dict) else {"type": "string"})
            if self._flag(sub, self.hidden):
                continue
            try:
                out[key] = self._gen(sub, rng, stack, depth + 1, key, "")
            except Recursion:
                if key not in required:
                    continue
                if not self._flag(sub, "nullable"):
                    raise
                out[key] = None
        least = schema.get("minProperties", 0)
        if not properties and isinstance(extra, dict) and not self._flag(extra, self.hidden):
            least = max(least, 1)
        while len(out) < least and extra is not False:
            sub = extra if isinstance(extra, dict) else {"type": "string"}
            out[f"{name or 'key'}{len(out) + 1}"] = self._gen(sub, rng, stack, depth + 1, "", "")
        most = schema.get("maxProperties")
        if most is not None:
            for key in [k for k in reversed(list(out)) if k not in required]:
                if len(out) <= most:
                    break
                del out[key]
            if len(out) > most:
                raise Unsatisfiable(f"an object needs more properties than maxProperties "
                                    f"({most}) allows")
        if len(out) < least:
            raise Unsatisfiable(f"an object needs minProperties ({least}) but allows no "
                                "other property")
        return out

    def _flag(self, schema: Any, flag: str) -> bool:
        if not isinstance(schema, dict):
            return False
        if schema.get(flag) is True:
            return True
        target = self.resolver.target(schema) if "$ref" in schema else schema
        return isinstance(target, dict) and target.get(flag) is True

    def _array(self, schema: dict[str, Any], rng: Random, stack: Stack, depth: int,
               name: str) -> list[Any]:
        items = schema.get("items", {})
        least, most = schema.get("minItems", 0), schema.get("maxItems")
        base = max(least, 1 if most is None or most >= 1 else 0)
        top = base + 2 if most is None else min(most, base + 2)
        if base > top:
            raise Unsatisfiable(f"minItems ({least}) is more than maxItems ({most})")
        count = rng.randint(base, top)
        unique = schema.get("uniqueItems") is True
        out: list[Any] = []
        seen: set[str] = set()
        try:
            for _ in range(count * (8 if unique else 1)):
                if len(out) >= count:
                    break
                item = self._gen(items, rng, stack, depth + 1, name, "")
                if unique:
                    key = json.dumps(item, sort_keys=True, default=str)
                    if key in seen:
                        continue
                    seen.add(key)
                out.append(item)
        except Recursion:
            if least > 0:
                raise
            return []
        if len(out) < least:
            raise Unsatisfiable(f"the mock cannot build {least} distinct items (uniqueItems)")
        return out

    def _string(self, schema: dict[str, Any], rng: Random, name: str,
                description: str) -> str:
        low, high = schema.get("minLength", 0), schema.get("maxLength")
        pattern, fmt = schema.get("pattern"), schema.get("format")
        if isinstance(pattern, str):
            try:
                return regex_gen.matching(pattern, rng, low, high)
            except Unsatisfiable:
                example = self._example(schema)
                if example is None:
                    raise
                return example
        if isinstance(fmt, str) and fmt in scalars.FORMATS:
            text = scalars.formatted(fmt, rng)
            if text is not None and fits(text, low, high):
                return text
            example = self._example(schema)
            if example is None:
                raise Unsatisfiable(f"a '{fmt}' string cannot be {low} to {high} characters "
                                    "long")
            return example
        make = korean.hint(name, description)
        if make is not None:
            text = make(rng)
            if fits(text, low, high):
                return text
        example = self._example(schema)
        if example is not None:
            return example
        return scalars.fit_length(korean.words(rng), low, high, rng)

    def _example(self, schema: dict[str, Any]) -> Any:
        """The schema's own example when it is valid and says something."""
        examples = schema.get("examples")
        example = schema.get("example", examples[0] if isinstance(examples, list) and
                             examples else None)
        if example in (None, "") or not self.checker.of(schema).is_valid(example):
            return None
        return example


def fits(text: str, low: int, high: int | None) -> bool:
    return len(text) >= low and (high is None or len(text) <= high)


def type_of(schema: dict[str, Any]) -> str:
    """The type to build: the declared one (the first not null), else the one the keywords
    imply."""
    declared = schema.get("type")
    if isinstance(declared, list):
        concrete = [t for t in declared if t != "null"]
        declared = concrete[0] if concrete else "null"
    if isinstance(declared, str):
        return declared
    if any(k in schema for k in ("properties", "required", "additionalProperties",
                                 "minProperties")):
        return "object"
    if "items" in schema or "minItems" in schema:
        return "array"
    fmt = schema.get("format")
    if fmt in ("int32", "int64"):
        return "integer"
    if any(k in schema for k in ("minimum", "maximum", "multipleOf")) or \
            fmt in ("float", "double"):
        return "number"
    return "string"

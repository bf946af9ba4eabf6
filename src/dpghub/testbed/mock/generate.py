"""Values built from a schema: every required property present (also under allOf, oneOf and
anyOf), formats and patterns that validate, bounds kept, a oneOf value valid against exactly
one branch, no writeOnly property in an answer, recursion cut where the schema allows it.

A schema is compiled once into a maker (a closure drawing from a seeded Random), so an answer
costs only its draws. A schema the mock cannot build a value for raises Unsatisfiable with
the reason in English; the spec records that operation as broken instead of answering it
wrongly. An optional property that cannot be built is left out.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from random import Random
from typing import Any

from . import korean, regex_gen, scalars
from .checker import Checker
from .draw import between, pick
from .merge import Merger
from .model import Recursion, Unsatisfiable
from .oas import Mode
from .refs import Resolver, Unresolvable, cyclic

Maker = Callable[[Random], Any]
SAME_REF = 2        # how often one $ref may be entered on one path from the root
MAX_DEPTH = 48      # schema steps from the root, whatever they are
MAX_NODES = 20000   # schema steps compiled for one answer
# A document is anyone's who may register a service, and answers are built in the hub's own
# process: what one answer may cost is bounded, so `minItems: 100000000` (or three nested
# arrays of a thousand) is an operation the mock cannot serve, not a hub that stops
MAX_ITEMS = 1000        # minItems, minProperties
MAX_LENGTH = 65_536     # minLength
BUDGET = 250_000        # one answer: an item or property costs 1, a string 1 per 64 characters
Stack = tuple[str, ...]


def constant(value: Any) -> Maker:
    if isinstance(value, dict | list):
        return lambda _rng: copy.deepcopy(value)
    return lambda _rng: value


class Generator:
    def __init__(self, resolver: Resolver, merger: Merger, checker: Checker,
                 mode: Mode = "response") -> None:
        self.resolver = resolver
        self.merger = merger
        self.checker = checker
        self.hidden = "writeOnly" if mode == "response" else "readOnly"
        self._plans: dict[tuple[int, str], tuple[Any, Maker]] = {}
        self._nodes = 0
        self.cyclic = cyclic(resolver)
        self._shared: dict[tuple[str, str, str, bool], Maker] = {}   # of acyclic $refs

    def value(self, schema: Any, rng: Random, name: str = "") -> Any:
        return self.plan(schema, name)(rng)

    def plan(self, schema: Any, name: str = "") -> Maker:
        """The maker of values for `schema` (compiled on first use)."""
        hit = self._plans.get((id(schema), name))
        if hit is None:
            self._nodes = 0
            try:
                maker = self._compile(schema, (), 0, name, "")
            except Recursion as exc:
                maker = _failing(f"{exc}, and no optional property or empty list stops it")
            except Unresolvable as exc:
                maker = _failing(str(exc))
            except Unsatisfiable as exc:
                maker = _failing(str(exc))
            hit = (schema, maker)
            self._plans[(id(schema), name)] = hit
        return hit[1]

    def _compile(self, schema: Any, stack: Stack, depth: int, name: str,
                 description: str, lean: bool = False) -> Maker:
        """The maker for `schema`; `lean` leaves the optional properties of the object it
        describes out (a oneOf branch with fewer properties matches fewer branches)."""
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise Unsatisfiable("the schema is too large for the mock to build")
        if depth > MAX_DEPTH:
            raise Recursion("the schema nests deeper than the mock follows")
        if schema is True or schema is None:
            return korean.words
        if not isinstance(schema, dict):
            raise Unsatisfiable("a schema admits no value (false)")
        ref = schema.get("$ref")
        if isinstance(ref, str):
            if stack.count(ref) >= SAME_REF:
                raise Recursion(f"the schema '{ref}' contains itself")
            description = description or schema.get("description", "")
            if ref in self.cyclic:
                return self._compile(self.resolver.get(ref), (*stack, ref), depth + 1, name,
                                     description, lean)
            key = (ref, name, description, lean)   # acyclic: the same whatever the path
            if key not in self._shared:
                self._shared[key] = self._compile(self.resolver.get(ref), (*stack, ref),
                                                  depth + 1, name, description, lean)
            return self._shared[key]
        schema = self.merger.flat(schema)
        description = description or schema.get("description", "")
        for key in ("oneOf", "anyOf"):
            if schema.get(key):
                return self._branches(schema, key, stack, depth, name, description)
        if "const" in schema:
            return constant(schema["const"])
        if "enum" in schema:
            options = [v for v in schema["enum"] if v is not None] or list(schema["enum"])
            if not options:
                raise Unsatisfiable("an enum lists no value")
            return lambda rng: copy.deepcopy(pick(rng, options))
        kind = type_of(schema)
        if kind == "object":
            return self._object(schema, stack, depth, name, lean)
        if kind == "array":
            return self._array(schema, stack, depth, name)
        if kind == "integer":
            return scalars.integer(schema)
        if kind == "number":
            return scalars.number(schema)
        if kind == "boolean":
            return lambda rng: rng.random() < 0.5
        if kind == "null":
            return constant(None)
        return _charged(self._string(schema, name, description))

    def _branches(self, schema: dict[str, Any], key: str, stack: Stack, depth: int,
                  name: str, description: str) -> Maker:
        branches = schema[key]
        options: list[tuple[Any, Maker, Maker]] = []     # (branch, full, lean)
        failure: Unsatisfiable = Unsatisfiable(f"no branch of a {key} admits a value")
        for index, branch in enumerate(branches):
            ref = branch.get("$ref") if isinstance(branch, dict) else None
            path = (*stack, ref) if isinstance(ref, str) else stack
            try:
                if isinstance(ref, str) and stack.count(ref) >= SAME_REF:
                    raise Recursion(f"the schema '{ref}' contains itself")
                merged = self.merger.with_branch(schema, key, index)
                full = self._compile(merged, path, depth + 1, name, description)
                lean = full if key == "anyOf" else \
                    self._compile(merged, path, depth + 1, name, description, lean=True)
                options.append((branch, full, lean))
            except Unsatisfiable as exc:
                failure = exc
        if not options:
            raise failure
        if key == "anyOf":
            return lambda rng: pick(rng, options)[1](rng)
        validators = [self.checker.of(b) for b in branches]
        discriminator = schema.get("discriminator")

        def one_of(rng: Random) -> Any:
            for _ in range(2 * len(options)):
                branch, full, lean = pick(rng, options)
                for make in (full, lean):
                    value = make(rng)
                    _discriminate(discriminator, branch, value)
                    if sum(v.is_valid(value) for v in validators) == 1:
                        return value
            raise Unsatisfiable("no value the mock built is valid against exactly one branch "
                                "of a oneOf (the branches overlap)")
        return one_of

    def _object(self, schema: dict[str, Any], stack: Stack, depth: int, name: str,
                lean: bool = False) -> Maker:
        properties = schema.get("properties") or {}
        required = [r for r in schema.get("required") or [] if isinstance(r, str)]
        extra = schema.get("additionalProperties")
        fields: list[tuple[str, Maker]] = []
        keys = required if lean else [*properties, *(r for r in required
                                                      if r not in properties)]
        for key in keys:
            sub = properties.get(key, extra if isinstance(extra, dict) else {"type": "string"})
            if self._flag(sub, self.hidden):
                continue
            try:
                fields.append((key, self._compile(sub, stack, depth + 1, key, "")))
            except Unsatisfiable as exc:
                if key not in required:
                    continue            # an optional property the mock cannot build: left out
                if not (isinstance(exc, Recursion) and self._flag(sub, "nullable")):
                    raise
                fields.append((key, constant(None)))
        most = schema.get("maxProperties")
        while most is not None and len(fields) > most:
            optional = [i for i, (k, _) in enumerate(fields) if k not in required]
            if not optional:
                raise Unsatisfiable(f"an object needs more properties than maxProperties "
                                    f"({most}) allows")
            del fields[optional[-1]]
        least = _at_most(schema, "minProperties", MAX_ITEMS)
        if not properties and isinstance(extra, dict) and not self._flag(extra, self.hidden):
            least = max(least, 1)
        extras: list[tuple[str, Maker]] = []
        if len(fields) < least:
            if extra is False:
                raise Unsatisfiable(f"an object needs minProperties ({least}) but allows no "
                                    "other property")
            make = self._compile(extra if isinstance(extra, dict) else {"type": "string"},
                                 stack, depth + 1, "", "")
            extras = [(f"{name or 'key'}{i + 1}", make) for i in range(least - len(fields))]
        every = fields + extras
        def members(rng: Random) -> dict[str, Any]:
            charge(rng, len(every))
            return {key: make(rng) for key, make in every}
        return members

    def _flag(self, schema: Any, flag: str) -> bool:
        if not isinstance(schema, dict):
            return False
        if schema.get(flag) is True:
            return True
        target = self.resolver.target(schema) if "$ref" in schema else schema
        return isinstance(target, dict) and target.get(flag) is True

    def _array(self, schema: dict[str, Any], stack: Stack, depth: int, name: str) -> Maker:
        least, most = _at_most(schema, "minItems", MAX_ITEMS), schema.get("maxItems")
        items = schema.get("items", {})
        prefix = schema.get("prefixItems") or (items if isinstance(items, list) else [])
        if prefix:
            return self._tuple(schema, prefix, stack, depth, name)
        try:
            item = self._compile(items, stack, depth + 1, name, "")
        except Unsatisfiable:
            if least > 0:
                raise
            return lambda _rng: []
        base = max(least, 1 if most is None or most >= 1 else 0)
        top = base + 2 if most is None else min(most, base + 2)
        if base > top:
            raise Unsatisfiable(f"minItems ({least}) is more than maxItems ({most})")
        if schema.get("uniqueItems") is not True:
            def many(rng: Random) -> list[Any]:
                count = charge(rng, between(rng, base, top))
                return [item(rng) for _ in range(count)]
            return many

        def unique(rng: Random) -> list[Any]:
            count, out, seen = charge(rng, between(rng, base, top)), [], set()
            for _ in range(count * 8):
                value = item(rng)
                key = repr(value)
                if key not in seen:
                    seen.add(key)
                    out.append(value)
                    if len(out) == count:
                        return out
            if len(out) < least:
                raise Unsatisfiable(f"the mock cannot build {least} distinct items "
                                    "(uniqueItems)")
            return out
        return unique

    def _tuple(self, schema: dict[str, Any], prefix: list[Any], stack: Stack, depth: int,
               name: str) -> Maker:
        """An array whose first items each have their own schema (prefixItems)."""
        least, most = _at_most(schema, "minItems", MAX_ITEMS), schema.get("maxItems")
        count = len(prefix) if most is None else min(most, len(prefix))
        makers = [self._compile(p, stack, depth + 1, name, "") for p in prefix[:count]]
        rest = schema.get("items")
        if count < least:
            if not isinstance(rest, dict):
                raise Unsatisfiable(f"minItems ({least}) asks for more items than "
                                    "prefixItems lists, and no others are allowed")
            makers += [self._compile(rest, stack, depth + 1, name, "")] * (least - count)
        def items(rng: Random) -> list[Any]:
            charge(rng, len(makers))
            return [make(rng) for make in makers]
        return items

    def _string(self, schema: dict[str, Any], name: str, description: str) -> Maker:
        low, high = _at_most(schema, "minLength", MAX_LENGTH), schema.get("maxLength")
        pattern, fmt = schema.get("pattern"), schema.get("format")
        example = self._example(schema)
        if isinstance(pattern, str):
            try:
                regex_gen.matching(pattern, Random(0), low, high)
            except Unsatisfiable:
                if example is None:
                    raise
                return constant(example)
            return lambda rng: regex_gen.matching(pattern, rng, low, high)
        if isinstance(fmt, str) and fmt in scalars.FORMATS:
            return self._fitted(scalars.FORMATS[fmt], low, high, example,
                                f"a '{fmt}' string cannot be {low} to {high} characters long")
        make = korean.hint(name, description)
        if make is not None and fits(make(Random(0)), low, high):
            return self._fitted(make, low, high, example, "")
        if example is not None:
            return constant(example)
        return lambda rng: scalars.fit_length(korean.words(rng), low, high, rng)

    @staticmethod
    def _fitted(make: Maker, low: int, high: int | None, example: Any, reason: str) -> Maker:
        """`make`, when what it makes fits the length bounds (else the example)."""
        if low == 0 and high is None:
            return make
        sample = make(Random(0))
        if not fits(sample, low, high):
            if example is None:
                raise Unsatisfiable(reason)
            return constant(example)
        fallback = example if example is not None else sample

        def fitted(rng: Random) -> str:
            text = make(rng)
            return text if fits(text, low, high) else fallback
        return fitted

    def _example(self, schema: dict[str, Any]) -> Any:
        """The schema's own example when it is valid and says something."""
        examples = schema.get("examples")
        example = schema.get("example", examples[0] if isinstance(examples, list) and
                             examples else None)
        if example in (None, "") or not self.checker.of(schema).is_valid(example):
            return None
        return example


def _at_most(schema: dict[str, Any], keyword: str, most: int) -> int:
    """The schema's lower bound `keyword`, when the mock can build that many."""
    least = schema.get(keyword, 0)
    if isinstance(least, int | float) and least > most:
        raise Unsatisfiable(f"{keyword} ({least}) asks for more than the mock builds "
                            f"({most:,})")
    return int(least) if isinstance(least, int | float) else 0


def charge(rng: Random, cost: int) -> int:
    """Counts `cost` against the answer's budget (kept on its Random, one per answer);
    returns it, or raises Unsatisfiable when the answer would cost more than BUDGET."""
    spent = getattr(rng, "mock_spent", 0) + cost
    if spent > BUDGET:
        raise Unsatisfiable(f"the answer would hold more than the mock builds ({BUDGET:,} "
                            "values)")
    rng.mock_spent = spent  # type: ignore[attr-defined]
    return cost


def _charged(make: Maker) -> Maker:
    def charged(rng: Random) -> Any:
        value = make(rng)
        charge(rng, 1 + len(value) // 64 if isinstance(value, str) else 1)
        return value
    return charged


def _failing(reason: str) -> Maker:
    def fail(_rng: Random) -> Any:
        raise Unsatisfiable(reason)
    return fail


def _discriminate(found: Any, branch: Any, value: Any) -> None:
    """Sets the discriminator property to the name of the branch the value was built from."""
    ref = branch.get("$ref") if isinstance(branch, dict) else None
    if not isinstance(found, dict) or not isinstance(value, dict) or not ref:
        return
    mapping = {target: label for label, target in (found.get("mapping") or {}).items()}
    value[found.get("propertyName", "type")] = mapping.get(ref, ref.rsplit("/", 1)[-1])


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

"""One operation compiled once: its parameters by location with one validator each, its
request body per media type, and its responses with their schemas, examples and headers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .checker import Checker, Validator
from .params import Param, is_credential, make_param, types_of
from .refs import Resolver, pointer

MISSING = object()
LOCATIONS = ("path", "query", "header", "cookie")


@dataclass
class Media:
    media_type: str
    schema: Any                      # the schema object of the document (None: any body)
    validator: Validator | None
    examples: dict[str, Any]         # named examples (their values)
    example: Any = MISSING           # the first example valid against the schema


@dataclass
class Header:
    name: str
    required: bool
    schema: Any
    validator: Validator | None


@dataclass
class Response:
    key: str                         # "200", "4XX" or "default"
    content: dict[str, Media]
    headers: list[Header]


@dataclass
class Body:
    required: bool
    content: dict[str, Media]
    form_types: dict[str, dict[str, tuple[frozenset[str], frozenset[str]]]]


@dataclass
class Operation:
    method: str
    template: str
    operation_id: str | None
    params: dict[str, list[Param]]                     # by location
    checks: dict[str, Validator]                       # by location
    body: Body | None
    responses: dict[str, Response]
    default_key: str
    unservable: dict[str, str] = field(default_factory=dict)   # response key → reason

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"

    def response_key(self, status: int) -> str | None:
        """The response that covers `status`: its own, its range (4XX), or default."""
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in self.responses:
                return key
        return None


def status_of(key: str) -> int:
    if key.isdigit():
        return int(key)
    return int(key[0]) * 100 if key[0] in "12345" else 200


def default_key(responses: dict[str, Any]) -> str:
    """The lowest 2xx response, else a 2XX range, else default, else the lowest declared."""
    explicit = sorted(k for k in responses if k.isdigit())
    success = [k for k in explicit if k.startswith("2")]
    if success:
        return success[0]
    if "2XX" in responses:
        return "2XX"
    if "default" in responses:
        return "default"
    return explicit[0] if explicit else next(iter(responses))


class Compiler:
    """Compiles the operations of one document (raises on what it cannot compile)."""

    def __init__(self, resolver: Resolver, request: Checker, response: Checker,
                 credentials: set[tuple[str, str]]) -> None:
        self.resolver = resolver
        self.request = request
        self.response = response
        self.credentials = credentials

    def operation(self, template: str, method: str, item: dict[str, Any]) -> Operation:
        where = pointer("paths", template, method.lower())
        node = item[method.lower()]
        located = self._params(template, item, node, where)
        checks = {loc: self._location_check(found) for loc, found in located.items() if found}
        params = {loc: [param for param, _ in found] for loc, found in located.items()}
        body = self._body(node.get("requestBody"), where + "/requestBody")
        responses: dict[str, Response] = {}
        for key, raw in (node.get("responses") or {}).items():
            responses[str(key)] = self._response(str(key), raw,
                                                 f"{where}/responses/{pointer(str(key))[2:]}")
        if not responses:
            responses["default"] = Response("default", {}, [])
        return Operation(method, template, node.get("operationId"), params, checks, body,
                         responses, default_key(responses))

    def _params(self, template: str, item: dict[str, Any], node: dict[str, Any],
                where: str) -> dict[str, list[tuple[Param, str]]]:
        """The operation's parameters by location, each with its pointer (the operation's own
        replace the path's of the same name and location)."""
        found: dict[tuple[str, str], tuple[Param, str]] = {}
        shared = pointer("paths", template, "parameters")
        for base, raws in ((shared, item.get("parameters") or []),
                           (where + "/parameters", node.get("parameters") or [])):
            for index, raw in enumerate(raws):
                param, at = self.resolver.deref(raw, f"{base}/{index}")
                if not isinstance(param, dict) or is_credential(param, self.credentials):
                    continue
                made = make_param(param, self.resolver)
                found[(made.where, made.name)] = (made, at)
        by_location: dict[str, list[tuple[Param, str]]] = {loc: [] for loc in LOCATIONS}
        for (loc, _name), (param, at) in found.items():
            if loc in by_location:
                by_location[loc].append((param, at))
        return by_location

    def _location_check(self, params: list[tuple[Param, str]]) -> Validator:
        """One validator for all parameters of a location, as one object."""
        properties: dict[str, Any] = {}
        for param, at in params:
            raw = self.resolver.get(at)
            if "object" in param.types:
                properties[param.name] = True
            elif "schema" in raw:
                properties[param.name] = {"$ref": self.request.uri + at + "/schema"}
            elif raw.get("content"):
                media = pointer(next(iter(raw["content"])))[2:]
                properties[param.name] = {"$ref": f"{self.request.uri}{at}/content/{media}"
                                                  "/schema"}
        return self.request.compile({"type": "object", "properties": properties,
                                     "required": [p.name for p, _ in params if p.required]})

    def _media(self, checker: Checker, content: dict[str, Any], at: str) -> dict[str, Media]:
        out: dict[str, Media] = {}
        for media_type, raw in (content or {}).items():
            raw = raw or {}
            place = f"{at}/content/{pointer(media_type)[2:]}"
            schema = raw.get("schema")
            validator = checker.at(place + "/schema") if schema is not None else None
            named = {}
            for name, example in (raw.get("examples") or {}).items():
                value = self.resolver.target(example)
                if isinstance(value, dict) and "value" in value:
                    named[name] = value["value"]
            media = Media(media_type.lower(), schema, validator, named)
            candidates = [raw["example"]] if "example" in raw else []
            candidates += list(named.values())
            target = self.resolver.target(schema) if schema is not None else None
            if isinstance(target, dict) and "example" in target:
                candidates.append(target["example"])
            media.example = next((c for c in candidates
                                  if validator is None or validator.is_valid(c)), MISSING)
            out[media_type.lower()] = media
        return out

    def _body(self, raw: Any, at: str) -> Body | None:
        if raw is None:
            return None
        body, at = self.resolver.deref(raw, at)
        content = self._media(self.request, body.get("content") or {}, at)
        forms = {}
        for media_type, media in content.items():
            if media_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                target = self.resolver.target(media.schema) if media.schema else {}
                props = (target or {}).get("properties") or {}
                forms[media_type] = {name: (types_of(s, self.resolver), self._items(s))
                                     for name, s in props.items()}
        return Body(bool(body.get("required")), content, forms)

    def _items(self, schema: Any) -> frozenset[str]:
        target = self.resolver.target(schema)
        return types_of(target.get("items", {}), self.resolver) if isinstance(target, dict) \
            else frozenset()

    def _response(self, key: str, raw: Any, at: str) -> Response:
        response, at = self.resolver.deref(raw or {}, at)
        headers = []
        for name, header in (response.get("headers") or {}).items():
            if name.lower() == "content-type":
                continue
            target, place = self.resolver.deref(header, f"{at}/headers/{pointer(name)[2:]}")
            schema = target.get("schema")
            validator = self.response.at(place + "/schema") if schema is not None else None
            headers.append(Header(name, bool(target.get("required")), schema, validator))
        return Response(key, self._media(self.response, response.get("content") or {}, at),
                        headers)

"""A mock of one OpenAPI document, compiled once and then asked per request: which operation
a request is for, what is wrong with it, and what to answer.

An operation the mock cannot serve (a $ref to nothing, a schema that requires itself, a
pattern it cannot generate) is recorded in `broken` with an English sentence saying why; the
other operations are served. `build` never raises for one operation.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import Sequence
from random import Random
from typing import Any
from urllib.parse import unquote

from ...catalog.openapi import METHODS
from . import faults, request, response
from .answer import Answerer, choose_media, is_xml
from .checker import Checker, registry_of
from .generate import Generator
from .merge import Merger
from .model import NO_PREFERENCE, Match, MockAnswer, Prefer, Unsatisfiable, Violation
from .operation import Compiler, Operation
from .refs import Resolver
from .router import Route, Router, base_paths, compile_template
from .xmlout import XmlWriter

CACHE_SIZE = 2048          # answers kept per spec: the same request (seed) is answered again
CACHE_BODY = 64 * 1024     # larger answers are built again rather than kept
PROBES = 3                 # seeds each declared answer is built with at compile time
UNKNOWN = Match("unknown")
MISSING_POINTER = re.compile(r"Pointer '([^']*)' does not exist")


class MockSpec:
    def __init__(self, router: Router, broken: dict[tuple[str, str], str],
                 answerer: Answerer, datagokr: bool, default_xml: bool) -> None:
        self.router = router
        self.broken = broken
        self.answerer = answerer
        self.datagokr = datagokr
        self.default_xml = default_xml
        self._answers: OrderedDict[tuple[Any, ...], MockAnswer] = OrderedDict()

    @classmethod
    def build(cls, document: dict[str, Any]) -> MockSpec:
        """Compiles a normalised OpenAPI 3.x document (see dpghub.catalog.openapi). The spec
        keeps its own copy, as JSON has it: a YAML date becomes its string, and the caller
        may change its document afterwards."""
        document = json.loads(json.dumps(document, default=str))
        resolver = Resolver(document)
        registry = registry_of(document, resolver)
        requests = Checker(document, resolver, "request", registry)
        answers = Checker(document, resolver, "response", registry)
        merger = Merger(resolver)
        answerer = Answerer(Generator(resolver, merger, answers), XmlWriter(resolver, merger))
        compiler = Compiler(resolver, requests, answers, _credentials(document))
        routes, broken, xml_only = [], {}, []
        for template, raw in (document.get("paths") or {}).items():
            methods: dict[str, Operation | str] = {}
            try:
                item = resolver.target(raw)
            except Exception as exc:  # noqa: BLE001 - one bad path never stops the others
                broken[("*", template)] = _sentence("*", template, exc)
                continue
            if not isinstance(item, dict):
                continue
            for method in METHODS:
                if not isinstance(item.get(method), dict):
                    continue
                name = method.upper()
                try:
                    op = compiler.operation(template, name, item)
                    _probe(answerer, op)
                    methods[name] = op
                    xml_only.append(_xml_only(op))
                except Exception as exc:  # noqa: BLE001 - recorded, never raised
                    methods[name] = broken[(name, template)] = _sentence(name, template, exc)
            pattern, names, problem = compile_template(template)
            if problem:
                methods = {name: _sentence(name, template, Unsatisfiable(problem))
                           for name in methods}
                broken.update({(name, template): reason for name, reason in methods.items()})
            routes.append(Route(template, pattern, names, methods))
        return cls(Router(routes, base_paths(document)), broken, answerer,
                   faults.is_datagokr(document), bool(xml_only) and all(xml_only))

    def match(self, method: str, path: str) -> Match:
        """What `method path` is (the path below the sandbox's service prefix; a server's
        base path in front of it is accepted too)."""
        name = method.upper()
        route, params, allowed = self.router.find(name, path)
        if route is None:
            return Match("not_allowed", allowed=allowed) if allowed else UNKNOWN
        op = route.methods.get(name) or route.methods.get("GET")
        if isinstance(op, str):
            return Match("broken", reason=op)
        return Match("found", op, params)

    def validate_request(self, match: Match, query: Sequence[tuple[str, str]],
                         headers: dict[str, str], body: bytes, content_type: str | None,
                         cookies: dict[str, str] | None = None) -> list[Violation]:
        """What is wrong with a request (headers with lower-case names); [] when it keeps the
        contract. The hub's credentials (serviceKey, X-API-Key, Authorization) are ignored."""
        if match.operation is None:
            return []
        return request.check(match.operation, match.params, list(query), headers, body,
                             content_type, cookies)

    def respond(self, match: Match, prefer: Prefer = NO_PREFERENCE, seed: bytes = b"", *,
                accept: str | None = None, style: str | None = None,
                lang: str = "en") -> MockAnswer:
        """The answer to a valid request: the same for the same seed unless Prefer asks for
        dynamic=true. An undeclared Prefer code or example is refused with a 400 naming what
        is declared; `style` (see fault_style) shapes such refusals."""
        style = style or self.fault_style(())
        if match.operation is None:
            status, media_type, body, headers = faults.render_match(match, style, lang)
            return MockAnswer(status, media_type, body, headers)
        if prefer.dynamic:
            return self.answerer.answer(match.operation, prefer, Random(), accept, style, lang)
        key = (id(match.operation), prefer, seed, accept, style, lang)
        hit = self._answers.get(key)
        if hit is None:
            rng = Random(int.from_bytes(seed, "big"))
            hit = self.answerer.answer(match.operation, prefer, rng, accept, style, lang)
            if len(hit.body) <= CACHE_BODY:
                if len(self._answers) >= CACHE_SIZE:
                    self._answers.popitem(last=False)
                self._answers[key] = hit
        return hit

    def validate_response(self, match: Match, status: int, headers: dict[str, str],
                          body: bytes) -> list[Violation]:
        """What is wrong with a real server's answer (headers with lower-case names)."""
        if match.operation is None:
            return []
        return response.check(match.operation, status, headers, body)

    def fault_style(self, query: Sequence[tuple[str, str]]) -> str:
        """"problem", "datagokr-json" or "datagokr-xml": how refusals are written."""
        return faults.fault_style(self.datagokr, query, self.default_xml)

    @property
    def operations(self) -> list[Operation]:
        return [op for route in [*self.router.fixed.values(), *self.router.templated]
                for op in route.methods.values() if isinstance(op, Operation)]


def _credentials(document: dict[str, Any]) -> set[tuple[str, str]]:
    """The apiKey parameters of the document's security schemes: the hub's to check."""
    schemes = (document.get("components") or {}).get("securitySchemes") or {}
    return {(str(s.get("in")), str(s.get("name", "")).lower()) for s in schemes.values()
            if isinstance(s, dict) and s.get("type") == "apiKey"}


def _probe(answerer: Answerer, op: Operation) -> None:
    """Builds each declared answer a few times: the first one the mock gives by default must
    be buildable (else the operation is broken); the others are noted when they are not."""
    for key, declared in op.responses.items():
        media = choose_media(declared.content, None)
        if media is None or media.schema is None:
            continue
        try:
            for seed in range(PROBES):
                answerer.build(op, key, media, Random(seed))
        except Unsatisfiable as exc:
            if key == op.default_key:
                raise Unsatisfiable(f"its answer {key} cannot be built: {exc}") from None
            op.unservable[key] = str(exc)


def _xml_only(op: Operation) -> bool:
    content = op.responses[op.default_key].content
    return bool(content) and all(is_xml(m) for m in content)


def _sentence(method: str, template: str, exc: Exception) -> str:
    text = (str(exc).strip().splitlines() or [""])[0].rstrip(".")
    missing = MISSING_POINTER.search(text)
    if missing:                                        # jsonschema-rs's words for a bad $ref
        text = f"the reference '#{unquote(missing.group(1))}' points to nothing in the document"
    elif type(exc).__name__ == "ValidationError":      # jsonschema-rs could not compile
        text = f"a schema cannot be compiled: {text}"
    what = "The path" if method == "*" else "The operation"
    return f"{what} {method} {template} cannot be mocked: {text or type(exc).__name__}."

"""The testbed's mock engine: an OpenAPI 3.x document served without a backend.

Compile once per service version, then per request::

    spec = MockSpec.build(document)                 # document from catalog.openapi.normalize
    match = spec.match("POST", "/status")           # found | unknown | not_allowed | broken
    problems = spec.validate_request(match, query, headers, body, content_type)
    answer = spec.respond(match, Prefer.parse(prefer_header), seed)

No database, no HTTP: the hub's sandbox route wires it.
"""

from .faults import fault_style, is_datagokr, render_match, render_violations
from .model import Match, MockAnswer, Prefer, Violation
from .spec import MockSpec

__all__ = ["Match", "MockAnswer", "MockSpec", "Prefer", "Violation", "fault_style",
           "is_datagokr", "render_match", "render_violations"]

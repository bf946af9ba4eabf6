"""A developer's service on loopback, 사업자 상태 조회 (business status, after the NTS API on
data.go.kr), with contract faults planted on purpose and switched off one by one — the
"validate, fix, validate again → passes" story the contract validation tests tell.

Faults (each the kind of slip a real service makes):
  server_error         GET /businesses/{b_no} crashes (500) on a number whose check digit is
                       wrong, instead of answering 404
  undocumented_status  POST /status answers 206 when some numbers are unknown (not in the contract)
  schema               GET /businesses/{b_no} sends b_stt_cd as a number and drops tax_type
  content_type         GET /businesses sends its JSON as text/html
  no_auth              every operation answers without an X-API-Key
  slow                 GET /businesses answers a deep page (page > 500) after `slow_s` seconds
  required_header      POST /status answers without its required X-Request-Id header
  response_header      GET /businesses leaves out its X-Total-Count header
and one more that is no contract slip but a broken answer, planted only on request:
  broken_json          GET /businesses/{b_no} sends a truncated JSON body as application/json
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from tests.support.loopback import read_body, serve_asgi

PLANTED = frozenset({"server_error", "undocumented_status", "schema", "content_type", "no_auth",
                     "slow", "required_header", "response_header"})
FAULTS = PLANTED | {"broken_json"}
KEY = "dev-sandbox-key-7f3a"       # what the developer's sandbox credential is
B_NO = re.compile(r"^[0-9]{10}$")
WEIGHTS = (1, 3, 7, 1, 3, 7, 1, 3, 5)


def check_digit(first_nine: str) -> str:
    """The NTS check digit of a business registration number (사업자등록번호)."""
    digits = [int(c) for c in first_nine]
    total = sum(d * w for d, w in zip(digits, WEIGHTS, strict=True)) + digits[8] * 5 // 10
    return str((10 - total % 10) % 10)


def valid_number(first_nine: str) -> str:
    return first_nine + check_digit(first_nine)


KNOWN = {valid_number("220812345"): ("01", "계속사업자", "부가가치세 일반과세자"),
         valid_number("105871234"): ("02", "휴업자", "부가가치세 간이과세자"),
         valid_number("314159265"): ("03", "폐업자", "부가가치세 면세사업자")}
EXAMPLE = next(iter(KNOWN))
UNREGISTERED = "국세청에 등록되지 않은 사업자등록번호입니다"


def _problem() -> dict[str, Any]:
    return {"description": "problem", "content": {"application/problem+json": {
        "schema": {"$ref": "#/components/schemas/Problem"}}}}


def _json(schema: dict[str, Any], description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "사업자 상태 조회 (개발)", "version": "1.0.0"},
    "security": [{"apiKey": []}],
    "paths": {
        "/businesses/{b_no}": {"get": {
            "operationId": "getBusiness",
            "parameters": [{"name": "b_no", "in": "path", "required": True, "example": EXAMPLE,
                            "schema": {"type": "string", "pattern": B_NO.pattern}}],
            "responses": {"200": _json({"$ref": "#/components/schemas/BusinessStatus"}),
                          "400": _problem(), "401": _problem(), "404": _problem()}}},
        "/businesses": {"get": {
            "operationId": "listBusinesses",
            "parameters": [
                {"name": "b_stt_cd", "in": "query", "schema": {"type": "string",
                                                                "enum": ["01", "02", "03"]}},
                {"name": "page", "in": "query", "example": 1,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
                {"name": "per_page", "in": "query", "example": 10,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100}}],
            "responses": {"200": _json({
                "type": "object", "required": ["page", "per_page", "total", "items"],
                "properties": {"page": {"type": "integer"}, "per_page": {"type": "integer"},
                               "total": {"type": "integer"},
                               "items": {"type": "array", "items": {
                                   "$ref": "#/components/schemas/BusinessStatus"}}}}) | {
                "headers": {"X-Total-Count": {"required": True,
                                              "schema": {"type": "integer", "minimum": 0}}}},
                "400": _problem(), "401": _problem()}}},
        "/status": {"post": {
            "operationId": "checkStatus",
            "parameters": [{"name": "X-Request-Id", "in": "header", "required": True,
                            "example": "req-0001",
                            "schema": {"type": "string", "pattern": "^[A-Za-z0-9-]{1,36}$"}}],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"type": "object", "required": ["b_no"],
                           "properties": {"b_no": {"type": "array", "minItems": 1,
                                                   "maxItems": 100, "items": {
                                                       "type": "string",
                                                       "pattern": B_NO.pattern}}}},
                "example": {"b_no": [EXAMPLE]}}}},
            "responses": {"200": _json({
                "type": "object", "required": ["request_cnt", "match_cnt", "data"],
                "properties": {"request_cnt": {"type": "integer"},
                               "match_cnt": {"type": "integer"},
                               "data": {"type": "array", "items": {
                                   "$ref": "#/components/schemas/StatusEntry"}}}}),
                "400": _problem(), "401": _problem()}}},
    },
    "components": {
        "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        "schemas": {
            "BusinessStatus": {"type": "object",
                               "required": ["b_no", "b_stt_cd", "b_stt", "tax_type"],
                               "properties": {"b_no": {"type": "string"},
                                              "b_stt_cd": {"type": "string",
                                                           "enum": ["01", "02", "03"]},
                                              "b_stt": {"type": "string"},
                                              "tax_type": {"type": "string"}}},
            "StatusEntry": {"type": "object", "required": ["b_no", "b_stt_cd", "tax_type"],
                            "properties": {"b_no": {"type": "string"},
                                           "b_stt_cd": {"type": "string",
                                                        "enum": ["", "01", "02", "03"]},
                                           "tax_type": {"type": "string"}}},
            "Problem": {"type": "object", "required": ["title", "status"],
                        "properties": {"title": {"type": "string"},
                                       "status": {"type": "integer"}}},
        },
    },
}

Answer = tuple[int, str, bytes, dict[str, str]]    # status, media type, body, more headers


def _answer(status: int, body: Any, media: str = "application/json",
            headers: dict[str, str] | None = None) -> Answer:
    return status, media, json.dumps(body, ensure_ascii=False).encode(), headers or {}


def _problem_answer(status: int, title: str) -> Answer:
    return _answer(status, {"title": title, "status": status}, "application/problem+json")


def _entry(b_no: str) -> dict[str, Any]:
    code, state, tax = KNOWN[b_no]
    return {"b_no": b_no, "b_stt_cd": code, "b_stt": state, "tax_type": tax}


@dataclass
class DevService:
    """The running service: where it answers, its contract, and the faults still in it."""

    base_url: str = ""
    faults: set[str] = field(default_factory=lambda: set(PLANTED))
    slow_s: float = 0.3
    spec: dict[str, Any] = field(default_factory=lambda: copy.deepcopy(SPEC))
    seen: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # requests

    def requests_per_operation(self) -> Counter[str]:
        """Requests received per operation label, Schemathesis' capability probes left out."""
        def label(method: str, path: str) -> str:
            template = "/businesses/{b_no}" if path.startswith("/businesses/") else path
            return f"{method} {template}"

        return Counter(label(m, p) for m, p, h in self.seen if "x-schemathesis-probe" not in h)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = parse_qs(scope["query_string"].decode("latin-1"), keep_blank_values=True)
        self.seen.append((scope["method"], scope["path"], headers))
        status, media, payload, more = await self.answer(scope["method"], scope["path"], query,
                                                         headers, body)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", media.encode()),
                                (b"content-length", str(len(payload)).encode()),
                                *((k.encode(), v.encode()) for k, v in more.items())]})
        await send({"type": "http.response.body", "body": payload})

    async def answer(self, method: str, path: str, query: dict[str, list[str]],
                     headers: dict[str, str], body: bytes) -> Answer:
        route = None
        if path == "/businesses":
            route = "list"
        elif path == "/status":
            route = "status"
        elif path.startswith("/businesses/") and path.count("/") == 2:
            route = "one"
        if route is None:
            return _problem_answer(404, "Not found")
        if (method, route) not in {("GET", "list"), ("GET", "one"), ("POST", "status")}:
            return _problem_answer(405, "Method not allowed")
        key = headers.get("x-api-key")
        if key != KEY and not (key is None and "no_auth" in self.faults):
            return _problem_answer(401, "A valid X-API-Key is required")
        if route == "one":
            return self.one(path.rsplit("/", 1)[1])
        if route == "list":
            return await self.list(query)
        return self.status(headers, body)

    def one(self, b_no: str) -> Answer:
        if not B_NO.match(b_no):
            return _problem_answer(400, "b_no must be 10 digits")
        if b_no[9] != check_digit(b_no[:9]) and "server_error" in self.faults:
            return 500, "text/plain", b"Internal Server Error", {}
        if b_no not in KNOWN:
            return _problem_answer(404, "No such business")
        entry = _entry(b_no)
        if "broken_json" in self.faults:
            return 200, "application/json", json.dumps(entry).encode()[:-7], {}
        if "schema" in self.faults:
            entry["b_stt_cd"] = int(entry["b_stt_cd"])
            del entry["tax_type"]
        return _answer(200, entry)

    async def list(self, query: dict[str, list[str]]) -> Answer:
        if set(query) - {"b_stt_cd", "page", "per_page"} or any(len(v) > 1 for v in
                                                                query.values()):
            return _problem_answer(400, "Unknown or repeated query parameter")
        try:
            page = int(query.get("page", ["1"])[0])
            per_page = int(query.get("per_page", ["10"])[0])
        except ValueError:
            return _problem_answer(400, "page and per_page must be integers")
        state = query.get("b_stt_cd", [None])[0]
        if not (1 <= page <= 1000 and 1 <= per_page <= 100) or state not in (None, "01", "02",
                                                                           "03"):
            return _problem_answer(400, "A query parameter is out of range")
        if page > 500 and "slow" in self.faults:
            await asyncio.sleep(self.slow_s)
        items = [_entry(b) for b in KNOWN if state in (None, KNOWN[b][0])]
        media = "text/html; charset=utf-8" if "content_type" in self.faults else \
            "application/json"
        start = (page - 1) * per_page
        count = {} if "response_header" in self.faults else {"X-Total-Count": str(len(items))}
        return _answer(200, {"page": page, "per_page": per_page, "total": len(items),
                             "items": items[start:start + per_page]}, media, count)

    def status(self, headers: dict[str, str], body: bytes) -> Answer:
        request_id = headers.get("x-request-id")
        if (request_id is None and "required_header" not in self.faults) or \
                (request_id is not None and not re.match(r"^[A-Za-z0-9-]{1,36}$", request_id)):
            return _problem_answer(400, "X-Request-Id is required")
        try:
            numbers = json.loads(body)["b_no"]
        except (ValueError, KeyError, TypeError):
            return _problem_answer(400, "The body must be a JSON object with b_no")
        if not isinstance(numbers, list) or not 1 <= len(numbers) <= 100 or \
                not all(isinstance(n, str) and B_NO.match(n) for n in numbers):
            return _problem_answer(400, "b_no must be 1 to 100 numbers of 10 digits")
        data = [_entry(n) if n in KNOWN else {"b_no": n, "b_stt_cd": "", "tax_type": UNREGISTERED}
                for n in numbers]
        matched = sum(1 for n in numbers if n in KNOWN)
        status = 206 if matched < len(numbers) and "undocumented_status" in self.faults else 200
        return _answer(status, {"request_cnt": len(numbers), "match_cnt": matched, "data": data})


@contextmanager
def devserver(faults: set[str] | frozenset[str] = PLANTED, slow_s: float = 0.3
              ) -> Iterator[DevService]:
    """The developer's service on loopback with `faults` planted; assign `.faults` to fix some."""
    unknown = set(faults) - FAULTS
    if unknown:
        raise ValueError(f"unknown faults: {sorted(unknown)}")
    service = DevService(faults=set(faults), slow_s=slow_s)
    with serve_asgi(service) as base:
        service.base_url = base
        yield service


@contextmanager
def garbage_server() -> Iterator[str]:
    """A TCP server on loopback that answers every connection with bytes that are not HTTP."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1)
                try:
                    conn.recv(65536)
                    conn.sendall(b"\x00\x01garbage, not HTTP\r\n\r\n")
                except OSError:
                    pass

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        thread.join(timeout=5)
        listener.close()

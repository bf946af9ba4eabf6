"""A real upstream on loopback for gateway tests: serves the recorded KASI (한국천문연구원)
data.go.kr responses, echoes what it received, answers slowly or fails on request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs

from tests.conftest import SHARED_DATA
from tests.support.loopback import read_body, serve_asgi

KASI = SHARED_DATA / "kr" / "api_responses_kasi"

Scripted = tuple[int, list[tuple[bytes, bytes]], bytes]


class Upstream:
    def __init__(self) -> None:
        self.seen: list[dict] = []
        self.failing = False
        # path's last segment → (status, headers exactly as sent, body): what a test scripts
        self.scripted: dict[str, Scripted] = {}

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        path = scope["path"]
        query = parse_qs(scope["query_string"].decode())
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        raw_path = scope.get("raw_path", b"").decode("latin-1")
        self.seen.append({"path": path, "raw_path": raw_path, "query": query,
                          "query_string": scope["query_string"].decode("latin-1"),
                          "headers": headers, "body": body})
        status, media, payload = 200, "application/json", b""
        scripted = self.scripted.get(path.rsplit("/", 1)[-1])
        if scripted is not None:
            status, fields, payload = scripted
            await send({"type": "http.response.start", "status": status, "headers": fields})
            await send({"type": "http.response.body", "body": payload})
            return
        if self.failing or path.endswith("/fail"):
            status, payload = 500, b'{"error": "down"}'
        elif path.endswith("/getRestDeInfo"):
            media, payload = "application/xml", (KASI / "getRestDeInfo_2021.xml").read_bytes()
        elif path.endswith("/drip"):          # a long answer in pieces, 10 ms apart
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/octet-stream")]})
            for _ in range(int(query.get("pieces", ["100"])[0])):
                await send({"type": "http.response.body", "body": b"x" * 1000,
                            "more_body": True})
                await asyncio.sleep(0.01)
            await send({"type": "http.response.body", "body": b""})
            return
        elif path.endswith("/slow"):
            await asyncio.sleep(float(query.get("seconds", ["3"])[0]))
            payload = b'{"slow": true}'
        else:
            payload = json.dumps({"path": path, "raw_path": raw_path, "query": query,
                                  "body": body.decode("utf-8", "replace"),
                                  "headers": headers}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", media.encode()),
                                (b"content-length", str(len(payload)).encode())]})
        await send({"type": "http.response.body", "body": payload})


@contextmanager
def serve(host: str = "127.0.0.1", port: int | None = None) -> Iterator[tuple[str, Upstream]]:
    app = Upstream()
    with serve_asgi(app, host, port) as base:
        yield f"{base}/B090041/openapi/service/SpcdeInfoService", app


def kasi_file() -> Path:
    return KASI / "getRestDeInfo_2021.xml"

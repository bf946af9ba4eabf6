"""Servers the security probes point the hub at: one that records what reaches it (a target
behind the operator's allowed networks, or a developer's server whose requests are
inspected), and one that answers as a hostile developer would (cookies, script, redirects,
endless or stalled bodies)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Recorder:
    """Answers every request with `{"ok": true}` and keeps (method, path, query, headers)."""

    seen: list[tuple[str, str, str, dict[str, str]]] = field(default_factory=list)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1")
                   for k, v in scope["headers"]}
        self.seen.append((scope["method"], scope["path"],
                          scope["query_string"].decode("latin-1"), headers))
        body = json.dumps({"ok": True}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


@dataclass
class Hostile:
    """A developer's server that answers with `mode`: "cookies" (Set-Cookie, script, fields
    that act on an origin), "redirect" (302 to `location`), "huge" (`size` bytes, chunked),
    "stall" (a head, then nothing until `release` is set)."""

    mode: str = "cookies"
    location: str = ""
    size: int = 6 << 20
    release: asyncio.Event | None = None
    loop: Any = None

    def let_go(self) -> None:
        """End a stalled answer (from the test's thread)."""
        if self.loop is not None and self.release is not None:
            self.loop.call_soon_threadsafe(self.release.set)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        if self.mode == "redirect":
            await send({"type": "http.response.start", "status": 302, "headers": [
                (b"location", self.location.encode()), (b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
        elif self.mode == "huge":
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"application/json")]})
            piece = b" " * (256 << 10)
            for _ in range(self.size // len(piece)):
                await send({"type": "http.response.body", "body": piece, "more_body": True})
            await send({"type": "http.response.body", "body": b"{}"})
        elif self.mode == "stall":
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"application/json"), (b"content-length", b"100")]})
            await send({"type": "http.response.body", "body": b"{", "more_body": True})
            self.loop = asyncio.get_running_loop()
            self.release = self.release or asyncio.Event()
            await self.release.wait()
        else:
            body = b"<html><script>fetch('/api/v1/testbed/projects')</script></html>"
            await send({"type": "http.response.start", "status": 200, "headers": [
                (b"content-type", b"text/html"),
                (b"set-cookie", b"dpghub_session=stolen; Path=/"),
                (b"clear-site-data", b'"*"'),
                (b"content-security-policy", b"script-src *"),
                (b"www-authenticate", b'Basic realm="DPG Hub"'),
                (b"refresh", b"0; url=https://evil.example/"),
                (b"access-control-allow-credentials", b"true"),
                (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})

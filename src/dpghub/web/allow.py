"""`Allow` that tells every method a path answers, `OPTIONS` for every route, and `HEAD`
wherever `GET` is answered.

Starlette's 405 lists only the methods of the first route whose path matched, so a path
served by two routes (GET and POST `/api/v1/orgs`) was answered `Allow: GET`; and `OPTIONS`
was a 405 everywhere. Here the methods come from every route that matches the path.
"""

from __future__ import annotations

from starlette.routing import Match, Mount
from starlette.types import ASGIApp, Message, Receive, Scope, Send

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(app: ASGIApp, path: str) -> list[str]:
    """Methods the app answers at `path` (sorted; OPTIONS included when any is), found by
    asking each route whether it fully matches the path with that method."""
    methods: set[str] = set()
    for method in METHODS:
        scope = {"type": "http", "path": path, "root_path": "", "method": method,
                 "headers": [], "query_string": b""}
        for route in getattr(app, "routes", ()):
            match, _ = route.matches({**scope, "method": "GET" if method == "HEAD" else method})
            if match is Match.FULL:
                if isinstance(route, Mount):      # static files answer reads only
                    methods |= {"GET", "HEAD"}
                else:
                    methods.add(method)
                break
    if methods:
        methods.add("OPTIONS")
    return sorted(methods)


class Methods:
    """Answers `OPTIONS` (not CORS preflights, which carry Access-Control-Request-Method) with
    204 and `Allow`, or 404 when no route has the path; and answers `HEAD` wherever `GET` is
    answered (the GET's status and headers, no body), as HTTP asks of servers."""

    def __init__(self, app: ASGIApp, routed: ASGIApp) -> None:
        self.app = app
        self.routed = routed        # the application whose routes count

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("OPTIONS", "HEAD"):
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            await self.app({**scope, "method": "GET"}, receive, _headless(send))
            return
        if any(name == b"access-control-request-method" for name, _ in scope["headers"]):
            await self.app(scope, receive, send)
            return
        methods = allowed_methods(self.routed, scope["path"])
        if not methods:
            await self.app(scope, receive, send)      # the usual 404
            return
        await send({"type": "http.response.start", "status": 204,
                    "headers": [(b"allow", ", ".join(methods).encode())]})
        await send({"type": "http.response.body", "body": b""})


def _headless(send: Send) -> Send:
    async def without_body(message: Message) -> None:
        if message["type"] == "http.response.body":
            if message.get("more_body", False):
                return                                 # the last piece ends the answer
            message = {"type": "http.response.body", "body": b""}
        await send(message)
    return without_body

"""Security headers on every answer of the portal and the API (the gateway's /gw/… answers
carry their own, stricter set).

The portal is plain server-rendered HTML with no inline script or style, so its policy can
allow only the hub's own files; nothing may frame it (clickjacking), and no answer may be
sniffed into another type. A route that needs more (the Swagger UI page) sets its own
Content-Security-Policy, which is then kept.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

PORTAL_POLICY = ("default-src 'self'; img-src 'self' data:; object-src 'none'; "
                 "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, policy: str = PORTAL_POLICY) -> None:
        self.app = app
        self.policy = policy.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [h for h in HEADERS if h[0] not in present]
                if b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", self.policy))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)

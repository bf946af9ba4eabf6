"""What the gateway sends back: the upstream's answer fields, filtered so nothing in them
acts on the origin the answer is served from, the guard fields on every answer, the hub's
own fields (request id, latency, rate limits), and a whole answer written at once.
"""

from __future__ import annotations

import functools
import re

from starlette.types import Send

from .limits import Verdict

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailer", "transfer-encoding", "upgrade", "host", "content-length", "expect"}
# as nginx does by default: the hub's server writes its own Date (one Date field only), and
# the provider's Server field (its software and version) stays behind the gateway
DROPPED_FROM_ANSWERS = {name.encode() for name in HOP_BY_HOP - {"content-length", "expect"}
                        } | {b"date", b"server"}
# Fields by which an upstream could act on the origin its answer is served from — the
# portal's, unless DPGHUB_GATEWAY_ORIGIN gives the gateway its own: cookies and site data,
# service-worker scope, HSTS and key pins, alternative services (where the browser sends the
# origin's next requests), reporting endpoints (which would receive the page's URL, key and
# all), client hints, sign-in state (FedCM), Flash/PDF cross-domain policy, an auth prompt (a
# password dialog in the hub's name; upstream credentials cannot pass the gateway anyway), a
# Refresh redirect, and CORS with credentials (the gateway never uses the caller's cookies).
# And the fields the gateway sets itself, so an upstream cannot loosen or report on them.
# Kept: CORS without credentials (browser apps call data.go.kr-style APIs with serviceKey),
# Link (pagination; what it could preload, the CSP below blocks), Location, caching fields.
# Fields starting `sec-` are the browsers' reserved names and go as well.
ORIGIN_ACTING = {
    b"set-cookie", b"set-cookie2", b"clear-site-data", b"service-worker-allowed",
    b"strict-transport-security", b"public-key-pins", b"public-key-pins-report-only",
    b"expect-ct", b"alt-svc", b"nel", b"report-to", b"reporting-endpoints", b"accept-ch",
    b"critical-ch", b"origin-agent-cluster", b"set-login", b"observe-browsing-topics",
    b"activate-storage-access", b"x-permitted-cross-domain-policies", b"www-authenticate",
    b"refresh", b"access-control-allow-credentials", b"speculation-rules",
    b"content-security-policy", b"content-security-policy-report-only",
    b"x-content-type-options", b"referrer-policy"}
# what the gateway does with an answer's field: 0 drop, 1 Content-Type, 2 Content-Disposition
_ANSWER_FIELDS = dict.fromkeys(DROPPED_FROM_ANSWERS | ORIGIN_ACTING, 0) | {
    b"content-type": 1, b"content-disposition": 2}
# On every answer of the gateway, the upstream's and its own: nothing in it runs as the origin
# it is served from (a sandbox: no script, no forms, an opaque origin; nothing loads), it
# cannot be framed, it is not sniffed into another type, and following a link from it sends
# no Referer (the URL may hold a serviceKey)
GUARD = "sandbox; default-src 'none'; frame-ancestors 'none'"
GUARD_HEADERS = [(b"content-security-policy", GUARD.encode()),
                 (b"x-content-type-options", b"nosniff"),
                 (b"referrer-policy", b"no-referrer")]
UNSNIFFABLE = b"application/octet-stream"     # for an answer without a (valid) type
ATTACHMENT = b"attachment"
# Types browsers render as active documents: on the portal's origin they are downloaded, not
# shown (the sandbox would keep them inert anyway). XML stays inline: developers open
# data.go.kr answers in the browser, which shows them as a tree
DOCUMENT_TYPES = {b"text/html", b"application/xhtml+xml", b"application/vnd.wap.xhtml+xml",
                  b"image/svg+xml", b"application/mathml+xml", b"multipart/x-mixed-replace"}
# Types a page loads as script or style. On the portal's origin they are sent as text/plain:
# the portal's own policy allows script and style from 'self', which /gw/… is part of, so an
# upstream's script would otherwise be a ready gadget for any markup injected into a portal
# page (nosniff makes browsers refuse text/plain as script or style). With its own origin the
# gateway sends them as they are (JSONP callers need that)
ACTIVE_TYPES = {b"application/javascript", b"application/ecmascript", b"application/x-javascript",
                b"application/x-ecmascript", b"text/javascript", b"text/ecmascript",
                b"text/x-javascript", b"text/x-ecmascript", b"text/jscript", b"text/livescript",
                b"text/javascript1.0", b"text/javascript1.1", b"text/javascript1.2",
                b"text/javascript1.3", b"text/javascript1.4", b"text/javascript1.5",
                b"text/css"}
_MEDIA_TYPE = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+/[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def answer_headers(status: int, received: list[tuple[bytes, bytes]],
                    attach_documents: bool) -> list[tuple[bytes, bytes]]:
    """The upstream's fields as the caller gets them: hop-by-hop and origin-acting fields
    dropped, one Content-Type that cannot be sniffed into script, the guard fields added."""
    kept: list[tuple[bytes, bytes]] = []
    media: bytes | None = None
    types = 0
    disposition: bytes | None = None
    for name, value in received:
        name = name.lower()
        action = _ANSWER_FIELDS.get(name)
        if action is None:
            if not name.startswith(b"sec-"):
                kept.append((name, value))
        elif action == 1:
            media = value
            types += 1
        elif action == 2:
            disposition = value
    if types > 1:                  # browsers would join them and pick one their own way
        media = UNSNIFFABLE
    if media is not None or status not in (204, 304):   # a 304 must not restate the type
        media, attach = media_type(media, attach_documents)
        kept.append((b"content-type", media))
        if attach and not (disposition or b"").lower().startswith(ATTACHMENT):
            disposition = ATTACHMENT
    if disposition is not None:
        kept.append((b"content-disposition", disposition))
    kept += GUARD_HEADERS
    return kept


@functools.lru_cache(maxsize=512)
def media_type(value: bytes | None, attach_documents: bool) -> tuple[bytes, bool]:
    """(the Content-Type to send, whether to send it as a download). No type, or one a
    browser would not parse as one type (so would sniff), becomes application/octet-stream;
    on the portal's origin, script and style become text/plain."""
    if value is None or b"," in value:
        return UNSNIFFABLE, False
    essence, semicolon, parameters = value.partition(b";")
    essence = essence.strip()
    if not _MEDIA_TYPE.fullmatch(essence):
        return UNSNIFFABLE, False
    if not attach_documents:        # the gateway's own origin: as the upstream said
        return value, False
    essence = essence.lower()
    if essence in ACTIVE_TYPES:
        return b"text/plain" + semicolon + parameters, False
    return value, essence in DOCUMENT_TYPES


def hub_headers(request_id: str, hub_ms: float) -> list[tuple[bytes, bytes]]:
    return [(b"x-hub-request-id", request_id.encode()),
            (b"x-request-id", request_id.encode()),
            (b"x-hub-latency", f"{hub_ms:.2f}".encode())]


def limit_headers(verdict: Verdict) -> list[tuple[bytes, bytes]]:
    return [(b"ratelimit-limit", str(verdict.limit).encode()),
            (b"ratelimit-remaining", str(verdict.remaining).encode()),
            (b"ratelimit-reset", str(verdict.reset).encode())]


async def send_whole(send: Send, status: int, media: str, body: bytes, request_id: str,
                    hub_ms: float, extra: list[tuple[bytes, bytes]]) -> None:
    headers = [(b"content-type", media.encode()), (b"content-length", str(len(body)).encode()),
               *hub_headers(request_id, hub_ms), *extra, *GUARD_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

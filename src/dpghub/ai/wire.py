"""OpenAI's wire format where the AI gateway speaks it itself: its error shape (so the
`openai` SDK raises the right exception), and reading server-sent events as they pass."""

from __future__ import annotations

import json
from typing import Any

# the error `type` OpenAI gives each status (the SDK picks its exception by the status)
TYPES = {400: "invalid_request_error", 401: "invalid_request_error", 403: "permission_error",
         404: "invalid_request_error", 413: "invalid_request_error",
         429: "insufficient_quota", 500: "server_error", 502: "server_error",
         503: "server_error", 504: "timeout"}


class Refusal(Exception):
    """A call the AI gateway refuses or cannot complete, with OpenAI's status and `code`
    (raised by `AiGateway`; the hub's own AI features catch it through this module, which
    their services may import)."""

    def __init__(self, status: int, message: str, code: str, param: str | None = None,
                 type_: str | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param, self.type_ = (
            status, message, code, param, type_)
        self.retry_after = retry_after


def error_body(status: int, message: str, code: str, param: str | None = None,
               type_: str | None = None) -> bytes:
    return json.dumps({"error": {"message": message,
                                 "type": type_ or TYPES.get(status, "api_error"),
                                 "param": param, "code": code}},
                      ensure_ascii=False).encode()


class Events:
    """Splits a stream of server-sent events into whole `data:` payloads, however the bytes
    arrive, without copying what passes through."""

    def __init__(self) -> None:
        self._rest = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        data = self._rest + chunk
        *whole, self._rest = data.split(b"\n\n")
        payloads = []
        for event in whole:
            for line in event.split(b"\n"):
                if line.startswith(b"data:"):
                    payloads.append(line[5:].strip())
        return payloads


def usage_of(payload: bytes) -> dict[str, Any] | None:
    """The `usage` of one event's JSON, when it carries one (cheap test first)."""
    if b'"usage"' not in payload or payload == b"[DONE]":
        return None
    if b'"usage":null' in payload or b'"usage": null' in payload:
        return None        # OpenAI's chunks before the last say so: no need to parse them
    try:
        found = json.loads(payload).get("usage")
    except (ValueError, AttributeError):
        return None
    return found if isinstance(found, dict) else None


def has_text(payload: bytes) -> bool:
    """Whether a chunk carries some of the answer (not the role chunk, not the last, empty
    delta): what counts as a token when a stream ends without its usage."""
    return b'"content":' in payload and b'"content":""' not in payload and \
        b'"content": ""' not in payload


def is_usage_only(payload: bytes) -> bool:
    """The final chunk `stream_options.include_usage` adds: no choices, just usage."""
    try:
        parsed = json.loads(payload)
    except ValueError:
        return False
    return isinstance(parsed, dict) and parsed.get("choices") == [] and bool(parsed.get("usage"))


def estimate_tokens(body: dict[str, Any]) -> int:
    """A cautious count of a request's prompt tokens before the provider counts them: about
    one token per 4 bytes of English and per Korean syllable alike (UTF-8 Hangul is 3 bytes,
    so bytes ÷ 3), plus a few per message."""
    text = 0
    messages = body.get("messages")
    if isinstance(messages, list):
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                text += len(content.encode())
            elif isinstance(content, list):
                for part in content:
                    if isinstance(part, dict) and isinstance(part.get("text"), str):
                        text += len(part["text"].encode())
        return text // 3 + 4 * len(messages)
    given = body.get("input")
    if isinstance(given, list) and given and all(isinstance(i, int) for i in given):
        return len(given)                     # one input as token ids: one token each
    items = given if isinstance(given, list) else [given]
    return sum(len(i.encode()) // 3 + 1 if isinstance(i, str) else
               len(i) if isinstance(i, list) else 0 for i in items) or 1

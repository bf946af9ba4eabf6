"""A scripted OpenAI-compatible model provider: a real server process on loopback, the upstream
the AI gateway's tests forward to. It is not the hub's code; the `openai` SDK talks to it.

Served under `/v1` (what `ScriptedModel.base_url` gives), with `Authorization: Bearer <key>`
(anything else is a 401 `invalid_api_key` in OpenAI's error shape
`{"error": {"message", "type", "param", "code"}}`):

- `GET /v1/models`: `{"object": "list", "data": [{"id", "object": "model", "created",
  "owned_by"}]}` for the served models (`MODELS` unless `ScriptedModel.serve_models` says).
- `POST /v1/chat/completions`: a `chat.completion` with `usage`; with `stream: true`,
  `chat.completion.chunk` server-sent events — a role chunk (`delta: {"role": "assistant",
  "content": ""}`), one chunk per token, a chunk with an empty delta and the `finish_reason`,
  with `stream_options: {"include_usage": true}` a last chunk with `choices: []` and the usage
  (every earlier chunk then has `"usage": null`), and `data: [DONE]`.
- `POST /v1/embeddings`: `embedding(text, dimensions)` for each input, as floats or, with
  `encoding_format: "base64"` (the SDK's default), as little-endian float32 bytes.
A model not served is a 404 `model_not_found`; a body that is not JSON, or lacks `model`,
`messages` or `input`, a 400 `invalid_request_error`.

Counting, exact so that tests can compute the expected usage (`words` is the number of
whitespace-separated words, `len(text.split())`):
- a token is a word with the whitespace before it (`tokens(text)`; the answer's trailing
  whitespace rides on its last token), so the streamed chunks concatenate to the answer;
- prompt tokens = Σ over the messages of (3 + words of its content; a list of parts counts
  its text parts; no content counts 0)      — `prompt_tokens(messages)`;
- completion tokens = words of the answer, after `max_completion_tokens`/`max_tokens` cut it
  to its first N tokens (then `finish_reason` is "length", else "stop");
- embeddings: prompt tokens = Σ words of each input string (a token-id list counts its ids);
- `usage(messages, answer, max_tokens=None)` gives the whole `usage` object.
The answer to a chat request is, in this order: the next script step's `answer`; the `answer`
of the first `when` rule whose substring is in the last user message; `answer_to(messages)`,
"echo: " + the last user message (its text parts joined by a space).

Scripting (`ScriptedModel`, or the control endpoints outside `/v1`, which need no key):
- `POST /_script` `{"steps": [...]}`: steps, consumed in order; each applies to one later
  authorised `/v1` request, the first step whose optional `"path"` (e.g.
  "/v1/chat/completions") matches it. A step combines any of:
  `status` (≥ 400: an OpenAI error body of that status; `error` {message, type, code}
  overrides its fields; `headers` {name: value} are added, e.g. retry-after), `delay_ms`
  before answering, `token_delay_ms` between streamed chunks, `answer`, `non_json` (an HTML
  body, of `status` or 200), `broken_stream_after` K (the connection is closed after K
  chunk events — the role chunk counts — without [DONE]; for an answer not streamed, after
  the first K bytes of its body), `hang` (never answers, until the client goes or `/_reset`).
- `POST /_when` `{"when": substring, "answer": text}`: a rule, kept until `/_reset`.
- `POST /_models` `{"models": [...]}`: the served model ids (until `/_reset`).
- `POST /_reset`: no steps, rules or calls; `MODELS`; hanging requests answered 500.
- `GET /_calls`: what reached `/v1`, in order: `{"method", "path", "query", "headers"
  (lower-case names; no `authorization`), "authorized", "body" (parsed JSON, else the text),
  "status", "stream", "chunks" (events sent), "completed" (the whole answer went out),
  "disconnected" (the client went before that)}`, and "error" (a traceback) should the
  scripted model itself fail.

`serve_scripted_model()` runs the process; the fixtures: `scripted_model_server` (one process
a session) and `scripted_model` (that one, reset for each test). Register them in a conftest
with `from tests.support.scripted_model import scripted_model, scripted_model_server`.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import logging
import os
import re
import secrets
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.support.loopback import free_port, read_body

MODELS = ("scripted-chat", "scripted-embed")
DIMENSIONS = 8                 # an embedding's length unless the request asks `dimensions`
CREATED = 1_700_000_000        # the models' `created`
STEP_KEYS = {"path", "status", "error", "headers", "delay_ms", "token_delay_ms", "answer",
             "non_json", "broken_stream_after", "hang"}
ROOT = Path(__file__).resolve().parents[2]
_CUT = "ASGI callable returned without completing response."   # uvicorn's words for a cut


# --- the counting rules, shared by the server and the tests -------------------------------


def words(text: str) -> int:
    return len(text.split())


def tokens(text: str) -> list[str]:
    """`text` in tokens: each word with the whitespace before it; they concatenate to it."""
    pieces = re.findall(r"\s*\S+", text)
    if pieces:
        pieces[-1] += text[len("".join(pieces)):]
    return pieces


def content_text(content: Any) -> str:
    """A message's content as text: a string, or the text parts of a list joined by spaces."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content
                        if isinstance(part, dict) and part.get("type") == "text")
    return ""


def prompt_tokens(messages: list[dict[str, Any]]) -> int:
    return sum(3 + words(content_text(m.get("content"))) for m in messages)


def last_user_text(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def answer_to(messages: list[dict[str, Any]]) -> str:
    """The default answer: "echo: " and the last user message."""
    return "echo: " + last_user_text(messages)


def cut(answer: str, max_tokens: int | None) -> tuple[str, str]:
    """The answer cut to `max_tokens` tokens, and its finish_reason."""
    pieces = tokens(answer)
    if max_tokens is not None and len(pieces) > max_tokens:
        return "".join(pieces[:max_tokens]), "length"
    return answer, "stop"


def usage(messages: list[dict[str, Any]], answer: str,
          max_tokens: int | None = None) -> dict[str, Any]:
    """The `usage` of a chat completion answering `messages` with `answer`."""
    prompt, completion = prompt_tokens(messages), words(cut(answer, max_tokens)[0])
    return {"prompt_tokens": prompt, "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0,
                                          "accepted_prediction_tokens": 0,
                                          "rejected_prediction_tokens": 0}}


def embedding(text: str | list[int], dimensions: int = DIMENSIONS) -> list[float]:
    """A unit vector from SHA-256 of the text (or of a token-id list), each value exactly a
    float32, so the float and base64 encodings give the same numbers."""
    seed = (text if isinstance(text, str) else json.dumps(text)).encode()
    raw = b"".join(hashlib.sha256(b"%d:" % block + seed).digest()
                   for block in range((dimensions + 7) // 8))
    values = [n / 2**31 - 1 for n in struct.unpack(f"<{dimensions}I", raw[:4 * dimensions])]
    norm = sum(v * v for v in values) ** 0.5 or 1.0
    return list(struct.unpack(f"<{dimensions}f",
                              struct.pack(f"<{dimensions}f", *(v / norm for v in values))))


# --- the server ---------------------------------------------------------------------------


ERRORS = {400: ("invalid_request_error", None), 401: ("invalid_request_error", "invalid_api_key"),
          403: ("invalid_request_error", "unsupported_country_region_territory"),
          404: ("invalid_request_error", "model_not_found"),
          429: ("requests", "rate_limit_exceeded"), 500: ("server_error", None),
          503: ("server_error", None)}


def error_body(status: int, message: str | None = None, **fields: Any) -> dict[str, Any]:
    kind, code = ERRORS.get(status, ("server_error" if status >= 500
                                     else "invalid_request_error", None))
    return {"error": {"message": message or f"Scripted error {status}.", "type": kind,
                      "param": None, "code": code, **fields}}


class Refused(Exception):
    def __init__(self, status: int, message: str, **fields: Any) -> None:
        super().__init__(message)
        self.status, self.body = status, error_body(status, message, **fields)


class Exchange:
    """One request to `/v1`: what it asked, and the answer going out."""

    def __init__(self, provider: ScriptedProvider, scope: dict, receive: Any, send: Any,
                 record: dict[str, Any]) -> None:
        self.provider, self.scope, self._receive, self._send = provider, scope, receive, send
        self.record = record
        self.gone = asyncio.Event()
        self.request_id = f"req_scripted_{len(provider.calls)}"

    async def watch(self) -> None:
        """Notices the client going before the answer is complete."""
        while True:
            message = await self._receive()
            if message["type"] == "http.disconnect":
                if not self.record["completed"]:
                    self.record["disconnected"] = True
                    self.gone.set()
                return

    async def pause(self, ms: float | None, released: asyncio.Event | None = None) -> bool:
        """Waits `ms` (for ever when None); False when the client went meanwhile."""
        waiters = [asyncio.ensure_future(self.gone.wait())]
        if released is not None:
            waiters.append(asyncio.ensure_future(released.wait()))
        try:
            await asyncio.wait(waiters, timeout=None if ms is None else ms / 1000,
                               return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return not self.gone.is_set()

    async def start(self, status: int, media: str, extra: dict[str, str] | None = None,
                    length: int | None = None) -> None:
        headers = [(b"content-type", media.encode()), (b"x-request-id", self.request_id.encode())]
        if length is not None:
            headers.append((b"content-length", str(length).encode()))
        headers += [(k.lower().encode(), str(v).encode()) for k, v in (extra or {}).items()]
        self.record["status"] = status
        await self._send({"type": "http.response.start", "status": status, "headers": headers})

    async def body(self, data: bytes, more: bool = False) -> None:
        if self.gone.is_set():
            return
        await self._send({"type": "http.response.body", "body": data, "more_body": more})
        if not more:
            self.record["completed"] = True

    async def whole(self, status: int, payload: Any, step: dict[str, Any],
                    media: str = "application/json") -> None:
        """A whole answer; with `broken_stream_after` K, its first K bytes and a cut."""
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        await self.start(status, media, step.get("headers"), len(data))
        if "broken_stream_after" in step:
            await self.body(data[:int(step["broken_stream_after"])], more=True)
            return
        await self.body(data)


class ScriptedProvider:
    """The ASGI app: the `/v1` API and the control endpoints, with the script's state."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.reset()

    def reset(self) -> None:
        released = getattr(self, "released", None)
        if released is not None:
            released.set()
        self.steps: list[dict[str, Any]] = []
        self.rules: list[tuple[str, str]] = []
        self.calls: list[dict[str, Any]] = []
        self.models: list[str] = list(MODELS)
        self.released = asyncio.Event()

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        if scope["path"].startswith("/v1/"):
            await self.api(scope, receive, send, raw)
        else:
            status, answer = self.control(scope["method"], scope["path"], raw)
            data = json.dumps(answer).encode()
            await send({"type": "http.response.start", "status": status,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(data)).encode())]})
            await send({"type": "http.response.body", "body": data})

    # -- control

    def control(self, method: str, path: str, raw: bytes) -> tuple[int, Any]:
        try:
            body = json.loads(raw) if raw else {}
        except ValueError:
            return 400, {"error": "the body is not JSON"}
        if (method, path) == ("GET", "/_calls"):
            return 200, self.calls
        if (method, path) == ("POST", "/_reset"):
            self.reset()
            return 200, {"reset": True}
        if (method, path) == ("POST", "/_script"):
            steps = body.get("steps", []) if isinstance(body, dict) else body
            wrong = [step for step in steps
                     if not isinstance(step, dict) or set(step) - STEP_KEYS]
            if wrong:
                return 400, {"error": f"unknown step keys in {wrong}; known: {sorted(STEP_KEYS)}"}
            self.steps += steps
            return 200, {"steps": len(self.steps)}
        if (method, path) == ("POST", "/_when"):
            self.rules.append((str(body["when"]), str(body["answer"])))
            return 200, {"rules": len(self.rules)}
        if (method, path) == ("POST", "/_models"):
            self.models = [str(m) for m in body["models"]]
            return 200, {"models": self.models}
        return 404, {"error": f"no control endpoint {method} {path}"}

    def next_step(self, path: str) -> dict[str, Any]:
        for i, step in enumerate(self.steps):
            if step.get("path") in (None, path):
                return self.steps.pop(i)
        return {}

    # -- the API

    async def api(self, scope: dict, receive: Any, send: Any, raw: bytes) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        given = headers.pop("authorization", "")
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        record: dict[str, Any] = {
            "method": scope["method"], "path": scope["path"],
            "query": scope["query_string"].decode("latin-1"), "headers": headers,
            "authorized": given == f"Bearer {self.key}", "body": body, "status": None,
            "stream": isinstance(body, dict) and body.get("stream") is True,
            "chunks": 0, "completed": False, "disconnected": False}
        self.calls.append(record)
        exchange = Exchange(self, scope, receive, send, record)
        watcher = asyncio.ensure_future(exchange.watch())
        try:
            await self.answer(exchange, body)
        except Exception as bug:                   # a bug here: a 500 the test can read
            record["error"] = traceback.format_exc()
            if record["status"] is None:
                await exchange.whole(500, error_body(500, f"Scripted model bug: {bug!r}"), {})
        finally:
            watcher.cancel()

    async def answer(self, exchange: Exchange, body: Any) -> None:
        record, path = exchange.record, exchange.record["path"]
        if not record["authorized"]:
            message = "Incorrect API key provided. You can find your API key in your settings."
            await exchange.whole(401, error_body(401, message), {})
            return
        step = self.next_step(path)
        if step.get("hang"):
            if await exchange.pause(None, self.released):      # released by /_reset
                await exchange.whole(500, error_body(500, "Released by /_reset."), {})
            return
        if step.get("delay_ms") and not await exchange.pause(float(step["delay_ms"])):
            return
        if step.get("non_json"):
            html = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
            await exchange.whole(int(step.get("status", 200)), html, step, "text/html")
            return
        status = int(step.get("status", 200))
        if status >= 400:
            err = dict(step.get("error") or {})
            await exchange.whole(status, error_body(status, err.pop("message", None), **err),
                                 step)
            return
        method = exchange.scope["method"]
        try:
            if (method, path) == ("GET", "/v1/models"):
                await exchange.whole(status, self.model_list(), step)
            elif (method, path) == ("POST", "/v1/chat/completions"):
                await self.chat(exchange, body, step, status)
            elif (method, path) == ("POST", "/v1/embeddings"):
                await exchange.whole(status, self.embeddings(body), step)
            else:
                raise Refused(404, f"Invalid URL ({method} {path})", code=None)
        except Refused as refused:
            await exchange.whole(refused.status, refused.body, step)

    def model_list(self) -> dict[str, Any]:
        return {"object": "list", "data": [{"id": m, "object": "model", "created": CREATED,
                                            "owned_by": "scripted"} for m in self.models]}

    def check(self, body: Any, *required: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise Refused(400, "We could not parse the JSON body of your request.")
        for name in required:
            if name not in body:
                raise Refused(400, f"Missing required parameter: '{name}'.", param=name,
                              code="missing_required_parameter")
        if body["model"] not in self.models:
            raise Refused(404, f"The model `{body['model']}` does not exist or you do not "
                               "have access to it.")
        return body

    async def chat(self, exchange: Exchange, body: Any, step: dict[str, Any],
                   status: int) -> None:
        body = self.check(body, "model", "messages")
        messages = body["messages"]
        if not isinstance(messages, list) or not messages:
            raise Refused(400, "Invalid 'messages': empty array.", param="messages",
                          code="empty_array")
        answer = step.get("answer")
        if answer is None:
            text = last_user_text(messages)
            answer = next((a for when, a in self.rules if when in text), answer_to(messages))
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        content, finish = cut(str(answer), limit)
        used = usage(messages, str(answer), limit)
        base = {"id": f"chatcmpl-scripted-{len(self.calls)}", "created": int(time.time()),
                "model": body["model"], "service_tier": "default",
                "system_fingerprint": "fp_scripted"}
        if not exchange.record["stream"]:
            await exchange.whole(status, {**base, "object": "chat.completion", "choices": [{
                "index": 0, "message": {"role": "assistant", "content": content,
                                        "refusal": None, "annotations": []},
                "logprobs": None, "finish_reason": finish}], "usage": used}, step)
            return
        with_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            event = {**base, "object": "chat.completion.chunk", "choices": [{
                "index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]}
            return {**event, "usage": None} if with_usage else event

        events = [chunk({"role": "assistant", "content": "", "refusal": None})]
        events += [chunk({"content": piece}) for piece in tokens(content)]
        events.append(chunk({}, finish))
        if with_usage:
            events.append({**base, "object": "chat.completion.chunk", "choices": [],
                           "usage": used})
        await exchange.start(status, "text/event-stream; charset=utf-8", step.get("headers"))
        broken = step.get("broken_stream_after")
        gap = float(step.get("token_delay_ms", 0))
        for i, event in enumerate(events):
            if broken is not None and i >= int(broken):
                return                                   # cut: no [DONE], no last chunk
            if (i and gap and not await exchange.pause(gap)) or exchange.gone.is_set():
                return
            await exchange.body(f"data: {json.dumps(event)}\n\n".encode(), more=True)
            exchange.record["chunks"] += 1
        if exchange.gone.is_set():
            return
        await exchange.body(b"data: [DONE]\n\n", more=True)
        exchange.record["chunks"] += 1
        await exchange.body(b"")

    def embeddings(self, body: Any) -> dict[str, Any]:
        body = self.check(body, "model", "input")
        given = body["input"]
        if isinstance(given, str) or (isinstance(given, list) and given
                                      and all(isinstance(t, int) for t in given)):
            given = [given]
        if not isinstance(given, list) or not given or not all(
                isinstance(item, str) or (isinstance(item, list) and item and all(
                    isinstance(t, int) for t in item)) for item in given):
            raise Refused(400, "'input' must be a string, a list of strings, or token ids.",
                          param="input")
        dims = int(body.get("dimensions") or DIMENSIONS)
        data, used = [], 0
        for index, item in enumerate(given):
            vector = embedding(item, dims)
            used += words(item) if isinstance(item, str) else len(item)
            encoded: Any = vector
            if body.get("encoding_format") == "base64":
                encoded = base64.b64encode(struct.pack(f"<{dims}f", *vector)).decode()
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        return {"object": "list", "data": data, "model": body["model"],
                "usage": {"prompt_tokens": used, "total_tokens": used}}


class _QuietCuts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _CUT        # a scripted broken stream is no error


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description="A scripted OpenAI-compatible provider.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    logging.getLogger("uvicorn.error").addFilter(_QuietCuts())
    uvicorn.run(ScriptedProvider(os.environ["SCRIPTED_MODEL_KEY"]), host=args.host,
                port=args.port, log_level="error", access_log=False, lifespan="off",
                timeout_graceful_shutdown=1)


# --- the tests' side ----------------------------------------------------------------------


class ScriptedModel:
    """The tests' handle on a running scripted provider at `url` (`http://127.0.0.1:port`)."""

    def __init__(self, url: str, key: str) -> None:
        self.url, self.key = url.rstrip("/"), key

    @property
    def base_url(self) -> str:
        """The OpenAI base URL, for `openai.OpenAI(base_url=...)` or a provider's settings."""
        return f"{self.url}/v1"

    def _control(self, method: str, path: str, payload: Any = None) -> Any:
        data = None if payload is None else json.dumps(payload).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read().decode()}") from None

    def script(self, *steps: dict[str, Any]) -> None:
        """Steps for the next requests, in order (keys in the module's docstring)."""
        self._control("POST", "/_script", {"steps": list(steps)})

    def when(self, substring: str, answer: str) -> None:
        """Chat requests whose last user message contains `substring` get `answer`."""
        self._control("POST", "/_when", {"when": substring, "answer": answer})

    def serve_models(self, *ids: str) -> None:
        """The model ids served (and listed) until the next reset."""
        self._control("POST", "/_models", {"models": list(ids)})

    def calls(self) -> list[dict[str, Any]]:
        """What reached `/v1`, in order (shape in the module's docstring)."""
        return self._control("GET", "/_calls")

    def wait_calls(self, until: Callable[[list[dict[str, Any]]], bool],
                   timeout: float = 5) -> list[dict[str, Any]]:
        """The calls once `until(calls)` holds (a disconnect is seen a moment after it
        happens); an AssertionError with the calls when it does not within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            calls = self.calls()
            if until(calls):
                return calls
            if time.monotonic() > deadline:
                raise AssertionError(f"not within {timeout}s: {calls}")
            time.sleep(0.02)

    def reset(self) -> None:
        self._control("POST", "/_reset")


@contextmanager
def serve_scripted_model(key: str | None = None, wait: float = 10) -> Iterator[ScriptedModel]:
    """A scripted provider process on a free loopback port until the block ends."""
    key = key or f"sk-scripted-{secrets.token_hex(8)}"
    port = free_port()
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.support.scripted_model", "--port", str(port)],
            cwd=ROOT, env={**os.environ, "SCRIPTED_MODEL_KEY": key},
            stdout=log, stderr=subprocess.STDOUT)
        model = ScriptedModel(f"http://127.0.0.1:{port}", key)
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    model.calls()
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError("the scripted model did not start: "
                                           + log.read().decode(errors="replace")) from None
                    time.sleep(0.05)
            yield model
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.seek(0)
        output = log.read().decode(errors="replace")
        if "Traceback" in output:          # a bug of the scripted model, not of the hub
            raise RuntimeError(f"the scripted model failed: {output}")


@pytest.fixture(scope="session")
def scripted_model_server() -> Iterator[ScriptedModel]:
    """One scripted provider process for the session (or the xdist worker)."""
    with serve_scripted_model() as model:
        yield model


@pytest.fixture
def scripted_model(scripted_model_server: ScriptedModel) -> ScriptedModel:
    """The session's scripted provider, with no steps, rules or calls left from other tests."""
    scripted_model_server.reset()
    return scripted_model_server


if __name__ == "__main__":
    main()

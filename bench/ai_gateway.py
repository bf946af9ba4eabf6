"""AI gateway benchmark: a fast OpenAI-compatible provider on loopback, called directly and
through one hub process (`/ai/v1/…`, OpenAI's wire format both ways).

The provider is a few lines of ASGI under uvicorn (UPSTREAM below): a fixed chat completion
with its `usage`, a 64-token server-sent event stream (a chunk per token, `--token-ms` apart;
`stream_options.include_usage` honoured as OpenAI does, `"usage": null` on every chunk and a
last usage chunk; `data: [DONE]`), embeddings; and `GET /_count`, what it answered to the hub's
key (tokens as it counted them) and to the bench directly. The hub is provisioned as an
operator would: `dpghub init`, `dpghub token create`, then its API — an organization, an app
and its key, the provider with two aliases, a month's credit far beyond the run. It allows
loopback upstreams (DPGHUB_GATEWAY_ALLOWED_NETWORKS=127.0.0.0/8) and has no limits per minute
(DPGHUB_AI_REQUESTS_PER_MINUTE=0, DPGHUB_AI_TOKENS_PER_MINUTE=0). Every call goes through the
key, the credit check, the circuit breaker and the ledger.

1. maximum rate, non-streamed: wrk, 2 threads, 32 connections, a Lua script POSTing the body
   with `Authorization: Bearer` (without wrk — `apt-get install wrk` — a closed-loop asyncio
   client with 32 connections, which is slower than wrk and says so); CPU per call of the hub
   process (and of its children);
2. latency at half the hub's maximum rate, direct and through the hub: an open-loop asyncio
   client on keep-alive connections, each latency counted from when its request was due (so a
   server that falls behind is charged for its queue); the difference is what the hub adds;
3. streamed 64 tokens at a calm rate (`--stream-rate`), direct and through the hub: time to the
   first token and to the end of the stream; CPU per streamed call of the hub;
4. embeddings at the same calm rate, once: what the hub adds (for information);
5. the ledger: after the runs, the input and output tokens of `GET /api/v1/ai/usage?org=…`
   and of the ledger in the database after the hub has shut down must equal what the provider
   counted it answered the hub, exactly, and the ledger's rows of answered calls its calls
   (the ledger also has a row for each model listing and each call refused before it was
   sent, e.g. a client wrk dropped at the end of its run before the hub read the request).

Everything shares this machine's cores (wrk and the client too), so the hub's figures are
floors. Each measurement runs `--rounds` times, direct and through the hub in turn, and the
medians are reported. `--ledger-rows N` first gives the organization's month N earlier calls
(written straight into the ledger), to see whether the month's usage slows the calls.
Goals (issue 18): added p50 ≤ 1 ms and p99 ≤ 5 ms, added time to first token ≤ 1 ms,
≥ 2,000 non-streamed calls/s through one process, the ledger's totals equal the provider's.
Anchor: LiteLLM's published proxy overhead, median 12 ms with 2 instances and 2 ms with 4, on
4-CPU machines (LiteLLM is not used here).
    .venv/bin/python bench/ai_gateway.py [--seconds 10] [--rounds 3] [--token-ms 1]
                                         [--stream-rate 50] [--ledger-rows 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import LOOPBACK, cpu_seconds, pct, wait_for  # noqa: E402
from served import DPGHUB, free_port  # noqa: E402

TOKENS = 64                     # tokens of a streamed answer
CHAT, EMBED = "bench-chat", "bench-embed"               # the aliases callers use
CHAT_MODEL, EMBED_MODEL = "fast-chat-1", "fast-embed-1"  # the provider's own names
DIRECT_KEY = "sk-bench-direct"  # the bench calling the provider itself (counted apart)
MESSAGES = [{"role": "system", "content": "당신은 공공데이터 안내 도우미입니다. 짧게 답하세요."},
            {"role": "user", "content": "서울시 전기차 충전소 데이터는 어디에서 받을 수 "
                                        "있나요? 한 문장으로 알려 주세요."}]
EMBED_INPUT = ["전기차 충전소 위치", "공휴일 및 특일 정보", "사업자등록 상태 조회"]
LITELLM = ("LiteLLM's published proxy overhead: median 12 ms with 2 instances, 2 ms with 4 "
           "(4-CPU machines)")

UPSTREAM = r'''
"""A fast OpenAI-compatible provider for bench/ai_gateway.py (written out and run by it)."""
import asyncio
import json
import os

KEY = ("Bearer " + os.environ["AIBENCH_PROVIDER_KEY"]).encode()
TOKEN_SECONDS = float(os.environ["AIBENCH_TOKEN_MS"]) / 1000
TOKENS = int(os.environ["AIBENCH_TOKENS"])
PROMPT = 41                      # prompt tokens, + 0..2 by call
ANSWER = "서울 열린데이터광장과 공공데이터포털에서 CSV와 오픈 API로 받을 수 있습니다."
WORDS = "서울 열린데이터광장 과 공공데이터포털 에서 충전소 위치 와 운영 시간 을 받을 수 있습니다".split()
VECTOR = ",".join(f"{((i * 37) % 101) / 101 - 0.5:.6f}" for i in range(64))
# what was answered, as the provider counted it: to the hub (its key) and to anyone else
COUNT = {who: {"calls": 0, "input_tokens": 0, "output_tokens": 0, "chat": 0, "streamed": 0,
               "embeddings": 0} for who in ("hub", "direct")}
JSON = [(b"content-type", b"application/json")]
SSE = [(b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache")]
calls = 0


def dumps(value):
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def usage(prompt, answer):
    return {"prompt_tokens": prompt, "completion_tokens": answer,
            "total_tokens": prompt + answer}


def whole(n):
    """A chat.completion whose usage differs with the call (answer tokens 16 to 20)."""
    return dumps({"id": "chatcmpl-bench", "object": "chat.completion", "created": 1767225600,
                  "model": "fast-chat-1", "system_fingerprint": "fp_bench",
                  "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER,
                                                       "refusal": None},
                               "logprobs": None, "finish_reason": "stop"}],
                  "usage": usage(PROMPT + n % 3, 16 + n % 5)})


def chunk(delta, finish=None, with_usage=False):
    value = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": 1767225600,
             "model": "fast-chat-1", "system_fingerprint": "fp_bench",
             "choices": [{"index": 0, "delta": delta, "logprobs": None,
                          "finish_reason": finish}]}
    if with_usage:
        value["usage"] = None
    return b"data: " + dumps(value) + b"\n\n"


def stream(with_usage):
    """The events before the usage chunk: role, a chunk per token, the finish."""
    events = [chunk({"role": "assistant", "content": ""}, with_usage=with_usage)]
    events += [chunk({"content": WORDS[i % len(WORDS)] + " "}, with_usage=with_usage)
               for i in range(TOKENS)]
    return events + [chunk({}, "stop", with_usage)]


WHOLE = [whole(n) for n in range(15)]
STREAM = {False: stream(False), True: stream(True)}
LAST = [b"data: " + dumps({"id": "chatcmpl-bench", "object": "chat.completion.chunk",
                           "created": 1767225600, "model": "fast-chat-1",
                           "system_fingerprint": "fp_bench", "choices": [],
                           "usage": usage(PROMPT + n, TOKENS)}) + b"\n\n" for n in range(3)]
DONE = b"data: [DONE]\n\n"


def count(who, kind, prompt, answer):
    counted = COUNT[who]
    counted["calls"] += 1
    counted[kind] += 1
    counted["input_tokens"] += prompt
    counted["output_tokens"] += answer


async def whole_answer(send, status, body, headers=JSON):
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


async def app(scope, receive, send):
    global calls
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path == "/_count":
        await whole_answer(send, 200, dumps(COUNT))
        return
    body, more = b"", True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    who = "hub" if (b"authorization", KEY) in scope["headers"] else "direct"
    request = json.loads(body)
    n, calls = calls, calls + 1
    if path == "/v1/chat/completions" and request.get("stream"):
        with_usage = bool((request.get("stream_options") or {}).get("include_usage"))
        await send({"type": "http.response.start", "status": 200, "headers": SSE})
        for i, event in enumerate(STREAM[with_usage]):
            if TOKEN_SECONDS and 2 <= i <= TOKENS:
                await asyncio.sleep(TOKEN_SECONDS)
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body",
                    "body": (LAST[n % 3] if with_usage else b"") + DONE})
        count(who, "streamed", PROMPT + n % 3, TOKENS)
    elif path == "/v1/chat/completions":
        await whole_answer(send, 200, WHOLE[n % 15])
        count(who, "chat", PROMPT + n % 15 % 3, 16 + n % 15 % 5)
    elif path == "/v1/embeddings":
        given = request.get("input")
        items = given if isinstance(given, list) else [given]
        tokens = sum(len(str(item).split()) + 1 for item in items)
        data = ",".join('{"object":"embedding","index":%d,"embedding":[%s]}' % (i, VECTOR)
                        for i in range(len(items)))
        await whole_answer(send, 200, ('{"object":"list","data":[%s],"model":"%s","usage":'
                                       '{"prompt_tokens":%d,"total_tokens":%d}}'
                                       % (data, "fast-embed-1", tokens, tokens)).encode())
        count(who, "embeddings", tokens, 0)
    else:
        await whole_answer(send, 404, b'{"error":{"message":"no such route","type":'
                                      b'"invalid_request_error","param":null,"code":null}}')
'''

WRK_SCRIPT = """-- made by bench/ai_gateway.py: the same POST on every connection
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(key)s"
wrk.body = [==[%(body)s]==]
"""


@dataclass
class Target:
    """One way to the provider: directly, or through the hub."""
    name: str
    host: str
    port: int
    prefix: str          # "/v1" directly, "/ai/v1" through the hub
    key: str
    chat: str            # the model name this way
    embed: str

    def body(self, kind: str) -> bytes:
        if kind == "embeddings":
            value: dict[str, Any] = {"model": self.embed, "input": EMBED_INPUT,
                                     "encoding_format": "float"}
        else:
            value = {"model": self.chat, "messages": MESSAGES}
            if kind == "stream":
                value.update(stream=True, stream_options={"include_usage": True})
        return json.dumps(value, ensure_ascii=False).encode()

    def path(self, kind: str) -> str:
        return f"{self.prefix}/{'embeddings' if kind == 'embeddings' else 'chat/completions'}"

    def url(self, kind: str) -> str:
        return f"http://{self.host}:{self.port}{self.path(kind)}"

    def request(self, kind: str) -> bytes:
        body = self.body(kind)
        return (f"POST {self.path(kind)} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Authorization: Bearer {self.key}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body


# --- provisioning ----------------------------------------------------------------------------


def hub_env(home: Path) -> dict[str, str]:
    env = {**os.environ, "DPGHUB_HOME": str(home), "DPGHUB_GATEWAY_ALLOWED_NETWORKS": LOOPBACK,
           "DPGHUB_AI_REQUESTS_PER_MINUTE": "0", "DPGHUB_AI_TOKENS_PER_MINUTE": "0"}
    env.pop("DPGHUB_DATABASE_URL", None)          # the hub's own SQLite, as the other benches
    return env


def operator_token(env: dict[str, str]) -> str:
    subprocess.run([DPGHUB, "init", "--admin-password", "bench-password-1"], env=env,
                   check=True, capture_output=True)
    made = subprocess.run([DPGHUB, "token", "create", "admin@dpghub.kr", "--name", "ai-bench",
                           "--scope", "read", "--scope", "write", "--days", "1"], env=env,
                          check=True, capture_output=True, text=True)
    return made.stdout.strip().splitlines()[-1].strip()


def provision(base: str, token: str, provider: str, provider_key: str) -> str:
    """Through the hub's API, as an operator: an organization with an app (its key is
    returned), the provider with a chat and an embedding alias, a month's credit."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as api:
        def ok(answer: httpx.Response) -> dict[str, Any]:
            if answer.status_code >= 300:
                raise RuntimeError(f"{answer.request.method} {answer.request.url}: "
                                   f"{answer.status_code} {answer.text}")
            return answer.json()  # type: ignore[no-any-return]

        ok(api.post("/api/v1/orgs", json={"slug": "hanbit", "name_ko": "한빛",
                                          "name_en": "Hanbit", "kind": "company"}))
        key = ok(api.post("/api/v1/orgs/hanbit/apps", json={"name": "ai-bench"}))["key"]
        ok(api.post("/api/v1/ai/providers", json={
            "name": "bench-provider", "base_url": provider, "api_key": provider_key,
            "models": [{"alias": CHAT, "model": CHAT_MODEL, "kind": "chat",
                        "context": 131072, "price_in": 0.5, "price_out": 2.0},
                       {"alias": EMBED, "model": EMBED_MODEL, "kind": "embedding",
                        "context": 8192, "price_in": 0.1, "price_out": 0.0}]}))
        ok(api.put("/api/v1/ai/budgets/hanbit", json={"tokens": 10**13}))
    return str(key)


def prefill(home: Path, rows: int) -> None:
    """`rows` earlier calls of the organization this month, written straight into the ledger
    (1 token in, 1 out each): the month's usage a busy organization has."""
    from sqlalchemy import insert, select
    from sqlalchemy.orm import Session

    from dpghub.ai.models import LedgerEntry
    from dpghub.ai.service import ledger
    from dpghub.config import Settings
    from dpghub.core import months
    from dpghub.core.db import make_engine, utcnow
    from dpghub.identity.models import Organization

    engine = make_engine(Settings(home=home).prepare().database_url or "")
    now = utcnow()
    with engine.begin() as connection:
        org = connection.execute(select(Organization.id).where(Organization.slug == "hanbit")
                                 ).scalar_one()
        for start in range(0, rows, 50_000):
            connection.execute(insert(LedgerEntry), [
                {"at": now, "month": months.month_of(now), "request_id": f"prefill{i:09d}",
                 "org_id": org, "alias": CHAT, "model": CHAT_MODEL, "kind": "chat",
                 "input_tokens": 1, "output_tokens": 1, "cost_krw": 0, "latency_ms": 1.0,
                 "status": 200, "outcome": "ok"}
                for i in range(start, min(rows, start + 50_000))])
    with Session(engine) as session, session.begin():      # the month's count beside it
        ledger.add_to_months(session, {(org, months.month_of(now)): [2 * rows, rows]})
    engine.dispose()


def usage(base: str, token: str) -> dict[str, int]:
    answer = httpx.get(f"{base}/api/v1/ai/usage", params={"org": "hanbit"},
                       headers={"Authorization": f"Bearer {token}"}, timeout=60)
    answer.raise_for_status()
    found = answer.json()
    return {name: int(found[name]) for name in ("calls", "input_tokens", "output_tokens")}


def ledger_in_database(home: Path) -> tuple[dict[str, int], list[str]]:
    """The ledger's totals read from the database itself (after the hub has stopped): calls,
    tokens, and `answered` — the rows of calls a provider answered (outcome ok, a model
    named), which are what the provider can count — and the rows by what they were."""
    from sqlalchemy import func, select

    from dpghub.ai.models import LedgerEntry
    from dpghub.config import Settings
    from dpghub.core.db import make_engine

    engine = make_engine(Settings(home=home).prepare().database_url or "")
    entry = LedgerEntry
    with engine.connect() as connection:
        calls, tokens_in, tokens_out = connection.execute(select(
            func.count(entry.id), func.coalesce(func.sum(entry.input_tokens), 0),
            func.coalesce(func.sum(entry.output_tokens), 0))).one()
        kinds = connection.execute(
            select(entry.kind, entry.alias, entry.stream, entry.status, entry.outcome,
                   entry.fault, func.count(entry.id))
            .where(entry.request_id.not_like("prefill%"))
            .group_by(entry.kind, entry.alias, entry.stream, entry.status, entry.outcome,
                      entry.fault)).all()
    engine.dispose()
    answered = sum(n for _, alias, _, _, outcome, _, n in kinds if alias and outcome == "ok")
    rows = [f"{n:,} × {kind} {alias or '(no model)'}{' streamed' if stream else ''} {status} "
            f"{outcome}{' ' + fault if fault else ''}"
            for kind, alias, stream, status, outcome, fault, n in kinds]
    return {"calls": int(calls), "input_tokens": int(tokens_in),
            "output_tokens": int(tokens_out), "answered": answered}, rows


def check_answers(hub: Target) -> None:
    """One call of each kind through the hub, read as the SDK would: a whole answer with its
    usage, a stream of 64 tokens with its usage chunk and [DONE] (and none without
    `include_usage`), the models listed, an embedding per input."""
    headers = {"Authorization": f"Bearer {hub.key}"}
    base = f"http://{hub.host}:{hub.port}{hub.prefix}"
    with httpx.Client(timeout=30, headers=headers) as client:
        listed = client.get(f"{base}/models")
        assert listed.status_code == 200, listed.text
        assert {m["id"] for m in listed.json()["data"]} == {CHAT, EMBED}, listed.text
        answer = client.post(hub.url("chat"), content=hub.body("chat"),
                             headers={"Content-Type": "application/json"})
        assert answer.status_code == 200, answer.text
        assert answer.json()["usage"]["completion_tokens"] >= 16, answer.text
        embedded = client.post(hub.url("embeddings"), content=hub.body("embeddings"),
                               headers={"Content-Type": "application/json"})
        assert embedded.status_code == 200, embedded.text
        assert len(embedded.json()["data"]) == len(EMBED_INPUT), embedded.text
        for include in (True, False):
            body = json.loads(hub.body("stream"))
            if not include:
                del body["stream_options"]
            events = []
            with client.stream("POST", hub.url("stream"), json=body) as streamed:
                assert streamed.status_code == 200, streamed.read()
                for line in streamed.iter_lines():
                    if line.startswith("data: "):
                        events.append(line[6:])
            assert events[-1] == "[DONE]", events[-3:]
            parsed = [json.loads(e) for e in events[:-1]]
            tokens = sum(1 for p in parsed if p["choices"] and p["choices"][0]["delta"].get(
                "content"))
            assert tokens == TOKENS, f"{tokens} tokens streamed"
            usages = [p for p in parsed if not p["choices"]]
            assert len(usages) == (1 if include else 0), usages
            if include:
                assert usages[0]["usage"]["completion_tokens"] == TOKENS, usages


# --- load ------------------------------------------------------------------------------------


def wrk_rate(target: Target, seconds: int, workdir: Path, connections: int = 32
             ) -> tuple[float, int]:
    """Requests per second and requests made at saturation; every answer must be a 2xx."""
    script = workdir / f"{target.name}.lua"
    script.write_text(WRK_SCRIPT % {"key": target.key, "body": target.body("chat").decode()},
                      encoding="utf-8")
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
                          target.url("chat")], capture_output=True, text=True,
                         check=True).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise RuntimeError(f"{target.name}: failed responses:\n{out}")
    trouble = re.search(r"Socket errors:.*", out)
    if trouble:         # a timeout is an answer slower than wrk's 2 s: said, not fatal
        print(f"  wrk, {target.name}: {trouble.group(0)}", flush=True)
    made = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)), made  # type: ignore


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of the bench's clients: a request written whole, its
    answer read by Content-Length or to the end of its chunks (a stream), the moment the first
    token arrived (a chunk with non-empty `content`) and the moment it ended kept."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, float | None, float]] | None = None
        self.closed = False
        self._reset()

    def _reset(self) -> None:
        self.head = -1                 # where the body starts, once the head is read
        self.status = 0
        self.length: int | None = None
        self.at = 0                    # the next chunk's size line
        self.first: float | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the server closed the connection"))

    def ask(self, request: bytes) -> asyncio.Future[tuple[int, float | None, float]]:
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(request)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self.waiter is None:
            return
        if self.head < 0:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buffer[:end]).lower()
            self.head = self.at = end + 4
            self.status = int(self.buffer[9:12])
            length = LENGTH.search(head)
            self.length = int(length.group(1)) if length else None
            if self.length is None and b"transfer-encoding: chunked" not in head:
                self.waiter.set_exception(RuntimeError("an answer of unknown length"))
                return
        if self.length is not None:
            if len(self.buffer) >= self.head + self.length:
                self._done(self.head + self.length)
            return
        while True:                                    # chunked: up to the last chunk
            line = self.buffer.find(b"\r\n", self.at)
            if line < 0:
                return
            size = int(bytes(self.buffer[self.at:line]).split(b";")[0], 16)
            if size == 0:
                if len(self.buffer) >= line + 4:
                    self._done(line + 4)
                return
            end = line + 2 + size
            if len(self.buffer) < end + 2:
                return
            if self.first is None and TOKEN.search(self.buffer, line + 2, end):
                self.first = time.perf_counter()
            self.at = end + 2

    def _done(self, total: int) -> None:
        ended = time.perf_counter()
        status, first = self.status, self.first
        del self.buffer[:total]
        self._reset()
        waiter, self.waiter = self.waiter, None
        assert waiter is not None
        waiter.set_result((status, first, ended))


LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)")
TOKEN = re.compile(rb'"content":"[^"]')


@dataclass
class Run:
    latencies: list[float] = field(default_factory=list)     # ms, from when each was due
    firsts: list[float] = field(default_factory=list)        # ms to the first token
    failed: int = 0
    late: float = 0.0                                        # the client's own lateness, p99


async def _connect(target: Target) -> _Connection:
    _, connection = await asyncio.get_running_loop().create_connection(
        _Connection, target.host, target.port)
    return connection


async def open_loop(target: Target, kind: str, rate: float, seconds: float) -> Run:
    """A request every 1/rate s whatever the answers do, on keep-alive connections (an idle
    one, else a new one)."""
    request = target.request(kind)
    idle: list[_Connection] = list(await asyncio.gather(*(_connect(target) for _ in range(16))))
    run = Run()
    lateness: list[float] = []

    async def one(due: float) -> None:
        while idle and idle[-1].closed:
            idle.pop()
        connection = idle.pop() if idle else await _connect(target)
        status, first, ended = await connection.ask(request)
        run.failed += status != 200
        run.latencies.append((ended - due) * 1000)
        if first is not None:
            run.firsts.append((first - due) * 1000)
        idle.append(connection)

    tasks = []
    begin = time.perf_counter() + 0.05
    for i in range(int(rate * seconds)):
        due = begin + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        lateness.append(max(0.0, -wait) * 1000)
        tasks.append(asyncio.create_task(one(due)))
    await asyncio.gather(*tasks)
    for connection in idle:
        if connection.transport is not None:
            connection.transport.close()
    run.late = pct(lateness, .99) if lateness else 0.0
    return run


async def closed_loop(target: Target, seconds: float, connections: int = 32
                      ) -> tuple[float, int]:
    """Without wrk: `connections` clients each sending its next request when the answer is in;
    requests per second and requests made."""
    request = target.request("chat")
    done = 0
    failed = 0
    end = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done, failed
        connection = await _connect(target)
        while time.perf_counter() < end:
            status, _, _ = await connection.ask(request)
            done += 1
            failed += status != 200
        assert connection.transport is not None
        connection.transport.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    if failed:
        raise RuntimeError(f"{target.name}: {failed} answers were not 200")
    return done / (time.perf_counter() - started), done


def max_rate(target: Target, seconds: int, workdir: Path, use_wrk: bool) -> tuple[float, int]:
    if use_wrk:
        return wrk_rate(target, seconds, workdir)
    return asyncio.run(closed_loop(target, seconds))


def paced(target: Target, kind: str, rate: float, seconds: float) -> Run:
    run = asyncio.run(open_loop(target, kind, rate, seconds))
    if run.failed:
        raise RuntimeError(f"{target.name}: {run.failed} answers were not 200")
    if kind == "stream" and len(run.firsts) != len(run.latencies):
        raise RuntimeError(f"{target.name}: {len(run.latencies) - len(run.firsts)} streams "
                           "without a token")
    return run


def counted(upstream: str) -> dict[str, dict[str, int]]:
    return httpx.get(f"{upstream}/_count", timeout=10).json()  # type: ignore[no-any-return]


# --- the run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--token-ms", type=float, default=1.0,
                        help="the provider's pause between streamed tokens (ms)")
    parser.add_argument("--stream-rate", type=float, default=50,
                        help="streams (and embedding calls) per second")
    parser.add_argument("--ledger-rows", type=int, default=0,
                        help="earlier calls of the organization this month, in the ledger")
    args = parser.parse_args()
    use_wrk = shutil.which("wrk") is not None
    if not use_wrk:
        print("wrk not found (apt-get install wrk): the maximum rate is measured with a "
              "closed-loop asyncio client instead, which tires before wrk does", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "upstream_app.py").write_text(UPSTREAM, encoding="utf-8")
        up_port, hub_port = free_port(), free_port()
        provider_key = "sk-bench-" + secrets.token_hex(12)
        upstream_base = f"http://127.0.0.1:{up_port}"
        upstream = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "upstream_app:app", "--port", str(up_port),
             "--log-level", "error", "--no-access-log", "--lifespan", "off"], cwd=work,
            env={**os.environ, "AIBENCH_PROVIDER_KEY": provider_key,
                 "AIBENCH_TOKEN_MS": str(args.token_ms), "AIBENCH_TOKENS": str(TOKENS)},
            stdout=subprocess.DEVNULL, stderr=(work / "upstream.log").open("wb"))
        env = hub_env(work / "home")
        token = operator_token(env)
        hub = subprocess.Popen([DPGHUB, "serve", "--port", str(hub_port)], env=env,
                               stdout=subprocess.DEVNULL, stderr=(work / "hub.log").open("wb"))
        base = f"http://127.0.0.1:{hub_port}"
        try:
            wait_for(f"{upstream_base}/_count")
            wait_for(f"{base}/api/v1/health")
            key = provision(base, token, f"{upstream_base}/v1", provider_key)
            if args.ledger_rows:
                prefill(work / "home", args.ledger_rows)
            before = usage(base, token)
            direct = Target("direct", "127.0.0.1", up_port, "/v1", DIRECT_KEY, CHAT_MODEL,
                            EMBED_MODEL)
            through = Target("hub", "127.0.0.1", hub_port, "/ai/v1", key, CHAT, EMBED)
            check_answers(through)
            max_rate(through, 2, work, use_wrk)                    # warm up
            paced(through, "stream", args.stream_rate, 1)
            results = measure(direct, through, hub.pid, args, work, use_wrk)
            time.sleep(1.5)                # the ledger's writer runs every half second
            after = usage(base, token)
            provider = counted(upstream_base)["hub"]
        except BaseException:
            for log in ("hub.log", "upstream.log"):
                lines = (work / log).read_text(errors="replace").splitlines()
                print(f"--- the last lines of {log}:", *lines[-30:], sep="\n", file=sys.stderr)
            raise
        finally:
            hub.terminate()
            hub.wait(timeout=30)
            upstream.terminate()
            upstream.wait(timeout=10)
        stored, rows = ledger_in_database(work / "home")
    through_api = {k: after[k] - before[k] for k in after}
    stored = {k: v - before.get(k, 0) for k, v in stored.items()}
    report(results, provider, through_api, stored, rows, args, use_wrk)


def measure(direct: Target, through: Target, hub_pid: int, args: argparse.Namespace,
            work: Path, use_wrk: bool) -> dict[str, float]:
    seconds, rounds = args.seconds, args.rounds
    tool = "wrk" if use_wrk else "asyncio closed loop"
    maxima = []
    for round_ in range(1, rounds + 1):
        direct_rps, _ = max_rate(direct, seconds, work, use_wrk)
        cpu_before = cpu_seconds(hub_pid)
        hub_rps, made = max_rate(through, seconds, work, use_wrk)
        cpu_after = cpu_seconds(hub_pid)
        maxima.append((direct_rps, hub_rps, (cpu_after[0] - cpu_before[0]) / made * 1e6,
                       (cpu_after[1] - cpu_before[1]) / made * 1e6))
        print(f"round {round_}: max rate, non-streamed, {tool}, 32 connections: direct "
              f"{direct_rps:,.0f} calls/s, through the hub {hub_rps:,.0f} calls/s; hub CPU per "
              f"call {maxima[-1][2]:.0f} µs (its children {maxima[-1][3]:.0f} µs)", flush=True)
    direct_rps, hub_rps, hub_cpu, child_cpu = (statistics.median(column)
                                               for column in zip(*maxima, strict=True))
    rate = hub_rps / 2
    waits = []
    for round_ in range(1, rounds + 1):
        base = paced(direct, "chat", rate, seconds)
        via = paced(through, "chat", rate, seconds)
        waits.append((pct(base.latencies, .5), pct(base.latencies, .99),
                      pct(via.latencies, .5), pct(via.latencies, .99)))
        print(f"round {round_}: open loop at {rate:,.0f} calls/s, non-streamed: direct p50 "
              f"{waits[-1][0]:.2f} ms, p99 {waits[-1][1]:.2f} ms; through the hub p50 "
              f"{waits[-1][2]:.2f} ms, p99 {waits[-1][3]:.2f} ms; added p50 "
              f"{waits[-1][2] - waits[-1][0]:+.2f} ms, p99 {waits[-1][3] - waits[-1][1]:+.2f} "
              f"ms (client late p99 {base.late:.1f} / {via.late:.1f} ms)", flush=True)
    streams = []
    for round_ in range(1, rounds + 1):
        base = paced(direct, "stream", args.stream_rate, seconds)
        cpu_before = cpu_seconds(hub_pid)
        via = paced(through, "stream", args.stream_rate, seconds)
        cpu_after = cpu_seconds(hub_pid)
        streams.append((pct(base.firsts, .5), pct(base.firsts, .99), pct(base.latencies, .5),
                        pct(via.firsts, .5), pct(via.firsts, .99), pct(via.latencies, .5),
                        (cpu_after[0] - cpu_before[0]) / len(via.latencies) * 1e6))
        s = streams[-1]
        print(f"round {round_}: open loop at {args.stream_rate:,.0f} streams/s, {TOKENS} "
              f"tokens {args.token_ms:g} ms apart: first token direct p50 {s[0]:.2f} ms, p99 "
              f"{s[1]:.2f} ms, through the hub p50 {s[3]:.2f} ms, p99 {s[4]:.2f} ms (added "
              f"{s[3] - s[0]:+.2f} ms); whole stream p50 direct {s[2]:.2f} ms, through the "
              f"hub {s[5]:.2f} ms (added {s[5] - s[2]:+.2f} ms); hub CPU per stream "
              f"{s[6]:.0f} µs", flush=True)
    base = paced(direct, "embeddings", args.stream_rate, seconds)
    via = paced(through, "embeddings", args.stream_rate, seconds)
    print(f"open loop at {args.stream_rate:,.0f} embedding calls/s ({len(EMBED_INPUT)} inputs): "
          f"direct p50 {pct(base.latencies, .5):.2f} ms, through the hub "
          f"{pct(via.latencies, .5):.2f} ms (added "
          f"{pct(via.latencies, .5) - pct(base.latencies, .5):+.2f} ms)", flush=True)
    med = statistics.median
    return {"direct_rps": direct_rps, "hub_rps": hub_rps, "hub_cpu": hub_cpu,
            "child_cpu": child_cpu, "rate": rate,
            "direct_p50": med(w[0] for w in waits), "direct_p99": med(w[1] for w in waits),
            "added_p50": med(w[2] - w[0] for w in waits),
            "added_p99": med(w[3] - w[1] for w in waits),
            "direct_ttft": med(s[0] for s in streams),
            "added_ttft": med(s[3] - s[0] for s in streams),
            "added_ttft_p99": med(s[4] - s[1] for s in streams),
            "added_stream": med(s[5] - s[2] for s in streams),
            "stream_cpu": med(s[6] for s in streams),
            "added_embed": pct(via.latencies, .5) - pct(base.latencies, .5)}


def report(r: dict[str, float], provider: dict[str, int], through_api: dict[str, int],
           stored: dict[str, int], rows: list[str], args: argparse.Namespace,
           use_wrk: bool) -> None:
    tokens = ("input_tokens", "output_tokens")
    # the ledger also has a row for each call the provider never saw (a model listing, a
    # client gone before its request was read): its answered calls are what must match
    exact = (all(through_api[n] == provider[n] == stored[n] for n in tokens)
             and stored["answered"] == provider["calls"])
    print(f"medians of {args.rounds} rounds:")
    print(f"  max rate, non-streamed: direct {r['direct_rps']:,.0f} calls/s, through one hub "
          f"process {r['hub_rps']:,.0f} calls/s ({r['hub_rps'] / r['direct_rps']:.2f}× direct)"
          + ("" if use_wrk else " — closed-loop asyncio client, not wrk"))
    print(f"  hub CPU per call: {r['hub_cpu']:.0f} µs non-streamed (children "
          f"{r['child_cpu']:.0f} µs), {r['stream_cpu']:.0f} µs per {TOKENS}-token stream")
    print(f"  added at half the hub's maximum ({r['rate']:,.0f} calls/s): p50 "
          f"{r['added_p50']:+.2f} ms, p99 {r['added_p99']:+.2f} ms (direct p50 "
          f"{r['direct_p50']:.2f} ms, p99 {r['direct_p99']:.2f} ms)")
    print(f"  streamed at {args.stream_rate:g}/s: added time to first token p50 "
          f"{r['added_ttft']:+.2f} ms, p99 {r['added_ttft_p99']:+.2f} ms (direct p50 "
          f"{r['direct_ttft']:.2f} ms); added to the whole stream p50 {r['added_stream']:+.2f} "
          f"ms; embeddings added p50 {r['added_embed']:+.2f} ms")
    for label, figures in (("provider counted", provider), ("usage API", through_api),
                           ("ledger in the database after shutdown", stored)):
        answered = (f" ({figures['answered']:,} answered by the provider)"
                    if "answered" in figures else "")
        print(f"  {label:38} calls {figures['calls']:,}{answered}, input tokens "
              f"{figures['input_tokens']:,}, output tokens {figures['output_tokens']:,}")
    print("  the ledger's rows of this run: " + "; ".join(rows))
    goals = [("added p50, non-streamed, at half max", f"{r['added_p50']:+.2f} ms", "≤ 1 ms",
             r["added_p50"] <= 1),
            ("added p99, non-streamed, at half max", f"{r['added_p99']:+.2f} ms", "≤ 5 ms",
             r["added_p99"] <= 5),
            ("added time to first token, p50", f"{r['added_ttft']:+.2f} ms", "≤ 1 ms",
             r["added_ttft"] <= 1),
            ("non-streamed calls/s, one process", f"{r['hub_rps']:,.0f}", "≥ 2,000",
             r["hub_rps"] >= 2000),
            ("ledger tokens = provider's", "PASS" if exact else "FAIL", "exact", exact)]
    print(f"\n  {'goal':40} {'measured':>12}  {'target':9} met")
    for goal, measured, target, met in goals:
        print(f"  {goal:40} {measured:>12}  {target:9} {'yes' if met else 'NO'}")
    print(f"  anchor: {LITELLM}")
    print("reproduce: .venv/bin/python bench/ai_gateway.py " + " ".join(
        f"--{name.replace('_', '-')} {value:g}" if isinstance(value, float) else
        f"--{name.replace('_', '-')} {value}" for name, value in vars(args).items())
          + f"   (dpghub {_revision()}, {'wrk' if use_wrk else 'no wrk'}, "
            f"{os.cpu_count()} CPUs)")


def _revision() -> str:
    try:
        return subprocess.run(["git", "-C", str(Path(__file__).resolve().parent), "rev-parse",
                               "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "?"


if __name__ == "__main__":
    main()

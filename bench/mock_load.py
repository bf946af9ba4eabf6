"""What the mock benchmark sends and how it measures: valid 국세청 requests (POST /status and
/validate in turn, every body fresh: 사업자등록번호 with their check digit, dates, names),
wrk at saturation with a Lua script that writes those bodies itself, an open-loop asyncio
client at a set rate, and openapi-core judging sampled answers against the document."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import time
from collections import Counter
from pathlib import Path
from random import Random
from typing import Any

import httpx
from mock_servers import Server

from dpghub.testbed.mock.korean import business_number

JUDGE_HOST = "https://api.odcloud.kr"        # the document's first server
JUDGE_BASE = "/api/nts-businessman/v1"
NAMES = ["홍길동", "김민준", "이서연", "박지호", "최유진", "정하늘", "강도윤", "윤서아"]
FIRMS = ["(주)한빛소프트", "누리상사", "푸른들농원", "(주)테스트", "바다식품"]

WRK_SCRIPT = r"""-- made by bench/mock.py: POST /status and /validate in turn, every body fresh
local base = "%(base)s"
%(headers)s
wrk.headers["Content-Type"] = "application/json"
local names = {%(names)s}
local weights = {1, 3, 7, 1, 3, 7, 1, 3, 5}
local n = 0
local started = 0

function setup(thread)
  started = started + 1
  thread:set("seed", started)
end

function init(args)
  math.randomseed(seed * 7919 + os.time())   -- fresh bodies in every run: no answer is cached
end

local function bno()
  local head = string.format("%%03d%%02d%%04d", math.random(101, 899), math.random(1, 88),
                             math.random(0, 9999))
  local total = 0
  for i = 1, 9 do
    total = total + (head:byte(i) - 48) * weights[i]
  end
  total = total + math.floor((head:byte(9) - 48) * 5 / 10)
  return head .. ((10 - total %% 10) %% 10)
end

local function status_body()
  local numbers = {}
  for i = 1, math.random(1, 3) do numbers[i] = '"' .. bno() .. '"' end
  return '{"b_no":[' .. table.concat(numbers, ",") .. ']}'
end

local function validate_body()
  local date = string.format("%%04d%%02d%%02d", math.random(1980, 2024), math.random(1, 12),
                             math.random(1, 28))
  return '{"businesses":[{"b_no":"' .. bno() .. '","start_dt":"' .. date ..
         '","p_nm":"' .. names[math.random(#names)] .. '"}]}'
end

function request()
  n = n + 1
  if n %% 2 == 1 then
    return wrk.format("POST", base .. "/status", nil, status_body())
  end
  return wrk.format("POST", base .. "/validate", nil, validate_body())
end
"""


def wrk_script(server: Server, folder: Path) -> Path:
    path = folder / f"{re.sub(r'[^a-z]+', '-', server.name.lower())}.lua"
    headers = "\n".join(f'wrk.headers["{k}"] = "{v}"' for k, v in server.headers.items())
    path.write_text(WRK_SCRIPT % {
        "base": re.sub(r"^https?://[^/]+", "", server.base), "headers": headers,
        "names": ", ".join(f'"{name}"' for name in NAMES)}, encoding="utf-8")
    return path


def wrk(server: Server, script: Path, seconds: int, connections: int = 32) -> float:
    """Requests per second at saturation; every answer must be a 2xx."""
    host = re.match(r"^https?://[^/]+", server.base).group(0)  # type: ignore[union-attr]
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "-s", str(script),
                          host], capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{server.name}: {errors.group(1)} failed responses:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]


def bodies(count: int, seed: int) -> list[tuple[str, bytes]]:
    """`count` valid requests, /status and /validate in turn, each body different."""
    rng = Random(seed)
    made: list[tuple[str, bytes]] = []
    for i in range(count):
        if i % 2 == 0:
            body: dict[str, Any] = {"b_no": [business_number(rng)
                                             for _ in range(rng.randint(1, 3))]}
            made.append(("/status", json.dumps(body).encode()))
            continue
        business = {"b_no": business_number(rng), "p_nm": rng.choice(NAMES),
                    "start_dt": f"{rng.randint(1980, 2024)}{rng.randint(1, 12):02d}"
                                f"{rng.randint(1, 28):02d}"}
        if rng.random() < 0.5:
            business["b_nm"] = rng.choice(FIRMS)
        made.append(("/validate", json.dumps({"businesses": [business]},
                                             ensure_ascii=False).encode()))
    return made


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of the open-loop client: a request written whole,
    its answer read by Content-Length (both servers send one), the moment it ended kept."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.waiter: asyncio.Future[tuple[int, float]] | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0 or self.waiter is None:
            return
        length = LENGTH.search(self.buffer, 0, end)
        if length is None:
            self.waiter.set_exception(RuntimeError("an answer without Content-Length"))
            return
        total = end + 4 + int(length.group(1))
        if len(self.buffer) >= total:
            status = int(self.buffer[9:12])
            del self.buffer[:total]
            waiter, self.waiter = self.waiter, None
            waiter.set_result((status, time.perf_counter()))

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the server closed the connection"))

    def ask(self, request: bytes) -> asyncio.Future[tuple[int, float]]:
        self.waiter = asyncio.get_running_loop().create_future()
        assert self.transport is not None
        self.transport.write(request)
        return self.waiter


LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


async def open_loop(server: Server, rate: float, seconds: float, seed: int
                    ) -> tuple[list[float], int, float]:
    """A request every 1/rate s whatever the answers do, on keep-alive connections (an
    idle one, else a new one). Each latency counts from when the request was due, so a
    server that falls behind is charged for its queue (as wrk2 counts); also the answers
    that were not 200, and the client's own lateness (p99, ms). The client is a few dozen
    lines of asyncio rather than aiohttp: at a thousand requests a second aiohttp itself
    fell behind by half a second on this machine, and that was counted against the server."""
    host, port = re.match(r"^https?://([^:/]+):(\d+)", server.base).groups()  # type: ignore
    prefix = re.sub(r"^https?://[^/]+", "", server.base)
    extra = "".join(f"{k}: {v}\r\n" for k, v in server.headers.items())
    requests = [(f"POST {prefix}{path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}"
                 f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
                 ).encode() + body for path, body in bodies(int(rate * seconds), seed)]
    loop = asyncio.get_running_loop()
    idle: list[_Connection] = []

    async def connect() -> _Connection:
        _, connection = await loop.create_connection(_Connection, host, int(port))
        return connection

    idle.extend(await asyncio.gather(*(connect() for _ in range(16))))
    latencies: list[float] = []
    lateness: list[float] = []
    failed = 0

    async def one(due: float, request: bytes) -> None:
        nonlocal failed
        while idle and idle[-1].closed:
            idle.pop()
        connection = idle.pop() if idle else await connect()
        status, ended = await connection.ask(request)
        failed += status != 200
        latencies.append((ended - due) * 1000)
        idle.append(connection)

    tasks = []
    begin = time.perf_counter() + 0.05
    for i, request in enumerate(requests):
        due = begin + i / rate
        wait = due - time.perf_counter()
        if wait > 0:
            await asyncio.sleep(wait)
        lateness.append(max(0.0, -wait) * 1000)
        tasks.append(asyncio.create_task(one(due, request)))
    await asyncio.gather(*tasks)
    for connection in idle:
        if connection.transport is not None:
            connection.transport.close()
    lateness.sort()
    return latencies, failed, lateness[int(0.99 * (len(lateness) - 1))]


def validity(server: Server, api: Any, count: int, seed: int) -> tuple[int, int, Counter[str]]:
    """How many of `count` answers to valid requests are a 200 that openapi-core finds true
    to the document; the requests are checked too (a bench that sends bad ones proves
    nothing)."""
    from openapi_core.testing import MockRequest, MockResponse

    good = 0
    problems: Counter[str] = Counter()
    headers = {**server.headers, "Content-Type": "application/json"}
    with httpx.Client(timeout=10) as client:
        for path, body in bodies(count, seed):
            answer = client.post(server.base + path, content=body, headers=headers)
            request = MockRequest(JUDGE_HOST, "post", JUDGE_BASE + path, data=body,
                                  headers={"Authorization": "key"},
                                  content_type="application/json")
            sent_errors = list(api.iter_request_errors(request))
            if sent_errors:
                raise RuntimeError(f"the bench sent an invalid request: {sent_errors[0]}")
            media = answer.headers.get("content-type", "").split(";")[0].strip()
            response = MockResponse(answer.content, status_code=answer.status_code,
                                    headers=dict(answer.headers), content_type=media)
            errors = [_explain(e) for e in api.iter_response_errors(request, response)]
            if answer.status_code != 200:
                errors.insert(0, f"status {answer.status_code}")
            if errors:
                problems[f"{path}: {errors[0][:160]}"] += 1
            else:
                good += 1
    return good, count, problems


def _explain(error: BaseException) -> str:
    parts = [str(error)]
    cause = error.__cause__
    while cause is not None:
        parts.append(str(cause))
        details = getattr(cause, "schema_errors", None)
        if details:
            parts.extend(str(d.message) for d in details)
        cause = cause.__cause__
    return " — ".join(parts)

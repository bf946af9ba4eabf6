"""Gateway benchmark: an upstream on loopback, called directly and through one hub process.

The hub checks an API key, an approved production subscription, a rate limit that never
triggers (GCRA, in memory) and journals a call record per request before its answer ends
(`--journal-sync`: on the disk, with fdatasync; otherwise written to the OS), which its
evidence writer stores. wrk
(`apt-get install wrk`) drives the maximum rate with 32 connections; then an open-loop
asyncio client sends at half the hub's maximum rate to measure latency, and the difference
to the direct path is what the hub adds. Everything shares this machine's cores, so the
hub's figure is a floor. Each measurement runs `--rounds` times, direct and through the hub
in turn, and the medians are reported. Goals: ≥ 3,000 requests/s through one hub process;
added p50 ≤ 1 ms, p99 ≤ 5 ms.
    .venv/bin/python bench/gateway.py [--seconds 10] [--rounds 3] [--journal-sync]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from served import DPGHUB, free_port  # noqa: E402

LOOPBACK = "127.0.0.0/8"     # the upstream's network, allowed explicitly
UPSTREAM = '''
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = '{"resultCode":"00","items":[{"locdate":20210301,"dateName":"삼일절"}]}'.encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
'''


def wait_for(url: str) -> None:
    for _ in range(300):
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


def provision(home: Path, upstream: str) -> str:
    os.environ["DPGHUB_HOME"] = str(home)
    subprocess.run([DPGHUB, "init", "--admin-password", "bench-password-1"], check=True,
                   capture_output=True, env={**os.environ})
    from dpghub.catalog import schemas as catalog_schemas
    from dpghub.catalog import service as catalog
    from dpghub.config import Settings
    from dpghub.core.db import make_engine, make_session_factory, transaction
    from dpghub.core.netcheck import NetworkPolicy
    from dpghub.gateway import schemas as gw
    from dpghub.gateway import service as gateway
    from dpghub.identity import schemas, service
    from dpghub.identity.policy import CLI

    settings = Settings(home=home).prepare()
    factory = make_session_factory(make_engine(settings.database_url or ""))
    spec = {"openapi": "3.0.3", "info": {"title": "특일", "version": "1"},
            "paths": {"/getRestDeInfo": {"get": {"operationId": "getRestDeInfo",
                                                 "responses": {"200": {"description": "ok"}}}}}}
    with transaction(factory) as session:
        kasi = service.create_org(session, actor=CLI, data=schemas.OrganizationCreate(
            slug="kasi", name_ko="한국천문연구원", name_en="KASI", kind="research"))
        catalog.register(session, actor=CLI, org=kasi, networks=NetworkPolicy(LOOPBACK),
                         data=catalog_schemas.ServiceCreate(
            slug="spcde", title_ko="특일 정보", upstream_url=upstream, openapi=spec))
        company = service.create_org(session, actor=CLI, data=schemas.OrganizationCreate(
            slug="hanbit", name_ko="한빛", name_en="Hanbit", kind="company"))
        app, key = gateway.create_app(session, actor=CLI, org=company,
                                      data=gw.AppCreate(name="bench"))
        sub = gateway.request_subscription(session, actor=CLI, app=app, data=gw.
                                           SubscriptionCreate(service="kasi/spcde",
                                                              plan="production", purpose="bench"))
        gateway.decide(session, actor=CLI, sub=sub, verdict="approve",
                       data=gw.Decision(rate_per_second=10_000, daily_quota=1_000_000_000))
    return key


def wrk(url: str, seconds: int, key: str | None, *, delay_ms: float | None = None,
        connections: int = 32, workdir: Path | None = None) -> tuple[float, dict[str, float]]:
    """Requests per second, and latency percentiles (ms). With `delay_ms`, each connection
    waits that long after an answer before its next request (wrk's `delay()`)."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if key:
        command[1:1] = ["-H", f"X-API-Key: {key}"]
    if delay_ms is not None:
        assert workdir is not None
        script = workdir / "paced.lua"
        script.write_text(f"function delay() return {delay_ms:.3f} end\n")
        command[1:1] = ["-s", str(script)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{errors.group(1)} failed responses:\n{out}")
    latency = {}
    for label, value, unit in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out,
                                         re.MULTILINE):
        latency[label] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    return rps, latency


def at_rate(url: str, seconds: int, key: str | None, rate: float, workdir: Path,
            connections: int = 16) -> tuple[float, dict[str, float]]:
    """wrk held near `rate`: a connection's cycle is its delay plus the answer's latency, so
    short runs measure the cycle and the delay is shortened by the rest of it (twice: the
    first run's latency is the least settled)."""
    target_ms = connections * 1000 / rate
    delay = target_ms
    for _ in range(2):
        got, _ = wrk(url, 3, key, delay_ms=delay, connections=connections, workdir=workdir)
        delay = max(0.0, target_ms - (connections * 1000 / got - delay))
    return wrk(url, seconds, key, delay_ms=delay, connections=connections, workdir=workdir)


async def paced(url: str, rate: float, seconds: float, key: str | None) -> list[float]:
    """Open loop: a request every 1/rate s whatever the answers do; each one's latency."""
    headers = {"X-API-Key": key} if key else {}
    latencies: list[float] = []
    connector = aiohttp.TCPConnector(limit=64)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one() -> None:
            started = time.perf_counter()
            async with session.get(url, headers=headers) as answer:
                await answer.read()
                if answer.status != 200:
                    raise RuntimeError(f"status {answer.status}")
            latencies.append((time.perf_counter() - started) * 1000)

        tasks = []
        begin = time.perf_counter()
        total = int(rate * seconds)
        for i in range(total):
            delay = begin + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
    return latencies


def cpu_seconds(pid: int) -> tuple[float, float]:
    """CPU time (user + system) of a process and of its children (the evidence writer)."""
    tick = os.sysconf("SC_CLK_TCK")

    def used(stat: Path) -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick

    own = used(Path(f"/proc/{pid}/stat"))
    children = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    children += used(entry / "stat")
            except (OSError, ValueError):
                continue
    return own, children


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=10, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--journal-sync", action="store_true",
                        help="the hub with DPGHUB_GATEWAY_JOURNAL_SYNC=true")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "upstream_app.py").write_text(UPSTREAM)
        up_port, hub_port = free_port(), free_port()
        upstream = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "upstream_app:app", "--port", str(up_port),
             "--log-level", "error", "--no-access-log"], cwd=work,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        direct = f"http://127.0.0.1:{up_port}/svc/getRestDeInfo"
        wait_for(direct)
        key = provision(work / "home", f"http://127.0.0.1:{up_port}/svc")
        hub = subprocess.Popen([DPGHUB, "serve", "--port", str(hub_port)],
                               env={**os.environ, "DPGHUB_HOME": str(work / "home"),
                                    "DPGHUB_GATEWAY_ALLOWED_NETWORKS": LOOPBACK,
                                    "DPGHUB_GATEWAY_JOURNAL_SYNC": str(args.journal_sync)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        through = f"http://127.0.0.1:{hub_port}/gw/kasi/spcde/getRestDeInfo"
        try:
            wait_for(f"http://127.0.0.1:{hub_port}/api/v1/health")
            check = httpx.get(through, headers={"X-API-Key": key})
            assert check.status_code == 200, check.text
            wrk(through, 2, key)                                   # warm up
            # rounds of each measurement, direct and through the hub in turn, and their
            # medians: this machine's speed drifts by tens of percent within minutes
            maxima = []
            for round_ in range(1, args.rounds + 1):
                direct_rps, _ = wrk(direct, args.seconds, None)
                before = cpu_seconds(hub.pid)
                hub_rps, _ = wrk(through, args.seconds, key)
                after = cpu_seconds(hub.pid)
                calls = hub_rps * args.seconds
                maxima.append((direct_rps, hub_rps, (after[0] - before[0]) / calls * 1e6,
                               (after[1] - before[1]) / calls * 1e6))
                print(f"round {round_}: max rate, 32 connections: direct {direct_rps:,.0f} "
                      f"req/s, through the hub {hub_rps:,.0f} req/s; CPU per call: hub "
                      f"{maxima[-1][2]:.0f} µs, evidence writer {maxima[-1][3]:.0f} µs",
                      flush=True)
            direct_rps, hub_rps, hub_cpu, writer_cpu = (statistics.median(column)
                                                        for column in zip(*maxima, strict=True))
            rate = hub_rps / 2
            added = []
            for round_ in range(1, args.rounds + 1):
                _, base = at_rate(direct, args.seconds, None, rate, work)
                got, via = at_rate(through, args.seconds, key, rate, work)
                added.append((via["50"] - base["50"], via["99"] - base["99"]))
                print(f"round {round_}: at {got:,.0f} req/s, 16 connections: direct p50 "
                      f"{base['50']:.2f} ms, p99 {base['99']:.2f} ms; through the hub p50 "
                      f"{via['50']:.2f} ms, p99 {via['99']:.2f} ms; added p50 "
                      f"{added[-1][0]:+.2f} ms, p99 {added[-1][1]:+.2f} ms", flush=True)
            p50 = statistics.median(a for a, _ in added)
            p99 = statistics.median(b for _, b in added)
            print(f"medians of {args.rounds} rounds:")
            print(f"  max rate: direct {direct_rps:,.0f} req/s, through one hub process "
                  f"{hub_rps:,.0f} req/s ({hub_rps / direct_rps:.2f}× direct; goal ≥ 3,000)")
            print(f"  CPU per call: hub process {hub_cpu:.0f} µs, its evidence writer "
                  f"{writer_cpu:.0f} µs")
            print(f"  added by the hub at half its maximum rate ({rate:,.0f} req/s): p50 "
                  f"{p50:+.2f} ms (goal ≤ 1), p99 {p99:+.2f} ms (goal ≤ 5)")
            calm = asyncio.run(paced(through, 200, 5, key))
            print(f"  one asyncio client at 200 req/s through the hub: p50 {pct(calm, .5):.2f} ms,"
                  f" p99 {pct(calm, .99):.2f} ms, mean {statistics.fmean(calm):.2f} ms")
        finally:
            hub.terminate()
            hub.wait(timeout=30)
            upstream.terminate()
            upstream.wait(timeout=10)
        from sqlalchemy import func, select

        from dpghub.config import Settings
        from dpghub.core.db import make_engine
        from dpghub.gateway.models import CallRecord

        engine = make_engine(Settings(home=work / "home").prepare().database_url or "")
        with engine.connect() as connection:
            records = connection.execute(select(func.count(CallRecord.id))).scalar_one()
        print(f"call records written (none lost at shutdown): {records:,}")


if __name__ == "__main__":
    main()

"""Mock benchmark: the hub's sandbox mock against Stoplight Prism on the same real document.

Both serve 국세청's data.go.kr Swagger 2.0 document (../shared/data/kr, or
DPGHUB_SHARED_DATA) from one process on loopback: Prism 5 (`prism mock`, installed by npm
into /tmp/dpghub-bench-prism, never into the project) and `dpghub serve` with a sandbox
project's key (limits that never trigger; the request inspector recording every call, as it
does in production). Every request is a valid POST /status or /validate with a fresh body.

1. requests/s at saturation: wrk, 2 threads, 32 connections, a Lua script writing the
   bodies; CPU per call of each server process;
2. p50/p99 latency at half of each one's own maximum rate, and at one calm rate for all
   (`--calm-rate`): an open-loop asyncio client on keep-alive connections, latency counted
   from when each request was due;
3. the share of answers that are a 200 openapi-core finds true to the document (the
   document as the catalogue converts it to OpenAPI 3), `--samples` answers each.

Everything shares this machine's cores (wrk and the client too), so both figures are
floors; the servers run in turn, `--rounds` times, and the medians are reported. The issue's
goal: ≥ 3× Prism's throughput with 100 % valid answers.
    .venv/bin/python bench/mock.py [--seconds 10] [--rounds 3] [--samples 200]
                                   [--prism-dynamic] [--prism-silent]
    .venv/bin/python bench/mock.py --in-process [...]      the engine alone (mock_engine.py)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import cpu_seconds, pct, wait_for  # noqa: E402
from mock_load import open_loop, validity, wrk, wrk_script  # noqa: E402
from mock_servers import Server, nts_spec_path, start_hub, start_prism  # noqa: E402


def saturate(servers: list[Server], scripts: dict[str, Path], args: argparse.Namespace
             ) -> dict[str, tuple[float, float]]:
    """Median requests/s and CPU µs per call of each server, over the rounds."""
    seen: dict[str, list[tuple[float, float]]] = {s.name: [] for s in servers}
    for round_ in range(1, args.rounds + 1):
        line = []
        for server in servers:
            before = sum(cpu_seconds(server.process.pid))
            rps = wrk(server, scripts[server.name], args.seconds)
            used = sum(cpu_seconds(server.process.pid)) - before
            seen[server.name].append((rps, used / (rps * args.seconds) * 1e6))
            line.append(f"{server.name} {rps:,.0f} req/s ({seen[server.name][-1][1]:.0f} µs "
                        f"CPU/call)")
        print(f"round {round_}: saturation, 32 connections: " + ", ".join(line), flush=True)
    return {name: (statistics.median(r for r, _ in runs), statistics.median(c for _, c in runs))
            for name, runs in seen.items()}


def latency(servers: list[Server], rates: dict[str, float], args: argparse.Namespace,
            label: str, seed: int) -> dict[str, tuple[float, float]]:
    """Median p50 and p99 (ms) of each server at its rate."""
    seen: dict[str, list[tuple[float, float]]] = {s.name: [] for s in servers}
    for round_ in range(1, args.rounds + 1):
        line = []
        for server in servers:
            rate = rates[server.name]
            got, failed, late = asyncio.run(open_loop(server, rate, args.seconds, seed + round_))
            if failed:
                raise RuntimeError(f"{server.name}: {failed} answers were not 200")
            seen[server.name].append((pct(got, .5), pct(got, .99)))
            line.append(f"{server.name} at {rate:,.0f} req/s p50 {pct(got, .5):.2f} ms, "
                        f"p99 {pct(got, .99):.2f} ms (client late p99 {late:.1f} ms)")
        print(f"round {round_}: open loop, {label}: " + "; ".join(line), flush=True)
    return {name: (statistics.median(a for a, _ in runs), statistics.median(b for _, b in runs))
            for name, runs in seen.items()}


def judge(spec: Path) -> object:
    from openapi_core import OpenAPI

    from dpghub.catalog.openapi import normalize

    return OpenAPI.from_dict(normalize(json.loads(spec.read_text(encoding="utf-8"))))


def main() -> None:
    if "--in-process" in sys.argv:
        from mock_engine import main as in_process
        in_process([a for a in sys.argv[1:] if a != "--in-process"])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=10, help="length of each run")
    parser.add_argument("--rounds", type=int, default=3, help="runs of each measurement")
    parser.add_argument("--samples", type=int, default=200, help="answers judged, per server")
    parser.add_argument("--calm-rate", type=float, default=50,
                        help="a rate every server keeps up with, for latency at equal load")
    parser.add_argument("--prism-dynamic", action="store_true",
                        help="also Prism with --dynamic (an answer generated for each call)")
    parser.add_argument("--prism-silent", action="store_true",
                        help="also Prism with its log silenced (-v silent)")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    if not shutil.which("npm"):
        sys.exit("npm is needed to install Prism")
    spec = nts_spec_path()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        servers = [start_hub(work, spec), start_prism(spec)]
        if args.prism_dynamic:
            servers.append(start_prism(spec, dynamic=True))
        if args.prism_silent:
            servers.append(start_prism(spec, silent=True))
        try:
            for server in servers:
                wait_for(server.base.split("/sandbox")[0] + "/")
            scripts = {s.name: wrk_script(s, work) for s in servers}
            api = judge(spec)
            valid = {s.name: validity(s, api, args.samples, 99) for s in servers}
            for server in servers:                                # warm up
                wrk(server, scripts[server.name], 3)
            print(f"Prism {servers[1].version}, DPG Hub {servers[0].version}; {spec.name}",
                  flush=True)
            maxima = saturate(servers, scripts, args)
            waits = latency(servers, {name: rps / 2 for name, (rps, _) in maxima.items()},
                            args, "half of each one's maximum", 0)
            calm = latency(servers, {s.name: args.calm_rate for s in servers}, args,
                           "the same calm rate", 100)
        finally:
            for server in servers:
                server.process.terminate()
                server.process.wait(timeout=30)
    report([s.name for s in servers], maxima, waits, calm, valid, args)


def report(names: list[str], maxima: dict[str, tuple[float, float]],
           waits: dict[str, tuple[float, float]], calm: dict[str, tuple[float, float]],
           valid: dict[str, Any], args: argparse.Namespace) -> None:
    print(f"medians of {args.rounds} rounds:")
    for name in names:
        rps, cpu = maxima[name]
        p50, p99 = waits[name]
        good, total, _ = valid[name]
        print(f"  {name:14} {rps:7,.0f} req/s, {cpu:5.0f} µs CPU/call; at half its maximum "
              f"({rps / 2:,.0f} req/s) p50 {p50:.2f} ms, p99 {p99:.2f} ms; valid answers "
              f"{good}/{total} ({good / total:.0%}); at {args.calm_rate:,.0f} req/s p50 "
              f"{calm[name][0]:.2f} ms, p99 {calm[name][1]:.2f} ms")
    hub, hub_wait = maxima["hub"], waits["hub"]
    for name in names[1:]:
        print(f"  hub/{name}: throughput {hub[0] / maxima[name][0]:.2f}× (goal ≥ 3×), CPU per "
              f"call {hub[1] / maxima[name][1]:.2f}×, latency at half of each one's maximum "
              f"p50 {hub_wait[0] / waits[name][0]:.2f}×, p99 {hub_wait[1] / waits[name][1]:.2f}×; "
              f"at {args.calm_rate:,.0f} req/s p50 {calm['hub'][0] / calm[name][0]:.2f}×, p99 "
              f"{calm['hub'][1] / calm[name][1]:.2f}×")
    for name in names:
        for problem, count in valid[name][2].most_common(5):
            print(f"  {name}, invalid: {count}× {problem}")


if __name__ == "__main__":
    main()

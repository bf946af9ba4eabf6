"""Mock benchmark: the hub's sandbox mock against Stoplight Prism on the same real document.

Both serve 국세청's data.go.kr Swagger 2.0 document (../shared/data/kr, or
DPGHUB_SHARED_DATA) from one process on loopback: Prism 5 (`prism mock`, installed by npm
into /tmp/dpghub-bench-prism, never into the project) and `dpghub serve` with a sandbox
project's key (limits that never trigger; the request inspector recording every call, as it
does in production). Every request is a valid POST /status or /validate with a fresh body.

1. requests/s at saturation: wrk, 2 threads, 32 connections, a Lua script writing the
   bodies; CPU per call of each server process;
2. p50/p99 latency at half of each one's own maximum rate: an open-loop asyncio client,
   latency counted from when each request was due;
3. the share of answers that are a 200 openapi-core finds true to the document (the
   document as the catalogue converts it to OpenAPI 3), `--samples` answers each.

Everything shares this machine's cores (wrk and the client too), so both figures are
floors; the servers run in turn, `--rounds` times, and the medians are reported. The issue's
goal: ≥ 3× Prism's throughput with 100 % valid answers.
    .venv/bin/python bench/mock.py [--seconds 10] [--rounds 3] [--samples 200]
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


def latency(servers: list[Server], maxima: dict[str, float], args: argparse.Namespace
            ) -> dict[str, tuple[float, float]]:
    """Median p50 and p99 (ms) of each server at half its own maximum rate."""
    seen: dict[str, list[tuple[float, float]]] = {s.name: [] for s in servers}
    for round_ in range(1, args.rounds + 1):
        line = []
        for server in servers:
            rate = maxima[server.name] / 2
            got, failed, late = asyncio.run(open_loop(server, rate, args.seconds, round_))
            if failed:
                raise RuntimeError(f"{server.name}: {failed} answers were not 200")
            seen[server.name].append((pct(got, .5), pct(got, .99)))
            line.append(f"{server.name} at {rate:,.0f} req/s p50 {pct(got, .5):.2f} ms, "
                        f"p99 {pct(got, .99):.2f} ms (client late ≤ {late:.1f} ms)")
        print(f"round {round_}: open loop: " + "; ".join(line), flush=True)
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
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    if not shutil.which("npm"):
        sys.exit("npm is needed to install Prism")
    spec = nts_spec_path()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        servers = [start_hub(work, spec), start_prism(spec)]
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
            waits = latency(servers, {name: rps for name, (rps, _) in maxima.items()}, args)
        finally:
            for server in servers:
                server.process.terminate()
                server.process.wait(timeout=30)
    hub, prism = maxima["hub"], maxima["Prism"]
    print(f"medians of {args.rounds} rounds:")
    print(f"  saturation: hub {hub[0]:,.0f} req/s, Prism {prism[0]:,.0f} req/s — "
          f"{hub[0] / prism[0]:.2f}× Prism (goal ≥ 3×)")
    print(f"  CPU per call: hub {hub[1]:.0f} µs, Prism {prism[1]:.0f} µs "
          f"({prism[1] / hub[1]:.2f}× less for the hub)")
    for name in ("hub", "Prism"):
        p50, p99 = waits[name]
        print(f"  {name} at half its maximum ({maxima[name][0] / 2:,.0f} req/s): "
              f"p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    print(f"  latency hub/Prism, each at half its own maximum: p50 "
          f"{waits['hub'][0] / waits['Prism'][0]:.2f}, p99 "
          f"{waits['hub'][1] / waits['Prism'][1]:.2f}")
    for name in ("hub", "Prism"):
        good, total, problems = valid[name]
        print(f"  valid answers, {name}: {good}/{total} ({good / total:.0%}; goal 100 %)")
        for problem, count in problems.most_common(5):
            print(f"    {count}× {problem}")


if __name__ == "__main__":
    main()

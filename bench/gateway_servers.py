"""The gateway under two ASGI servers, side by side: uvicorn (`dpghub serve`) and granian.

The performance issue asked whether a faster server would cut the hub's CPU per gateway call.
This runs the set-up of `gateway.py` (an upstream on loopback, a key with an approved
subscription), then each server in turn for a few rounds under the same wrk load, and
prints requests/s and the CPU time per call of the server's whole process tree (granian's
worker is a child of its supervisor; the evidence writer is a child of the hub in both).

granian is not a dependency of the hub: install it into a throw-away folder and name it:
    .venv/bin/pip install --target /tmp/granian granian
    .venv/bin/python bench/gateway_servers.py --granian /tmp/granian [--seconds 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from gateway import LOOPBACK, UPSTREAM, provision, wait_for, wrk  # noqa: E402
from served import DPGHUB, free_port  # noqa: E402


def tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of a process and all of its descendants."""
    tick = os.sysconf("SC_CLK_TCK")
    children: dict[int, list[tuple[int, float]]] = {}
    own = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used = (int(fields[11]) + int(fields[12])) / tick
        children.setdefault(int(fields[1]), []).append((int(entry.name), used))
        if int(entry.name) == pid:
            own = used

    def below(parent: int) -> float:
        return sum(used + below(child) for child, used in children.get(parent, []))

    return own + below(pid)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--granian", required=True, type=Path,
                        help="a folder granian was installed into (pip install --target)")
    parser.add_argument("--seconds", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    if not (args.granian / "granian").is_dir():
        sys.exit(f"no granian in {args.granian}: pip install --target {args.granian} granian")
    servers = {
        "uvicorn (dpghub serve)": lambda port: [DPGHUB, "serve", "--port", str(port)],
        "granian (ASGI, uvloop)": lambda port: [
            sys.executable, "-m", "granian", "--interface", "asgi", "--factory", "--port",
            str(port), "--no-ws", "--workers", "1", "--loop", "uvloop", "--log-level",
            "error", "dpghub.app:serve_app"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "upstream_app.py").write_text(UPSTREAM)
        up_port = free_port()
        upstream = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "upstream_app:app", "--port", str(up_port),
             "--log-level", "error", "--no-access-log"], cwd=work,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
        try:
            wait_for(f"http://127.0.0.1:{up_port}/svc/getRestDeInfo")
            key = provision(work / "home", f"http://127.0.0.1:{up_port}/svc")
            env = {**os.environ, "DPGHUB_HOME": str(work / "home"),
                   "DPGHUB_GATEWAY_ALLOWED_NETWORKS": LOOPBACK,
                   "PYTHONPATH": os.pathsep.join(
                       p for p in (str(args.granian), os.environ.get("PYTHONPATH")) if p)}
            for round_ in range(1, args.rounds + 1):
                for name, command in servers.items():   # in turn: the same moments of the day
                    port = free_port()
                    hub = subprocess.Popen(command(port), env=env, stdout=subprocess.DEVNULL,
                                           stderr=subprocess.DEVNULL)
                    try:
                        wait_for(f"http://127.0.0.1:{port}/api/v1/health")
                        through = f"http://127.0.0.1:{port}/gw/kasi/spcde/getRestDeInfo"
                        wrk(through, 2, key)                       # warm up
                        before = tree_cpu(hub.pid)
                        rps, _ = wrk(through, args.seconds, key)
                        per_call = (tree_cpu(hub.pid) - before) / (rps * args.seconds) * 1e6
                    finally:
                        hub.terminate()
                        hub.wait(timeout=30)
                    results[name].append((rps, per_call))
                    print(f"round {round_}: {name}: {rps:,.0f} req/s, {per_call:.0f} µs of CPU "
                          "per call", flush=True)
        finally:
            upstream.terminate()
            upstream.wait(timeout=10)
    print(f"medians of {args.rounds} rounds:")
    for name, rows in results.items():
        print(f"  {name}: {statistics.median(r for r, _ in rows):,.0f} req/s, "
              f"{statistics.median(c for _, c in rows):.0f} µs of CPU per call")


if __name__ == "__main__":
    main()

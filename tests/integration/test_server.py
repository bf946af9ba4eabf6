"""A real `dpghub serve` process on loopback, with and without the machine's Redis."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL, unavailable

DPGHUB = str(Path(sys.executable).parent / "dpghub")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def start(home: Path, **env: str) -> Iterator[str]:
    environment = {**os.environ, "DPGHUB_HOME": str(home), **env}
    subprocess.run([DPGHUB, "init", "--admin-password", "operator-pass-1"], env=environment,
                   check=True, capture_output=True)
    port = free_port()
    process = subprocess.Popen([DPGHUB, "serve", "--port", str(port)], env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                get(base + "/api/v1/health")
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.stdout else ""
                    raise RuntimeError(f"the hub did not start: {output}") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def redis_reachable() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


def test_ready_checks_the_configured_redis(tmp_path: Path) -> None:
    if not redis_reachable():
        unavailable(f"Redis is not reachable at {REDIS_URL}")
    for base in start(tmp_path, DPGHUB_REDIS_URL=REDIS_URL):
        status, body = get(base + "/api/v1/ready")
        assert status == 200
        assert body["checks"] == {"database": "ok", "redis": "ok"}


def test_ready_is_503_when_redis_is_down_but_health_still_answers(tmp_path: Path) -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    for base in start(tmp_path, DPGHUB_REDIS_URL=dead):
        status, body = get(base + "/api/v1/ready")
        assert status == 503 and body["status"] == "not ready"
        assert body["checks"]["redis"].startswith("error")
        assert get(base + "/api/v1/health")[0] == 200


def test_request_id_and_problem_over_real_http(tmp_path: Path) -> None:
    for base in start(tmp_path):
        request = urllib.request.Request(base + "/api/v1/me",
                                         headers={"X-Request-Id": "abcdef0123456789"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=5)
        assert refused.value.code == 401
        assert refused.value.headers["X-Request-Id"] == "abcdef0123456789"
        assert refused.value.headers["Content-Type"] == "application/problem+json"

"""A real `dpghub serve` process on loopback, with and without the machine's Redis."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import REDIS_URL, unavailable
from tests.support.loopback import free_port
from tests.support.server import DPGHUB, get, provision_gateway, start


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


def test_a_gateway_answer_over_real_http_has_one_date_and_hides_the_upstream_server(
        tmp_path: Path) -> None:
    """uvicorn writes Date and Server itself: the upstream's copies must not be added to them
    (two Date fields break clients; the provider's Server field says what it runs)."""
    from tests.support.upstream import kasi_file, serve

    if not kasi_file().exists():
        unavailable(f"the KASI responses are not at {kasi_file()}")
    with serve() as (upstream_url, _):
        for base in start(tmp_path):
            key = provision_gateway(tmp_path, upstream_url)
            address = base.removeprefix("http://")
            connection = http.client.HTTPConnection(address, timeout=10)
            connection.request("GET", f"/gw/kasi/spcde/getRestDeInfo?serviceKey={key}")
            answer = connection.getresponse()
            body = answer.read()
            assert answer.status == 200, body
            assert body == kasi_file().read_bytes()
            names = [name.lower() for name, _ in answer.getheaders()]
            assert names.count("date") == 1
            assert "server" not in names
            assert names.count("content-length") == 1
            assert answer.getheader("X-Hub-Request-Id")
            connection.close()


def read_to_end(connection: socket.socket) -> bytes:
    """What the hub sends until it closes (or resets) the connection."""
    received = b""
    while True:
        try:
            piece = connection.recv(65536)
        except ConnectionResetError:
            return received
        if not piece:
            return received
        received += piece


def test_heads_beyond_the_limits_get_431_and_a_huge_one_is_cut_off(tmp_path: Path) -> None:
    for base in start(tmp_path):
        address = ("127.0.0.1", int(base.rsplit(":", 1)[1]))
        fields = b"".join(b"X-Field-%d: %d\r\n" % (n, n) for n in range(2000))
        for head in (fields, b"X-Large: " + b"a" * 100_000 + b"\r\n"):
            with socket.create_connection(address, timeout=10) as connection:
                connection.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: hub\r\n" + head
                                   + b"\r\n")
                answer = read_to_end(connection)
            assert answer.startswith(b"HTTP/1.1 431 Request Header Fields Too Large\r\n")
        # a 64 MB header field: the hub stops reading long before it has all of it
        sent = 0
        with socket.create_connection(address, timeout=10) as connection:
            connection.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: hub\r\nX-Big: ")
            with pytest.raises(OSError):              # reset, or the pipe broken
                while sent < 64 << 20:
                    connection.sendall(b"a" * 65536)
                    sent += 65536
        assert sent < 16 << 20
        assert get(base + "/api/v1/health")[0] == 200   # and it serves the others as before


def test_a_head_sent_line_by_line_too_slowly_gets_408(tmp_path: Path) -> None:
    for base in start(tmp_path, DPGHUB_HTTP_HEAD_TIMEOUT_SECONDS="0.5"):
        address = ("127.0.0.1", int(base.rsplit(":", 1)[1]))
        with socket.create_connection(address, timeout=0.1) as connection:
            connection.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: hub\r\n")
            answer = b""
            for n in range(200):                      # a line every 0.1 s: never finished
                connection.sendall(b"X-Slow-%d: 1\r\n" % n)
                try:
                    answer = connection.recv(65536)
                except TimeoutError:
                    continue
                break
            connection.settimeout(10)
            answer += read_to_end(connection)
        assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert get(base + "/api/v1/health")[0] == 200


def test_several_worker_processes_start_and_stay(tmp_path: Path) -> None:
    """`dpghub serve --workers 2` as the scale-out guide runs it: both workers load the hub
    and answer (uvicorn's 5 s health check used to restart them forever on a loaded machine)."""
    environment = {**os.environ, "DPGHUB_HOME": str(tmp_path)}
    subprocess.run([DPGHUB, "init", "--admin-password", "operator-pass-1"], env=environment,
                   check=True, capture_output=True)
    port, log = free_port(), tmp_path / "serve.log"
    with log.open("wb") as output:
        process = subprocess.Popen([DPGHUB, "serve", "--port", str(port), "--workers", "2"],
                                   env=environment, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while log.read_text().count("Application startup complete") < 2:
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        for _ in range(20):
            assert get(f"http://127.0.0.1:{port}/api/v1/health")[0] == 200
        text = log.read_text()
        assert "died" not in text.lower() and "timeout" not in text.lower(), text
    finally:
        process.terminate()
        process.wait(timeout=30)

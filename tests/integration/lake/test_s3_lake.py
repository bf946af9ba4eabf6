"""The lake on an S3-compatible object store works the same (a real S3 server on loopback)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import build_hub, unavailable
from tests.support.lake import LIBRARY, Lake


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError:
        unavailable("moto[server] is not installed (the test extra installs it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p",
                               str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        import boto3

        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="test",
                              aws_secret_access_key="test", region_name="us-east-1")
        deadline = time.monotonic() + 30
        while True:
            try:
                client.create_bucket(Bucket="hub-lake")
                break
            except Exception:
                assert time.monotonic() < deadline, "the S3 server did not start"
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def s3_lake(tmp_path: Path, sqlite_url: str, s3_endpoint: str, kr: Path) -> Iterator[Lake]:
    for hub in build_hub(tmp_path, sqlite_url, lake_uri=f"s3://hub-lake/{tmp_path.name}",
                         s3_endpoint_url=s3_endpoint, s3_access_key_id="test",
                         s3_secret_access_key="test", s3_region="us-east-1"):
        yield Lake(hub)


def test_ingest_read_time_travel_and_raw_on_s3(s3_lake: Lake) -> None:
    import boto3

    s3_lake.create("libraries")
    first = s3_lake.ingest_ok("libraries", LIBRARY)
    assert first["result"]["row_count"] == 3_517
    assert s3_lake.types("libraries")["열람좌석수"] == "integer"
    s3_lake.ingest_ok("libraries", ("more.csv", "도서관명,새열\n새 도서관,1\n".encode("cp949")))
    page = s3_lake.rows("libraries", 도서관명="새 도서관").json()
    assert page["total"] == 1 and page["rows"][0]["새열"] == 1
    assert s3_lake.rows("libraries", version=1).json()["total"] == 3_517
    csv = s3_lake.rows("libraries", format="csv").content.decode("utf-8-sig")
    assert csv.count("\n") == 3_519
    profile = s3_lake.hub.client.get("/api/v1/datasets/molit/libraries/profile").json()
    assert profile["rows"] == 3_518
    sha = s3_lake.hub.client.get("/api/v1/datasets/molit/libraries/versions").json()[-1][
        "source_files"][0]["sha256"]
    raw = s3_lake.hub.client.get(f"/api/v1/datasets/molit/libraries/raw/{sha}",
                                 headers=s3_lake.auth)
    assert raw.content == LIBRARY.read_bytes()
    keys = [o["Key"] for o in boto3.client(
        "s3", endpoint_url=s3_lake.hub.settings.s3_endpoint_url, aws_access_key_id="test",
        aws_secret_access_key="test", region_name="us-east-1").list_objects_v2(
        Bucket="hub-lake")["Contents"]]
    assert any("/raw/" in k for k in keys) and any("_delta_log" in k for k in keys)

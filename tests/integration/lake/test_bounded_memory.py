"""A file several times larger than the job's memory limit still ingests (batches, spills)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import build_hub
from tests.integration.lake.conftest import Lake
from tests.integration.lake.test_crash_recovery import _big_cp949


@pytest.fixture
def small_memory_lake(tmp_path: Path, sqlite_url: str, kr: Path) -> Iterator[Lake]:
    for hub in build_hub(tmp_path, sqlite_url, job_memory_mb=64):
        yield Lake(hub)


def test_file_four_times_the_memory_limit(small_memory_lake: Lake, tmp_path: Path) -> None:
    big = tmp_path / "ev.csv"
    _big_cp949(big, 1_200_000)
    assert big.stat().st_size > 4 * (64 << 20)
    small_memory_lake.create("ev")
    job = small_memory_lake.ingest_ok("ev", big)
    assert job["result"]["row_count"] == 1_200_000
    assert small_memory_lake.types("ev")["급속충전기대수"] == "integer"

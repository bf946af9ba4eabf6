"""A write killed after some of its data files reached the table's folder: the next start of a
job runner removes those files (no version names them), and every committed version — the
current one and the older one kept for time travel — still reads."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

from dpghub.config import Settings
from dpghub.core import jobs
from dpghub.core.db import make_engine, make_session_factory, migrate, transaction
from dpghub.job_kinds import register_jobs
from dpghub.lake import orphans
from dpghub.lake.storage import LakeStorage

# appends batches of incompressible rows to the table until it is killed
WRITER = r"""
import os, sys
import pyarrow as pa
from dpghub.lake import tables
pool = [pa.record_batch({"k": pa.array(range(i * 16384, (i + 1) * 16384), pa.int64()),
                         "v": pa.array([os.urandom(1024) for _ in range(16384)], pa.binary())})
        for i in range(4)]
def endless():
    number = 0
    while True:
        yield pool[number % 4]
        number += 1
tables.write(sys.argv[1], {}, pa.RecordBatchReader.from_batches(pool[0].schema, endless()),
             mode="append", keys=[], job_id=7)
"""


def _parquet(table: Path) -> set[str]:
    return {p.name for p in table.glob("*.parquet")}


def _named(table: Path) -> set[str]:
    """The files any version names."""
    named: set[str] = set()
    for version in range(DeltaTable(str(table)).version() + 1):
        named |= {Path(u).name for u in DeltaTable(str(table), version=version).file_uris()}
    return named


def _small(k: int) -> pa.Table:
    return pa.table({"k": pa.array([k], pa.int64()), "v": pa.array([b"x"], pa.binary())})


@pytest.fixture
def home(tmp_path: Path) -> Iterator[tuple[Settings, LakeStorage, Any]]:
    settings = Settings(home=tmp_path / "home").prepare()
    engine = make_engine(settings.database_url or "")
    migrate(engine)
    register_jobs()   # as every process that runs jobs does
    yield settings, LakeStorage.from_settings(settings), make_session_factory(engine)
    engine.dispose()


def _crash_a_write(uri: str, table: Path) -> set[str]:
    """Start a write, kill -9 it once a data file of it is in the folder; return those."""
    before = _parquet(table)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, uri], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    try:
        while not _parquet(table) - before:
            assert writer.poll() is None, "the writer stopped by itself"
            assert time.monotonic() < deadline, "the writer never finished a data file"
            time.sleep(0.05)
    finally:
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
    return _parquet(table) - before


def test_a_killed_write_leaves_nothing_after_the_next_start(home) -> None:  # type: ignore[no-untyped-def]
    settings, storage, factory = home
    uri = storage.table_uri(1)
    table = Path(uri)
    write_deltalake(uri, _small(1), mode="append")          # version 0: time travel only
    write_deltalake(uri, _small(2), mode="overwrite")       # version 1: the current one
    left = _crash_a_write(uri, table)
    assert left and not left & _named(table)                # orphans, as the crash left them

    assert orphans.remove_orphan_files in jobs.RECOVERY_HOOKS   # the lake's, run at start
    runner = jobs.JobRunner(factory, extras={"settings": settings, "storage": storage})
    runner.start()
    runner.stop()
    assert _parquet(table) == _named(table)                 # every orphan gone, nothing else
    assert DeltaTable(uri, version=0).to_pyarrow_table()["k"].to_pylist() == [1]
    assert DeltaTable(uri).to_pyarrow_table()["k"].to_pylist() == [2]
    assert DeltaTable(uri).version() == 1


def test_a_table_a_running_job_writes_is_left_alone(home) -> None:  # type: ignore[no-untyped-def]
    settings, storage, factory = home
    busy, idle = storage.table_uri(1), storage.table_uri(2)
    for uri in (busy, idle):
        write_deltalake(uri, _small(1), mode="append")
        stray = Path(uri) / "part-00000-0b5e-c000.snappy.parquet"  # as a killed write names it
        stray.write_bytes((Path(uri) / sorted(_named(Path(uri)))[0]).read_bytes())
        old = time.time() - 3600
        os.utime(stray, (old, old))
    with transaction(factory) as session:
        jobs.enqueue(session, kind="lake.ingest", params={"dataset_id": 1, "files": []})
    assert jobs.claim(factory, "another-host:1") is not None  # live: its heartbeat is fresh

    runner = jobs.JobRunner(factory, extras={"settings": settings, "storage": storage},
                            kinds=["none"])
    runner.start()
    runner.stop()
    assert len(_parquet(Path(busy))) == 2       # maybe the running job's file: kept
    assert _parquet(Path(idle)) == _named(Path(idle))

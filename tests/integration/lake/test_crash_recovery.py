"""Kill the worker in the middle of writing: the table is unchanged, and the job recovers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from deltalake import DeltaTable
from sqlalchemy import select

from dpghub.config import Settings
from dpghub.core import jobs
from dpghub.core.db import make_engine, make_session_factory, migrate, transaction
from dpghub.identity import schemas as identity_schemas
from dpghub.identity import service as identity
from dpghub.identity.policy import CLI
from dpghub.lake import schemas, service
from dpghub.lake.models import Dataset
from dpghub.lake.storage import LakeStorage
from tests.support.lake import EV, big_cp949

DPGHUB = str(Path(sys.executable).parent / "dpghub")


def _worker(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([DPGHUB, "worker"], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _queued_ingestion(settings: Settings, csv: Path):  # type: ignore[no-untyped-def]
    """A migrated hub in `settings.home` with dataset me/ev and one queued ingestion of `csv`;
    returns (engine, session factory, storage, job id, dataset id)."""
    engine = make_engine(settings.database_url or "")
    migrate(engine)
    factory = make_session_factory(engine)
    storage = LakeStorage.from_settings(settings)
    with transaction(factory) as s:
        org = identity.create_org(s, actor=CLI, data=identity_schemas.OrganizationCreate(
            slug="me", name_ko="환경부", name_en="ME", kind="public"))
        dataset = service.create_dataset(s, actor=CLI, org=org,
                                         data=schemas.DatasetCreate(slug="ev", title_ko="ev"))
        with csv.open("rb") as handle:
            received = service.store_upload(s, actor=CLI, storage=storage, dataset=dataset,
                                            name=csv.name, stream=handle, max_bytes=1 << 32)
        job_id = service.request_ingest(s, actor=CLI, dataset=dataset, files=[received],
                                        options=schemas.IngestOptions()).id
        return engine, factory, storage, job_id, dataset.id


def test_killed_ingestion_leaves_the_table_unchanged_and_is_retried(tmp_path: Path,
                                                                     kr: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "DPGHUB_HOME": str(home), "DPGHUB_JOB_STALE_SECONDS": "3"}
    env.pop("DPGHUB_DATABASE_URL", None)
    settings = Settings(home=home, job_stale_seconds=3).prepare()
    big = tmp_path / "ev.csv"
    big_cp949(big, 400_000)
    engine, factory, storage, job_id, dataset_id = _queued_ingestion(settings, big)

    worker = _worker(env)
    deadline = time.monotonic() + 60
    while True:  # wait until rows are streaming into the table, then kill -9
        with factory() as s:
            job = s.get(jobs.Job, job_id)
            if job.state == "running" and job.progress_rows > 0:
                break
            assert job.state in ("queued", "running"), (job.state, job.error)
        assert time.monotonic() < deadline, "the worker never started writing"
        time.sleep(0.02)
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()

    uri = storage.table_uri(dataset_id)
    assert not DeltaTable.is_deltatable(uri) or DeltaTable(uri).version() < 0 or \
        not DeltaTable(uri).history()  # no commit reached the log
    with factory() as s:
        assert s.get(Dataset, dataset_id).current_version is None
        assert s.get(jobs.Job, job_id).state == "running"  # orphaned, until someone notices

    worker = _worker(env)  # a new worker notices the stale job and retries it
    try:
        deadline = time.monotonic() + 90
        while True:
            with factory() as s:
                job = s.get(jobs.Job, job_id)
                if job.state in jobs.JobState.finished:
                    break
            assert time.monotonic() < deadline, (job.state, job.message)
            time.sleep(0.1)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    assert job.state == "succeeded", job.error
    assert job.attempts == 2
    with factory() as s:
        dataset = s.scalar(select(Dataset).where(Dataset.id == dataset_id))
        assert dataset.current_version == 1 and dataset.row_count == 400_000
    assert len(DeltaTable(uri).history()) == 1  # exactly one commit
    engine.dispose()


def test_a_retry_after_the_commit_does_not_write_twice(tmp_path: Path, kr: Path) -> None:
    """The job committed to Delta, then died before the catalogue: the retry only catalogues."""
    from dpghub.job_kinds import register_jobs

    register_jobs()
    settings = Settings(home=tmp_path / "home").prepare()
    engine, factory, storage, job_id, dataset_id = _queued_ingestion(settings, EV)

    original = service.record_version
    calls = {"n": 0}

    def dies_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise ConnectionError("database went away after the table commit")
        return original(*args, **kwargs)

    service.record_version = dies_once  # the catalogue write fails once, as a crash would
    try:
        runner = jobs.JobRunner(factory, extras={"settings": settings, "storage": storage})
        runner.run_one()
        with transaction(factory) as s:
            failed = s.get(jobs.Job, job_id)
            assert failed.state == "failed"
            failed.state = "queued"  # what recovery does for a job with attempts left
        runner.run_one()
    finally:
        service.record_version = original
    with factory() as s:
        job = s.get(jobs.Job, job_id)
        assert job.state == "succeeded", job.error
        assert s.get(Dataset, dataset_id).row_count == 6_111
    assert len(DeltaTable(storage.table_uri(dataset_id)).history()) == 1
    engine.dispose()

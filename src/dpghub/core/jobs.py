"""Durable background jobs with progress, cancellation and crash recovery.

A job is a row: whoever wants work done inserts one (in its own transaction, with its audit
event); a worker claims it, runs the handler registered for its kind, and records progress,
result or error. Workers run as threads inside the hub (embedded default) or as separate
`dpghub worker` processes; claiming is atomic on SQLite and PostgreSQL (SKIP LOCKED), so any
number of workers can share one queue.

A job whose worker died (no heartbeat for `STALE_AFTER`) is re-queued once, then marked failed
with the reason: an input that kills the process that reads it must not kill every process
that retries it. Handlers must therefore be idempotent: the lake's ingestion, for example,
tags its table commit with the job id and skips a write that already happened.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pyarrow as pa
from sqlalchemy import JSON, Boolean, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from .db import Base, UTCDateTime, utcnow
from .errors import HubError

log = logging.getLogger("dpghub.jobs")

STALE_AFTER = timedelta(seconds=30)
HEARTBEAT_EVERY = 2.0
PROGRESS_EVERY = 0.5
RETRIES_AFTER_A_DEATH = 1  # a job whose process died runs again once, never more


class JobState:
    queued = "queued"
    running = "running"
    succeeded = "succeeded"
    failed = "failed"
    cancelled = "cancelled"
    finished = (succeeded, failed, cancelled)


class Job(Base):
    __tablename__ = "job"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(50), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True, default=JobState.queued)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    message: Mapped[str] = mapped_column(Text, default="")
    progress_bytes: Mapped[int] = mapped_column(Integer, default=0)
    total_bytes: Mapped[int] = mapped_column(Integer, default=0)
    progress_rows: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=2)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    worker: Mapped[str | None] = mapped_column(String(100))
    org_id: Mapped[int | None] = mapped_column(Integer, index=True)
    created_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class JobCancelled(Exception):
    """Raised inside a handler when the job's cancellation was requested."""


class JobFailed(HubError):
    """A handler's refusal with a position: which file, line and column, and why."""

    status = 422
    code = "job_failed"
    title = "The job failed"


Handler = Callable[["JobContext"], dict[str, Any]]
HANDLERS: dict[str, Handler] = {}
# (session factory, runner extras, when the recovery began) → None
RecoveryHook = Callable[[sessionmaker[Session], dict[str, Any], datetime], None]
RECOVERY_HOOKS: list[RecoveryHook] = []


def register(kind: str, fn: Handler) -> None:
    """Name the function that runs jobs of `kind`. Each domain does so for its own kinds in
    its `register_jobs()`, called at start-up by every process that runs jobs (see
    `dpghub.job_kinds`), never as a side effect of an import; registering again changes
    nothing."""
    HANDLERS[kind] = fn


def after_recovery(fn: RecoveryHook) -> None:
    """Register a function a runner calls when it starts and after any recovery that found
    interrupted jobs: the place to tidy what a dead process left behind (a domain's own
    half-written files). It gets the time the recovery began: whatever a live job writes is
    newer, since no job claimed after that instant can have started earlier. Registering
    again changes nothing."""
    if fn not in RECOVERY_HOOKS:
        RECOVERY_HOOKS.append(fn)


def created_by(session: Session, job_id: int) -> int | None:
    """Who asked for the job (None: the platform, or a job since deleted)."""
    job = session.get(Job, job_id)
    return job.created_by if job else None


def enqueue(
    session: Session, *, kind: str, params: dict[str, Any], org_id: int | None = None,
    created_by: int | None = None, total_bytes: int = 0, max_attempts: int = 2,
) -> Job:
    job = Job(kind=kind, params=params, org_id=org_id, created_by=created_by,
              total_bytes=total_bytes, max_attempts=max_attempts, state=JobState.queued,
              message="queued")
    session.add(job)
    session.flush()
    return job


def request_cancel(session: Session, job: Job) -> Job:
    if job.state == JobState.queued:
        job.state = JobState.cancelled
        job.finished_at = utcnow()
        job.message = "cancelled before it started"
    elif job.state == JobState.running:
        job.cancel_requested = True
    session.flush()
    return job


@dataclass
class JobContext:
    """What a handler sees: its job's parameters and ways to report progress."""

    job_id: int
    kind: str
    params: dict[str, Any]
    attempt: int
    factory: sessionmaker[Session]
    extras: dict[str, Any]
    _last_write: float = 0.0
    _cancel_checked: float = 0.0
    bytes_done: int = 0
    rows_done: int = 0
    message: str = ""

    def progress(self, *, bytes_done: int | None = None, rows_done: int | None = None,
                 message: str | None = None, force: bool = False) -> None:
        if bytes_done is not None:
            self.bytes_done = bytes_done
        if rows_done is not None:
            self.rows_done = rows_done
        if message is not None:
            self.message = message
        now = time.monotonic()
        if force or now - self._last_write >= PROGRESS_EVERY:
            self._last_write = now
            with self.factory() as session:
                session.execute(update(Job).where(Job.id == self.job_id).values(
                    progress_bytes=self.bytes_done, progress_rows=self.rows_done,
                    message=self.message, heartbeat_at=utcnow()))
                session.commit()
        self.check_cancelled()

    def check_cancelled(self) -> None:
        now = time.monotonic()
        if now - self._cancel_checked < PROGRESS_EVERY:
            return
        self._cancel_checked = now
        with self.factory() as session:
            if session.scalar(select(Job.cancel_requested).where(Job.id == self.job_id)):
                raise JobCancelled()


class JobRunner:
    """Claims and runs queued jobs on background threads until stopped."""

    def __init__(self, factory: sessionmaker[Session], *, workers: int = 1,
                 poll_interval: float = 0.5, extras: dict[str, Any] | None = None,
                 kinds: list[str] | None = None, stale_after: timedelta = STALE_AFTER) -> None:
        self.factory = factory
        self.workers = workers
        self.poll_interval = poll_interval
        self.extras = extras or {}
        self.kinds = kinds
        self.stale_after = stale_after
        self.name = f"{socket.gethostname()}:{os.getpid()}"
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        self._recover(always_tidy=True)
        for index in range(self.workers):
            thread = threading.Thread(target=self._loop, name=f"dpghub-job-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """A new job was queued: look now instead of at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def _loop(self) -> None:
        last_recovery = time.monotonic()
        while not self._stop.is_set():
            try:
                ran = self.run_one()
            except Exception:  # the loop must survive any single failure
                log.exception("job worker error")
                ran = False
            if time.monotonic() - last_recovery > self.stale_after.total_seconds():
                self._recover()
                last_recovery = time.monotonic()
            if not ran:
                self._wake.wait(self.poll_interval)
                self._wake.clear()

    def _recover(self, always_tidy: bool = False) -> None:
        began = utcnow()
        found = recover(self.factory, stale_after=self.stale_after)
        if not (found or always_tidy):
            return
        for hook in RECOVERY_HOOKS:
            try:
                hook(self.factory, self.extras, began)
            except Exception:  # tidying is best effort; the jobs must still run
                log.exception("recovery hook %s failed", getattr(hook, "__name__", hook))

    def run_one(self) -> bool:
        """Claim one queued job and run it; False when there was none."""
        job = claim(self.factory, self.name, self.kinds)
        if job is None:
            return False
        execute(self.factory, job, self.extras)
        return True


def claim(factory: sessionmaker[Session], worker: str,
          kinds: list[str] | None = None) -> Job | None:
    with factory() as session:
        query = select(Job.id).where(Job.state == JobState.queued).order_by(Job.id).limit(1)
        if kinds:
            query = query.where(Job.kind.in_(kinds))
        if session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)
        job_id = session.scalar(query)
        if job_id is None:
            return None
        now = utcnow()
        claimed = session.execute(
            update(Job).where(Job.id == job_id, Job.state == JobState.queued).values(
                state=JobState.running, started_at=now, heartbeat_at=now, worker=worker,
                attempts=Job.attempts + 1, message="started")
        ).rowcount
        session.commit()
        if claimed != 1:
            return None
        return session.get(Job, job_id)


def execute(factory: sessionmaker[Session], job: Job, extras: dict[str, Any]) -> None:
    fn = HANDLERS.get(job.kind)
    context = JobContext(job.id, job.kind, dict(job.params), job.attempts, factory, extras)
    stop_heartbeat = threading.Event()
    beat = threading.Thread(target=_heartbeat, args=(factory, job.id, stop_heartbeat),
                            daemon=True)
    beat.start()
    state, result, error, message = JobState.failed, None, None, ""
    try:
        if fn is None:
            raise JobFailed("No handler for jobs of kind {kind}", code="unknown_job_kind",
                            kind=job.kind)
        result = fn(context)
        state, message = JobState.succeeded, "done"
    except JobCancelled:
        state, message = JobState.cancelled, "cancelled"
    except HubError as exc:
        error = {"code": exc.code, "message": str(exc), "field": exc.field,
                 **{k: v for k, v in exc.params.items() if k in ("file", "line", "column",
                                                                  "row", "value")}}
        message = str(exc)
    except Exception as exc:  # record, log, and keep the worker alive
        log.exception("job %s (%s) failed", job.id, job.kind)
        error = {"code": "internal_error", "message": f"{type(exc).__name__}: {exc}"}
        message = error["message"]
    finally:
        stop_heartbeat.set()
        beat.join()
    with factory() as session:
        session.execute(update(Job).where(Job.id == job.id).values(
            state=state, result=result, error=error, message=message[:2000],
            finished_at=utcnow(), progress_bytes=context.bytes_done,
            progress_rows=context.rows_done))
        session.commit()


def _heartbeat(factory: sessionmaker[Session], job_id: int, stop: threading.Event) -> None:
    while not stop.wait(HEARTBEAT_EVERY):
        try:
            with factory() as session:
                session.execute(update(Job).where(Job.id == job_id)
                                .values(heartbeat_at=utcnow()))
                session.commit()
        except Exception:  # a missed beat is not fatal
            log.warning("heartbeat of job %s failed", job_id, exc_info=True)


def recover(factory: sessionmaker[Session], *, stale_after: timedelta = STALE_AFTER,
            now: datetime | None = None) -> int:
    """Re-queue (or fail) running jobs whose worker stopped beating; return how many.

    A job is re-queued only after its first death (and while it has attempts left): the
    second time, its input is the likeliest cause, and running it again would take down
    yet another process."""
    now = now or utcnow()
    limit = now - stale_after
    count = 0
    with factory() as session:
        orphans = session.scalars(select(Job).where(
            Job.state == JobState.running, Job.heartbeat_at < limit))
        for job in orphans:
            count += 1
            if job.cancel_requested:
                job.state, job.message = JobState.cancelled, "cancelled (worker stopped)"
                job.finished_at = now
            elif job.attempts <= RETRIES_AFTER_A_DEATH and job.attempts < job.max_attempts:
                job.state = JobState.queued
                job.message = f"retrying after an interrupted attempt {job.attempts}"
            else:
                reason = JobFailed(
                    "The job's process stopped during each of its {count} attempts; the "
                    "input may be hostile, or too large for this hub", code="process_died",
                    count=job.attempts)
                job.state = JobState.failed
                job.finished_at = now
                job.message = str(reason)
                job.error = {"code": reason.code, "message": str(reason)}
        session.commit()
    if count:
        log.warning("recovered %d interrupted job(s)", count)
    return count


def wait(factory: sessionmaker[Session], job_id: int, *, timeout: float = 60.0,
         on_progress: Callable[[Job], None] | None = None) -> Job:
    """Poll until the job finishes (for the CLI and tests)."""
    deadline = time.monotonic() + timeout
    while True:
        with factory() as session:
            job = session.get(Job, job_id)
            assert job is not None
            if on_progress:
                on_progress(job)
            if job.state in JobState.finished:
                return job
        if time.monotonic() > deadline:
            raise TimeoutError(f"job {job_id} did not finish in {timeout} s")
        time.sleep(0.1)


def counting(reader: Any, ctx: JobContext) -> Any:
    """`reader` (a pyarrow RecordBatchReader) passed on batch by batch, each batch's rows
    added to the job's progress as it goes by."""
    def batches():  # type: ignore[no-untyped-def]
        rows = 0
        for batch in reader:
            rows += batch.num_rows
            ctx.progress(rows_done=rows)
            yield batch

    return pa.RecordBatchReader.from_batches(reader.schema, batches())

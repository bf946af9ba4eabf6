"""A copy's or a validation's state while its job has not written one: the job's own. A job
that died with its process, or failed before it could say so, leaves the record `queued`; read
through the job, it shows `running` or `failed` with the job's reason — after a restart too."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ...core import jobs


def settled(session: Session, job_id: int | None, state: str, error: str) -> tuple[str, str]:
    if state != "queued" or job_id is None:
        return state, error
    job = session.get(jobs.Job, job_id)
    if job is None or job.state == jobs.JobState.queued:
        return state, error
    if job.state == jobs.JobState.running:
        return "running", error
    if job.state == jobs.JobState.succeeded:     # finished, the record's own write just lost
        return state, error
    return "failed", error or job.message or job.state

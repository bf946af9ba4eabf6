"""The lake's job kinds and the functions that run them, registered in one call.

Nothing registers on import: every process that runs jobs calls `register_jobs()` (through
`dpghub.job_kinds`) before its runner starts.
"""

from __future__ import annotations

from ..core import jobs
from . import orphans, restore, service
from .ingest import job as ingest_job


def register_jobs() -> None:
    """Ingestion, restore, and the tidy after a crash (registering again changes nothing)."""
    jobs.register(service.INGEST_JOB, ingest_job.run)
    jobs.register(service.RESTORE_JOB, restore.run)
    jobs.after_recovery(orphans.remove_orphan_files)

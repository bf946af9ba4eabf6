"""Analysis's job kinds and the functions that run them, registered in one call.

Nothing registers on import: every process that runs jobs calls `register_jobs()` (through
`dpghub.job_kinds`) before its runner starts.
"""

from __future__ import annotations

from ..core import jobs
from . import derive, service


def register_jobs() -> None:
    """Derived datasets' (re)builds (registering again changes nothing)."""
    jobs.register(service.DERIVE_JOB, derive.run)

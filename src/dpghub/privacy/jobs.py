"""The privacy domain's job kinds, registered in one call (through `dpghub.job_kinds`)."""

from __future__ import annotations

from ..core import jobs
from . import combining, pseudonymisation
from .service import combinations, pseudonyms


def register_jobs() -> None:
    """Pseudonymisation and combination (registering again changes nothing)."""
    jobs.register(pseudonyms.JOB, pseudonymisation.run)
    jobs.register(combinations.JOB, combining.run)

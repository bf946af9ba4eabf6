"""The testbed's job kinds, registered in one call (through `dpghub.job_kinds`)."""

from __future__ import annotations

from ..core import jobs
from . import synthesis, validation
from .service import synthetic, validations


def register_jobs() -> None:
    """Synthetic copies and contract validations (registering again changes nothing)."""
    jobs.register(synthetic.JOB, synthesis.run)
    jobs.register(validations.JOB, validation.run)

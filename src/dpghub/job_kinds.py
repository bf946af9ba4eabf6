"""Every job kind of every domain, registered in one place.

A job runner finds a job's handler by its kind, so every process that runs jobs — the hub's own
job threads (`app.create_app`), `dpghub worker`, `dpghub ingest` and the demo loader — calls
`register_jobs()` before it starts one. Nothing registers as a side effect of an import, so no
handler goes missing because of which modules happened to be imported first. A new domain
with jobs adds its own `register_jobs()` here.
"""

from __future__ import annotations

from .analysis import jobs as analysis_jobs
from .lake import jobs as lake_jobs
from .privacy import jobs as privacy_jobs
from .testbed import jobs as testbed_jobs


def register_jobs() -> None:
    """Register every job kind and crash-recovery hook (registering again changes nothing)."""
    lake_jobs.register_jobs()
    analysis_jobs.register_jobs()
    testbed_jobs.register_jobs()
    privacy_jobs.register_jobs()

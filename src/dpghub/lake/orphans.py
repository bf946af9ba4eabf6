"""After a crash: data files a killed write left in table folders, which no version names."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..core import jobs
from . import tables
from .storage import LakeStorage

# an object store stamps files with its own clock: leave what it calls this recent alone
REMOTE_CLOCK_MARGIN = timedelta(minutes=5)
log = logging.getLogger("dpghub.lake")


def remove_orphan_files(factory: sessionmaker[Session], extras: dict[str, Any],
                        began: datetime) -> None:
    """Delete the data files a killed write left in table folders (no version names them).
    Tables a running job may be writing are skipped: after the recovery, every job still
    `running` has a live worker. Files written since `began` are kept: a job claimed after the
    check below started after that instant."""
    storage: LakeStorage | None = extras.get("storage")
    if storage is None:
        return
    with factory() as session:
        busy = {params.get("dataset_id") for params in session.scalars(
            select(jobs.Job.params).where(jobs.Job.state == jobs.JobState.running))}
    before = began - (REMOTE_CLOCK_MARGIN if storage.remote else timedelta(0))
    for dataset_id in storage.table_ids():
        if dataset_id in busy:
            continue
        removed = tables.remove_orphans(storage.fs, storage.table_path(dataset_id), before)
        if removed:
            log.warning("removed %d file(s) an interrupted write left in table d%d: %s",
                        len(removed), dataset_id, ", ".join(removed[:5]))

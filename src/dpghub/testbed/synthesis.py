"""The job that makes a synthetic copy: read the dataset version the copy was asked of, let
the synthesizer's own process (synthesis_child.py) fit, sample and score it under the job's
memory and time limits, and write the copy as a table of its own in the lake's sandbox area.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ..core import jobs
from ..core.jobs import JobContext
from ..lake import service as lake
from ..lake import tables
from .models import SyntheticCopy

TIME_LIMIT = 3600            # seconds for fitting, sampling and scoring
MAX_REAL_ROWS = 5_000_000


def run(ctx: JobContext) -> dict[str, Any]:
    """The handler of `testbed.synthesize` jobs (registered by `testbed.jobs`)."""
    settings = ctx.extras["settings"]
    storage = ctx.extras["storage"]
    copy_id = int(ctx.params["copy_id"])
    try:
        return _make(ctx, settings, storage, copy_id)
    except jobs.JobFailed as exc:
        _finish(ctx, copy_id, state="failed", error=str(exc))
        raise


def _make(ctx: JobContext, settings: Any, storage: Any, copy_id: int) -> dict[str, Any]:
    with ctx.factory() as session:
        copy = session.get(SyntheticCopy, copy_id)
        if copy is None:
            raise jobs.JobFailed("The synthetic copy no longer exists", code="synthetic_gone")
        dataset = lake.get_dataset_by_id(session, copy.dataset_id)
        version = lake.get_version(session, dataset=dataset, version=copy.source_version)
        rows_asked = copy.rows_asked
        if (version.row_count or 0) > MAX_REAL_ROWS:
            raise jobs.JobFailed("{name} has {rows} rows; a synthetic copy is made of at most "
                                 "{limit}", code="synthetic_too_large", name=dataset.slug,
                                 rows=version.row_count, limit=MAX_REAL_ROWS)
    ctx.progress(message="reading the real rows", force=True)
    scratch = Path(settings.home) / "tmp"
    scratch.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=scratch, prefix="synth-") as folder:
        work = Path(folder)
        real = tables.open_table(storage.table_uri(dataset.id), storage.storage_options,
                                 version.delta_version)
        assert real is not None
        pq.write_table(real.to_pyarrow_table(), work / "real.parquet")
        del real
        request = {"input": str(work / "real.parquet"), "output": str(work / "copy.parquet"),
                   "rows": rows_asked, "seed": copy_id, "memory_mb": settings.job_memory_mb}
        (work / "request.json").write_text(json.dumps(request))
        ctx.progress(message="fitting and sampling", force=True)
        answer = _child(work / "request.json")
        if "error" in answer:
            error = answer["error"]
            raise jobs.JobFailed("{reason}", code=error.get("code", "synthetic_failed"),
                                 reason=error.get("message", ""))
        ctx.progress(message="writing the copy", force=True)
        copied = pq.read_table(work / "copy.parquet")
        written = tables.write(storage.sandbox_uri(copy_id), storage.storage_options,
                               copied.to_reader(), mode="replace", keys=[], job_id=ctx.job_id)
    _finish(ctx, copy_id, state="ready", rows=answer["rows"], quality=answer["quality"],
            privacy=answer["privacy"], delta_version=written.delta_version)
    return {"copy_id": copy_id, "rows": answer["rows"],
            "quality": answer["quality"].get("overall"),
            "exact_copies": answer["privacy"].get("exact_copies")}


def _child(request: Path) -> dict[str, Any]:
    try:
        done = subprocess.run([sys.executable, "-m", "dpghub.testbed.synthesis_child",
                               str(request)], capture_output=True, timeout=TIME_LIMIT)
    except subprocess.TimeoutExpired:
        raise jobs.JobFailed("Making the synthetic copy took longer than {seconds} s",
                             code="synthetic_timeout", seconds=TIME_LIMIT) from None
    answer_path = request.with_suffix(".answer.json")
    if not answer_path.exists():
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise jobs.JobFailed("The synthesizer's process ended ({status}) without an answer, "
                             "most likely out of memory (DPGHUB_JOB_MEMORY_MB): {detail}",
                             code="synthetic_process_died", status=done.returncode,
                             detail=tail[0][:300])
    return json.loads(answer_path.read_text())


def _finish(ctx: JobContext, copy_id: int, *, state: str, **values: Any) -> None:
    with ctx.factory() as session:
        copy = session.get(SyntheticCopy, copy_id)
        if copy is None:
            return
        copy.state = state
        for name, value in values.items():
            setattr(copy, name, value)
        session.commit()

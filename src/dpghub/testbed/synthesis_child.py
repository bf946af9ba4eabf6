"""The synthesizer's own process: `python -m dpghub.testbed.synthesis_child REQUEST.json`.

It reads the real table (a Parquet file the job wrote), fits and samples under a memory limit
of the job's (RLIMIT_AS), scores the copy, and writes the copy as Parquet and the reports as
JSON beside the request. A dataset too large or too wide for the limit takes down only this
process; the job says so."""

from __future__ import annotations

import json
import sys
import traceback
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..core.errors import HubError
from ..core.rlimit import limit_memory
from .synth import privacy_report, quality_report, synthesize

HOLDOUT_SHARE = 0.2
HOLDOUT_FROM = 50       # rows: fewer, and the whole table trains (no distance to compare)


def _split(real: pa.Table, seed: int) -> tuple[pa.Table, pa.Table | None]:
    """The model learns from 80 % of the rows; the rest, never seen, is what the privacy
    report compares distances with (a copy closer to its training rows than to unseen ones
    would have memorised them)."""
    if real.num_rows < HOLDOUT_FROM:
        return real, None
    order = np.random.default_rng(seed).permutation(real.num_rows)
    cut = int(real.num_rows * (1 - HOLDOUT_SHARE))
    return real.take(np.sort(order[:cut])), real.take(np.sort(order[cut:]))


def main(argv: list[str]) -> int:
    request_path = Path(argv[1])
    request = json.loads(request_path.read_text())
    limit_memory(int(request["memory_mb"]))
    answer_path = request_path.with_suffix(".answer.json")
    try:
        real = pq.read_table(request["input"])
        seed = int(request.get("seed", 0))
        train, holdout = _split(real, seed)
        copy = synthesize(train, rows=request.get("rows") or real.num_rows, seed=seed)
        pq.write_table(copy, request["output"])
        quality = quality_report(real, copy)
        # the names the API promises, beside SDMetrics' own layout (score, properties)
        quality.update(overall=quality.get("score"), **quality.get("properties", {}))
        answer = {"rows": copy.num_rows, "quality": quality,
                  "privacy": privacy_report(train, copy, holdout=holdout)
                  if holdout is not None else privacy_report(real, copy)}
    except HubError as exc:
        answer = {"error": {"code": exc.code, "message": exc.message, "params": {
            k: str(v) for k, v in exc.params.items()}}}
    except MemoryError:
        answer = {"error": {"code": "synthetic_memory", "message": "out of memory"}}
    except Exception as exc:  # noqa: BLE001 — reported to the job, which fails with it
        traceback.print_exc()
        answer = {"error": {"code": "synthetic_failed", "message": f"{type(exc).__name__}: "
                            f"{exc}"}}
    answer_path.write_text(json.dumps(answer, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))

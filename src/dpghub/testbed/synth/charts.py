"""Small real-against-synthetic charts for each scored column: what the hub draws.

Bounded whatever the data: 20 histogram bins on the real range, or the 10 most frequent real
categories plus "other"; shares (0–1), with the missing values' share beside.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

HISTOGRAM_BINS = 20
TOP_CATEGORIES = 10


def _label(value: float, type_: pa.DataType) -> Any:
    if pa.types.is_date(type_):
        return (date(1970, 1, 1) + timedelta(days=int(round(value)))).isoformat()
    if pa.types.is_timestamp(type_):
        per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[type_.unit]
        return (datetime(1970, 1, 1) + timedelta(seconds=value / per_second)).isoformat()
    return float(value)


def _share(count: float, total: int) -> float:
    return float(count) / total if total else 0.0


def number_chart(type_: pa.DataType, real: np.ndarray, real_valid: np.ndarray,
                 synthetic: np.ndarray, synthetic_valid: np.ndarray) -> dict[str, Any]:
    present = real[real_valid]
    if not len(present):
        return {"type": "histogram", "edges": [], "real": [], "synthetic": []}
    edges = np.histogram_bin_edges(present, bins=HISTOGRAM_BINS)
    syn = np.clip(synthetic[synthetic_valid], edges[0], edges[-1])  # outside: the end bins
    r, _ = np.histogram(present, bins=edges)
    s, _ = np.histogram(syn, bins=edges)
    return {
        "type": "histogram",
        "edges": [_label(e, type_) for e in edges],
        "real": (r / max(len(present), 1)).tolist(),
        "synthetic": (s / max(len(syn), 1)).tolist(),
        "missing": {"real": _share((~real_valid).sum(), len(real)),
                    "synthetic": _share((~synthetic_valid).sum(), len(synthetic))},
    }


def category_chart(labels: pa.Array, real: np.ndarray, synthetic: np.ndarray
                   ) -> dict[str, Any]:
    """`real`/`synthetic` are codes into `labels` (missing: -1)."""
    r, s = real[real >= 0], synthetic[synthetic >= 0]
    size = int(max(r.max() if len(r) else -1, s.max() if len(s) else -1)) + 1
    pr = np.bincount(r, minlength=size) / max(len(real), 1)
    ps = np.bincount(s, minlength=size) / max(len(synthetic), 1)
    top = np.argsort(-pr, kind="stable")[:TOP_CATEGORIES]
    top = top[pr[top] > 0]
    return {
        "type": "bars",
        "categories": [str(labels[int(i)].as_py()) for i in top],
        "real": pr[top].tolist(),
        "synthetic": ps[top].tolist(),
        "other": {"real": float(pr.sum() - pr[top].sum()),
                  "synthetic": float(ps.sum() - ps[top].sum())},
        "missing": {"real": _share((real < 0).sum(), len(real)),
                    "synthetic": _share((synthetic < 0).sum(), len(synthetic))},
    }

"""Does the synthetic table give away real rows? Exact copies, and distances to the closest
record (DCR) against a holdout — the idea of SDMetrics' DCROverfittingProtection.

Distances use the modelled columns: numbers (and dates) scaled to the real range [0, 1], a
missing number a unit away; each category one-hot with weight 1/√2 so a mismatch counts 1
(the 16 most frequent real categories, the rest pooled). Nearest neighbours are brute-force
BLAS products on bounded samples (EVAL_ROWS rows looked up among REFERENCE_ROWS), so 100,000
rows take seconds whatever their width.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa

from .columns import codes, to_float
from .copies import copied_rows
from .kinds import plan_columns

TOP = 16
EVAL_ROWS = 2000
REFERENCE_ROWS = 10000
CHUNK = 1024

EXPLANATION = (
    "DCR is a row's distance to the closest training row over the modelled columns (numbers "
    "scaled to the real range, a category mismatch counts 1). Holdout rows are real rows kept "
    "aside: their DCR is how far a new real row naturally sits from the training rows. "
    "dcr_ratio = median synthetic DCR / median holdout DCR: about 1 or more means synthetic "
    "rows are no closer to real rows than real rows are to each other; near 0 means near-"
    "copies. closer_to_train_share is the share of synthetic rows nearer to a training row "
    "than to a holdout row; closer_to_train_expected is that share for rows that are new "
    "(the training rows' part of both reference sets, 0.8 for a 20% holdout): a share near "
    "it means the synthetic data is no closer to the rows it learnt from than to unseen ones; "
    "near 1 means it memorised them. That share tests overfitting only when the synthetic "
    "table was made from the training rows alone (pass them as `real` and the rest as "
    "`holdout`); made from every real row, it reads about the expected share whatever.")


def _encoder(real: pa.Table):  # type: ignore[no-untyped-def]
    """A function table -> float matrix, fitted on `real`."""
    parts = []
    for plan in plan_columns(real):
        if plan.kind == "number":
            values, valid = to_float(real.column(plan.name))
            present = values[valid]
            low = float(present.min()) if len(present) else 0.0
            span = float(np.ptp(present)) if len(present) else 0.0
            parts.append(("number", plan.name, (low, span if span > 0 else 1.0)))
        elif plan.kind == "category":
            c, _, _ = codes(real.column(plan.name))
            counts = np.bincount(c[c >= 0]) if (c >= 0).any() else np.zeros(0, dtype=np.int64)
            parts.append(("category", plan.name, np.argsort(-counts, kind="stable")[:TOP]))

    def encode(table: pa.Table) -> np.ndarray:
        blocks = [np.zeros((table.num_rows, 0))]
        for kind, name, how in parts:
            if kind == "number":
                values, valid = to_float(table.column(name))
                low, span = how
                blocks.append(np.column_stack([np.where(valid, (values - low) / span, 0.0),
                                               (~valid).astype(float)]))
                continue
            _, c, _ = codes(real.column(name), table.column(name).cast(real.column(name).type))
            assert c is not None
            slot = np.full(len(c), len(how) + 1)  # pooled rare categories
            slot[c < 0] = len(how)  # missing
            for position, code in enumerate(how):
                slot[c == code] = position
            blocks.append(np.eye(len(how) + 2)[slot] / np.sqrt(2.0))
        return np.hstack(blocks)
    return encode


def nearest(queries: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Each query row's Euclidean distance to its closest reference row."""
    if not len(reference):
        return np.full(len(queries), np.inf)
    ref_sq = (reference ** 2).sum(axis=1)
    out = np.empty(len(queries))
    for start in range(0, len(queries), CHUNK):
        q = queries[start:start + CHUNK]
        d2 = (q ** 2).sum(axis=1)[:, None] + ref_sq[None, :] - 2.0 * q @ reference.T
        out[start:start + CHUNK] = np.sqrt(np.maximum(d2.min(axis=1), 0.0))
    return out


def _rows(table: pa.Table, size: int, rng: np.random.Generator) -> pa.Table:
    if table.num_rows <= size:
        return table
    return table.take(pa.array(np.sort(rng.choice(table.num_rows, size, replace=False))))


def _sample(matrix: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    if len(matrix) <= size:
        return matrix
    return matrix[np.sort(rng.choice(len(matrix), size, replace=False))]


def privacy_report(real: pa.Table, synthetic: pa.Table, *, holdout_share: float = 0.2,
                   seed: int = 0, holdout: pa.Table | None = None) -> dict[str, Any]:
    """Exact copies (of the whole row, and of the modelled columns) and DCR figures.
    With `holdout`, `real` is the training part; otherwise `holdout_share` of `real`'s rows,
    drawn with `seed`, are held out."""
    everything = real if holdout is None else pa.concat_tables([real, holdout.cast(
        real.schema)])
    copies = copied_rows(everything, synthetic)
    modelled = [p.name for p in plan_columns(everything) if p.scored]
    modelled_copies = copied_rows(everything, synthetic, modelled) if modelled else copies
    report: dict[str, Any] = {
        "exact_copies": int(copies.sum()),
        "exact_copies_share": float(copies.mean()) if len(copies) else 0.0,
        "modelled_column_copies": int(modelled_copies.sum()),
        "modelled_columns": modelled,
        "explanation": EXPLANATION,
    }
    rng = np.random.default_rng(seed)
    if holdout is None:
        order = rng.permutation(real.num_rows)
        cut = int(round(real.num_rows * holdout_share))
        train, held = real.take(pa.array(order[cut:])), real.take(pa.array(order[:cut]))
    else:
        train, held = real, holdout.cast(real.schema)
    if not train.num_rows or not held.num_rows or not synthetic.num_rows:
        report["dcr"] = None
        report["dcr_reason"] = "too few rows to hold some out"
        return report
    encode = _encoder(train)
    reference = encode(_rows(train, REFERENCE_ROWS, rng))
    held_reference = encode(_rows(held, REFERENCE_ROWS, rng))
    s = encode(_rows(synthetic, EVAL_ROWS, rng))
    syn_dcr = nearest(s, reference)
    hold_dcr = nearest(_sample(held_reference, EVAL_ROWS, rng), reference)
    to_hold = nearest(s, held_reference)
    closer = float(np.mean(syn_dcr < to_hold) + 0.5 * np.mean(syn_dcr == to_hold))
    expected = len(reference) / (len(reference) + len(held_reference))
    syn_median, hold_median = float(np.median(syn_dcr)), float(np.median(hold_dcr))
    report["dcr"] = {
        "synthetic_to_train_median": syn_median,
        "holdout_to_train_median": hold_median,
        "dcr_ratio": syn_median / hold_median if hold_median > 0 else None,
        "synthetic_zero_distance_share": float(np.mean(syn_dcr == 0)),
        "holdout_zero_distance_share": float(np.mean(hold_dcr == 0)),
        "closer_to_train_share": closer,
        "closer_to_train_expected": expected,
        "rows": {"train": train.num_rows, "holdout": held.num_rows,
                 "synthetic_evaluated": len(s), "train_reference": len(reference)},
    }
    return report

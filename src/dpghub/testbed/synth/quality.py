"""How alike a synthetic table is to the real one, scored as SDMetrics' Quality Report does.

- Column shapes: KSComplement (1 − the Kolmogorov–Smirnov statistic) for numbers and dates,
  TVComplement (1 − total variation distance of the category shares) for categories; both
  ignore missing values.
- Column pair trends: CorrelationSimilarity (1 − |ρ_real − ρ_synthetic| / 2, Pearson, rows
  where both values are present; undefined for a constant column) for two numbers/dates;
  ContingencySimilarity (1 − total variation distance of the normalised two-way table,
  missing as a category of its own) for the other pairs, numbers cut into the 10 bins that
  numpy's histogram_bin_edges puts on the real values.
- Overall: the mean of the two properties, each the mean of its scores.

Identifier columns (replaced by fakes) and empty columns are not scored, as SDMetrics leaves
out its 'id' and 'pii' columns. Wide tables score a random sample of at most `max_pairs`
pairs, which the report says. Each column carries a small chart: histogram shares on the
real range, or the top categories' shares, real against synthetic.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from scipy.stats import ks_2samp

from .charts import category_chart, number_chart
from .columns import codes, to_float
from .kinds import ColumnPlan, plan_columns

BINS = 10


@dataclass
class _Prepared:
    plan: ColumnPlan
    real: np.ndarray  # floats (continuous) or codes (discrete)
    synthetic: np.ndarray
    real_valid: np.ndarray
    synthetic_valid: np.ndarray
    real_bins: np.ndarray  # discrete codes: categories, or bins of numbers; missing = -1
    synthetic_bins: np.ndarray
    labels: pa.Array | None = None  # the values behind the discrete codes


def _prepare(plan: ColumnPlan, real: pa.ChunkedArray, synthetic: pa.ChunkedArray) -> _Prepared:
    if synthetic.type != real.type:
        synthetic = synthetic.cast(real.type)
    if plan.continuous:
        r, rv = to_float(real)
        s, sv = to_float(synthetic)
        present = r[rv]
        edges = np.histogram_bin_edges(present, bins=BINS) if len(present) else np.zeros(1)
        rb = np.where(rv, np.digitize(r, edges), -1)
        sb = np.where(sv, np.digitize(s, edges), -1)
        return _Prepared(plan, r, s, rv, sv, rb, sb)
    rc, sc, labels = codes(real, synthetic)
    assert sc is not None
    return _Prepared(plan, rc, sc, rc >= 0, sc >= 0, rc, sc, labels)


def ks_complement(real: np.ndarray, synthetic: np.ndarray) -> float | None:
    if not len(real) or not len(synthetic):
        return None
    return float(1.0 - ks_2samp(real, synthetic).statistic)


def tv_complement(real: np.ndarray, synthetic: np.ndarray) -> float | None:
    """1 − ½·Σ|r_ω − s_ω| over the categories of either (codes ≥ 0; missing ignored)."""
    r, s = real[real >= 0], synthetic[synthetic >= 0]
    if not len(r) or not len(s):
        return None
    size = int(max(r.max(), s.max())) + 1
    pr = np.bincount(r, minlength=size) / len(r)
    ps = np.bincount(s, minlength=size) / len(s)
    return float(1.0 - 0.5 * np.abs(pr - ps).sum())


def correlation_similarity(real_a: np.ndarray, real_b: np.ndarray, syn_a: np.ndarray,
                           syn_b: np.ndarray) -> tuple[float | None, float | None, float | None]:
    """(score, ρ_real, ρ_synthetic); None where a column is constant (SDMetrics: NaN)."""
    rho = []
    for a, b in ((real_a, real_b), (syn_a, syn_b)):
        if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
            return None, None, None
        rho.append(float(np.corrcoef(a, b)[0, 1]))
    return 1.0 - abs(rho[0] - rho[1]) / 2.0, rho[0], rho[1]


def contingency_similarity(real_a: np.ndarray, real_b: np.ndarray, syn_a: np.ndarray,
                           syn_b: np.ndarray) -> float | None:
    """1 − ½·Σ|R_ab − S_ab| over the normalised two-way tables; codes < 0 (missing) count as
    a category of their own."""
    if not len(real_a) or not len(syn_a):
        return None
    width = int(max(real_b.max(), syn_b.max())) + 2
    height = int(max(real_a.max(), syn_a.max())) + 2
    cells = height * width
    jr = np.bincount((real_a + 1) * width + real_b + 1, minlength=cells) / len(real_a)
    js = np.bincount((syn_a + 1) * width + syn_b + 1, minlength=cells) / len(syn_a)
    return float(1.0 - 0.5 * np.abs(jr - js).sum())


def _pair(a: _Prepared, b: _Prepared) -> dict[str, Any]:
    names = [a.plan.name, b.plan.name]
    if a.plan.continuous and b.plan.continuous:
        rm, sm = a.real_valid & b.real_valid, a.synthetic_valid & b.synthetic_valid
        score, rho_r, rho_s = correlation_similarity(a.real[rm], b.real[rm],
                                                     a.synthetic[sm], b.synthetic[sm])
        return {"columns": names, "metric": "CorrelationSimilarity", "score": score,
                "real_correlation": rho_r, "synthetic_correlation": rho_s}
    score = contingency_similarity(a.real_bins, b.real_bins, a.synthetic_bins, b.synthetic_bins)
    return {"columns": names, "metric": "ContingencySimilarity", "score": score}


def _mean(scores: list[float | None]) -> float | None:
    present = [s for s in scores if s is not None]
    return float(np.mean(present)) if present else None


def quality_report(real: pa.Table, synthetic: pa.Table, *, max_pairs: int = 2000,
                   seed: int = 0) -> dict[str, Any]:
    """Column shapes, column pair trends and their mean, per column and per pair."""
    plans = plan_columns(real)
    prepared = [_prepare(p, real.column(p.name), synthetic.column(p.name))
                for p in plans if p.scored]
    columns = []
    for c in prepared:
        if c.plan.continuous:
            score = ks_complement(c.real[c.real_valid], c.synthetic[c.synthetic_valid])
            chart = number_chart(real.column(c.plan.name).type, c.real, c.real_valid,
                                 c.synthetic, c.synthetic_valid)
        else:
            score = tv_complement(c.real, c.synthetic)
            assert c.labels is not None
            chart = category_chart(c.labels, c.real, c.synthetic)
        columns.append({"column": c.plan.name, "metric": "KSComplement" if c.plan.continuous
                        else "TVComplement", "score": score, "chart": chart})
    everything = list(itertools.combinations(range(len(prepared)), 2))
    chosen = everything
    if len(everything) > max_pairs:
        picks = np.random.default_rng(seed).choice(len(everything), max_pairs, replace=False)
        chosen = [everything[i] for i in sorted(picks)]
    pairs = [_pair(prepared[i], prepared[j]) for i, j in chosen]
    shapes, trends = _mean([c["score"] for c in columns]), _mean([p["score"] for p in pairs])
    return {
        "score": _mean([shapes, trends]),
        "properties": {"column_shapes": shapes, "column_pair_trends": trends},
        "columns": columns,
        "pairs": pairs,
        "pairs_total": len(everything),
        "pairs_scored": len(pairs),
        "pairs_sampled": len(chosen) < len(everything),
        "not_scored": [{"column": p.name, "reason": "identifier" if p.kind == "fake"
                        else "no values"} for p in plans if not p.scored],
        "note": ("Scores as SDMetrics' Quality Report defines them. "
                 + (f"{len(pairs)} of {len(everything)} column pairs, drawn at random, are "
                    "scored." if len(chosen) < len(everything) else "Every column pair is "
                    "scored.")),
    }

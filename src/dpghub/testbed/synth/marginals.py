"""Each modelled column as a uniform number in [0, 1) and back: the copula's margins.

A row's uniform is drawn inside the interval its value owns in the column's empirical
distribution (ties and categories own an interval as wide as their frequency), so the
column's exact distribution — missing values included, as an interval of their own at the
bottom — comes back when uniforms are turned back into values.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DISCRETE_LIMIT = 64  # up to this many distinct numbers, only existing values are drawn


@dataclass
class NumberMargin:
    """Sorted real values; continuous ones are interpolated between neighbours (new values,
    same shape), discrete ones (few distinct values) drawn as they are."""

    sorted_values: np.ndarray
    null_share: float
    discrete: bool

    @classmethod
    def fit(cls, values: np.ndarray, valid: np.ndarray) -> NumberMargin:
        present = np.sort(values[valid])
        distinct = len(np.unique(present)) if len(present) else 0
        return cls(present, 1.0 - len(present) / len(values) if len(values) else 1.0,
                   distinct <= DISCRETE_LIMIT)

    def to_uniform(self, values: np.ndarray, valid: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
        n, p = len(self.sorted_values), self.null_share
        left = np.searchsorted(self.sorted_values, values, side="left")
        right = np.searchsorted(self.sorted_values, values, side="right")
        within = (left + rng.random(len(values)) * (right - left)) / max(n, 1)
        return np.where(valid, p + (1.0 - p) * within, rng.random(len(values)) * p)

    def from_uniform(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(values, valid mask) for uniforms `u`."""
        n, p = len(self.sorted_values), self.null_share
        valid = u >= p
        if n == 0:
            return np.zeros(len(u)), np.zeros(len(u), dtype=bool)
        q = np.clip((u - p) / max(1.0 - p, 1e-12), 0.0, 1.0 - 1e-12)
        if self.discrete or n == 1:
            return self.sorted_values[np.minimum((q * n).astype(np.int64), n - 1)], valid
        position = np.clip(q * n - 0.5, 0.0, n - 1.0)
        low = np.floor(position).astype(np.int64)
        high = np.minimum(low + 1, n - 1)
        frac = position - low
        v = self.sorted_values
        return v[low] + frac * (v[high] - v[low]), valid


@dataclass
class CategoryMargin:
    """Categories (codes 0..k-1, missing as k) in a chosen order, each owning an interval as
    wide as its frequency; with a parent column, one set of intervals per parent category
    (the child's distribution given the parent), so that pair's table is kept exactly."""

    order: np.ndarray  # position -> category code (missing = k)
    cumulative: np.ndarray  # (parents or 1, k + 2) cumulative shares by position
    parent: int | None = None  # index of the parent column in the model

    @classmethod
    def fit(cls, codes: np.ndarray, k: int, order: np.ndarray,
            parent_codes: np.ndarray | None = None, parent_k: int = 0,
            parent: int | None = None) -> CategoryMargin:
        rank = np.empty(k + 1, dtype=np.int64)
        rank[order] = np.arange(k + 1)
        pos = rank[np.where(codes < 0, k, codes)]
        if parent_codes is None:
            counts = np.bincount(pos, minlength=k + 1)[None, :].astype(float)
        else:
            rows = np.where(parent_codes < 0, parent_k, parent_codes)
            flat = np.bincount(rows * (k + 1) + pos, minlength=(parent_k + 1) * (k + 1))
            counts = flat.reshape(parent_k + 1, k + 1).astype(float)
        totals = counts.sum(axis=1, keepdims=True)
        shares = np.divide(counts, totals, out=np.zeros_like(counts), where=totals > 0)
        overall = counts.sum(axis=0) / max(counts.sum(), 1.0)
        shares[totals[:, 0] == 0] = overall  # a parent value with no rows: the plain margin
        cumulative = np.concatenate([np.zeros((len(shares), 1)), np.cumsum(shares, axis=1)], 1)
        cumulative[:, -1] = 1.0
        return cls(order, cumulative, parent)

    def _row(self, parent_codes: np.ndarray | None, size: int) -> np.ndarray:
        if parent_codes is None or self.parent is None:
            return np.zeros(size, dtype=np.int64)
        k = len(self.cumulative) - 1
        return np.where(parent_codes < 0, k, parent_codes)

    def to_uniform(self, codes: np.ndarray, rng: np.random.Generator,
                   parent_codes: np.ndarray | None = None) -> np.ndarray:
        k = len(self.order) - 1
        rank = np.empty(k + 1, dtype=np.int64)
        rank[self.order] = np.arange(k + 1)
        pos = rank[np.where(codes < 0, k, codes)]
        row = self._row(parent_codes, len(codes))
        low, high = self.cumulative[row, pos], self.cumulative[row, pos + 1]
        return low + rng.random(len(codes)) * (high - low)

    def from_uniform(self, u: np.ndarray, parent_codes: np.ndarray | None = None
                     ) -> np.ndarray:
        """Category codes (missing = -1) for uniforms `u`."""
        k = len(self.order) - 1
        row = self._row(parent_codes, len(u))
        pos = np.empty(len(u), dtype=np.int64)
        for r in np.unique(row):
            at = row == r
            pos[at] = np.searchsorted(self.cumulative[r], u[at], side="right") - 1
        pos = np.clip(pos, 0, k)
        out = self.order[pos]
        return np.where(out == k, -1, out)


@dataclass
class GroupedNumberMargin:
    """A number column's distribution given a category column (위도 given 시도명): one
    NumberMargin per parent value with enough rows, the plain one for the rest."""

    overall: NumberMargin
    groups: dict[int, NumberMargin]  # parent code (missing = -1) -> margin
    parent: int  # index of the parent column in the model

    @classmethod
    def fit(cls, values: np.ndarray, valid: np.ndarray, parent_codes: np.ndarray,
            parent: int, min_rows: int) -> GroupedNumberMargin:
        groups = {}
        for code in np.unique(parent_codes):
            at = parent_codes == code
            if at.sum() >= min_rows:
                groups[int(code)] = NumberMargin.fit(values[at], valid[at])
        return cls(NumberMargin.fit(values, valid), groups, parent)

    def to_uniform(self, values: np.ndarray, valid: np.ndarray, rng: np.random.Generator,
                   parent_codes: np.ndarray) -> np.ndarray:
        u = self.overall.to_uniform(values, valid, rng)
        for code, margin in self.groups.items():
            at = parent_codes == code
            u[at] = margin.to_uniform(values[at], valid[at], rng)
        return u

    def from_uniform(self, u: np.ndarray, parent_codes: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
        values, valid = self.overall.from_uniform(u)
        for code, margin in self.groups.items():
            at = parent_codes == code
            if at.any():
                values[at], valid[at] = margin.from_uniform(u[at])
        return values, valid

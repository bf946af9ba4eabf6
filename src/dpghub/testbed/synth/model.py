"""The synthesizer: a Gaussian copula over empirical margins, fitted once, sampled at will.

fit: every modelled column becomes uniforms (marginals.py), then normal scores; their
correlation matrix, shrunk towards independence when rows are few for the columns, is the
copula. sample: correlated normals → uniforms → values, parents before children; identifier
columns get fakes (fakes.py); rows identical to a real row are drawn again (copies.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
from scipy.special import ndtr, ndtri

from ...core.errors import Invalid
from . import structure
from .columns import codes, decimals_of, from_float, to_float
from .copies import copied_rows
from .fakes import fake_values
from .kinds import ColumnPlan, plan_columns
from .marginals import CategoryMargin, GroupedNumberMargin, NumberMargin

Progress = Callable[[float], None]
Margin = NumberMargin | GroupedNumberMargin | CategoryMargin
EPS = 1e-9
BLOCK_CELLS = 4_000_000  # normals drawn per block: bounds memory for wide tables
COPY_ROUNDS = 500
STALLED_ROUNDS = 10
FEW_COPIES = 0.05  # below this share, rows copying the modelled columns are drawn again
FAKE_SAMPLE = 2000


@dataclass
class Model:
    """A fitted synthesizer. Holds the real table: copies and fakes are checked against it."""

    real: pa.Table
    plans: list[ColumnPlan]
    margins: dict[str, Margin]
    decimals: dict[str, int]
    uniques: dict[str, pa.Array]
    factor: np.ndarray  # (columns, rank): normals = standard normals @ factor.T
    modelled: list[str]
    decode: list[str] = field(default_factory=list)

    def sample(self, n: int, seed: int = 0, progress: Progress | None = None) -> pa.Table:
        """`n` synthetic rows with the real table's schema; none identical to a real row."""
        if n < 0:
            raise Invalid("The number of rows must not be negative", code="synthetic_rows",
                          field="rows")
        table = self.draw(n, seed, progress)
        fakes = [p.name for p in self.plans if p.kind == "fake"]
        checks = [(self.modelled, 5)] if fakes and self.modelled else []
        checks.append((None, COPY_ROUNDS))
        for round_, (columns, rounds) in enumerate(checks):
            best, stalled = n + 1, 0
            for attempt in range(rounds):
                bad = np.flatnonzero(copied_rows(self.real, table, columns))
                if not len(bad) or (columns is not None and len(bad) > FEW_COPIES * n):
                    break
                stalled = 0 if len(bad) < best else stalled + 1
                best = min(best, len(bad))
                if stalled >= STALLED_ROUNDS:  # every draw is a copy: no room to hide
                    break
                extra = self.draw(len(bad), seed + 7919 * (attempt + 1) + 104729 * round_)
                index = np.arange(n)
                index[bad] = n + np.arange(len(bad))
                table = pa.concat_tables([table, extra]).take(pa.array(index))
        if n and copied_rows(self.real, table).any():
            raise Invalid("Every row that can be drawn copies a real row: the table has too "
                          "few distinct values to hide them", code="synthetic_copies_unavoidable")
        return table

    def draw(self, n: int, seed: int, progress: Progress | None = None) -> pa.Table:
        """`n` rows as the copula draws them, before copied rows are drawn again."""
        rng = np.random.default_rng(seed)
        d = len(self.modelled)
        block = max(1000, BLOCK_CELLS // max(d, 1))
        parts: list[dict[str, pa.Array]] = []
        for start in range(0, n, block):
            size = min(block, n - start)
            normals = rng.standard_normal((size, self.factor.shape[1])) @ self.factor.T
            parts.append(self._decode(ndtr(normals)))
            if progress:
                progress(0.5 + 0.4 * min(1.0, (start + size) / max(n, 1)))
        arrays = []
        for i, plan in enumerate(self.plans):
            type_ = self.real.schema.field(i).type
            if plan.kind in ("number", "category"):
                chunks = [p[plan.name] for p in parts]
                arrays.append(pa.chunked_array(chunks, type=type_) if chunks
                              else pa.chunked_array([], type=type_))
            elif plan.kind == "fake":
                arrays.append(self._fakes(plan, n, seed + 31 * (i + 1), type_))
            else:
                arrays.append(pa.chunked_array([pa.nulls(n, type=type_)], type=type_))
        return pa.Table.from_arrays(arrays, schema=self.real.schema)

    def _decode(self, u: np.ndarray) -> dict[str, pa.Array]:
        out: dict[str, pa.Array] = {}
        decoded: dict[int, np.ndarray] = {}
        for name in self.decode:
            j = self.modelled.index(name)
            margin = self.margins[name]
            type_ = self.real.schema.field(name).type
            if isinstance(margin, NumberMargin | GroupedNumberMargin):
                values, valid = (margin.from_uniform(u[:, j]) if isinstance(margin, NumberMargin)
                                 else margin.from_uniform(u[:, j], decoded[margin.parent]))
                if name in self.decimals:
                    values = np.round(values, self.decimals[name])
                out[name] = from_float(values, valid, type_)
                continue
            parent = decoded.get(margin.parent) if margin.parent is not None else None
            picked = margin.from_uniform(u[:, j], parent)
            decoded[j] = picked
            taken = self.uniques[name].take(pa.array(np.maximum(picked, 0), mask=picked < 0))
            out[name] = taken.cast(type_) if taken.type != type_ else taken
        return out

    def _fakes(self, plan: ColumnPlan, n: int, seed: int, type_: pa.DataType
               ) -> pa.ChunkedArray:
        column = self.real.column(plan.name)
        present = [str(v) for v in column.drop_null().to_pylist()]
        step = max(1, len(present) // FAKE_SAMPLE)
        values = fake_values(plan.fake or "text", n, present[::step], set(present), seed)
        rng = np.random.default_rng(seed)
        null = rng.random(n) < column.null_count / max(len(column), 1)
        array = pa.array(values, mask=null, type=pa.string())
        return pa.chunked_array([array.cast(type_) if array.type != type_ else array])


def fit(table: pa.Table, *, seed: int = 0, progress: Progress | None = None) -> Model:
    """Learn `table`'s columns and their dependence. Refuses a table without rows."""
    if table.num_rows == 0:
        raise Invalid("The table has no rows to learn from", code="synthetic_empty")
    rng = np.random.default_rng(seed)
    plans = plan_columns(table)
    margins: dict[str, Margin] = {}
    decimals: dict[str, int] = {}
    uniques: dict[str, pa.Array] = {}
    uniforms: dict[str, np.ndarray] = {}
    raw = {}
    for plan in (p for p in plans if p.kind == "number"):
        values, valid = raw[plan.name] = to_float(table.column(plan.name))
        margin = NumberMargin.fit(values, valid)
        margins[plan.name] = margin
        uniforms[plan.name] = margin.to_uniform(values, valid, rng)
        if pa.types.is_floating(table.schema.field(plan.name).type):
            decimals[plan.name] = decimals_of(margin.sorted_values)
    if progress:
        progress(0.1)
    numbers = [ndtri(np.clip(u, EPS, 1 - EPS)) for u in uniforms.values()]
    cats = [p.name for p in plans if p.kind == "category"]
    coded = []
    for name in cats:
        c, _, distinct = codes(table.column(name))
        uniques[name] = distinct
        coded.append((c, len(distinct)))
    parents = structure.choose_parents(coded, rng)
    offset = len(uniforms)
    for name, p in zip(list(uniforms), structure.choose_number_parents(numbers, coded, rng),
                       strict=True):
        if p is not None:
            grouped = GroupedNumberMargin.fit(*raw[name], coded[p][0], offset + p,
                                              structure.ROWS_PER_GROUP // 2)
            margins[name] = grouped
            uniforms[name] = grouped.to_uniform(*raw[name], rng, coded[p][0])
    if progress:
        progress(0.2)
    modelled = list(uniforms) + cats
    for i, name in enumerate(cats):
        c, k = coded[i]
        order = structure.category_order(c, k, numbers, rng)
        p = parents[i]
        margin = CategoryMargin.fit(c, k, order, *(coded[p] if p is not None else (None, 0)),
                                    parent=None if p is None else offset + p)
        margins[name] = margin
        uniforms[name] = margin.to_uniform(c, rng, None if p is None else coded[p][0])
    if progress:
        progress(0.3)
    factor = _copula(np.column_stack([uniforms[m] for m in modelled]) if modelled
                     else np.zeros((table.num_rows, 0)))
    decode = [cats[i] for i in structure.decode_order(coded)] + modelled[:offset]
    if progress:
        progress(0.4)
    return Model(table, plans, margins, decimals, uniques, factor, modelled, decode)


def _copula(u: np.ndarray) -> np.ndarray:
    """The factor A of the normal scores' correlation matrix C = A·Aᵀ, shrunk towards the
    identity by d/(n+d): with few rows for many columns, most correlations are noise."""
    n, d = u.shape
    if d == 0:
        return np.zeros((0, 0))
    z = ndtri(np.clip(u, EPS, 1 - EPS))
    z = z - z.mean(axis=0)
    scale = np.sqrt((z ** 2).mean(axis=0))
    z = np.divide(z, scale, out=np.zeros_like(z), where=scale > 0)
    corr = (z.T @ z) / n
    np.fill_diagonal(corr, 1.0)
    shrink = d / (n + d)
    corr = (1 - shrink) * corr + shrink * np.eye(d)
    values, vectors = np.linalg.eigh(corr)
    keep = values > 1e-10
    return vectors[:, keep] * np.sqrt(values[keep])


def synthesize(table: pa.Table, *, rows: int | None = None, seed: int = 0,
               progress: Progress | None = None) -> pa.Table:
    """A synthetic copy of `table`: same schema, `rows` rows (default: as many)."""
    model = fit(table, seed=seed, progress=progress)
    out = model.sample(table.num_rows if rows is None else rows, seed=seed, progress=progress)
    if progress:
        progress(1.0)
    return out

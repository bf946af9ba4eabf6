"""Hide the cells of a safe-zone answer that would disclose a few records.

Rules, in order (each hidden cell says why):

- `primary`: a group of fewer than k source rows (`__n < k`) hides all its values and its
  group keys (`GROUP BY name` would list names; `WHERE name = '…' GROUP BY diagnosis` would
  show that person's diagnosis); a count
  measure between 1 and k-1 hides itself (a large group with few of a kind); a sum or mean
  with fewer than k non-zero contributors hides itself.
- `dominance`: a sum or mean where one record makes more than `dominance` (80%) of the sum of
  absolute values hides itself: the total is then nearly that record's value.
- `difference`: the same group counted with one WHERE condition left out (`n0`, see
  plan.py) holds between 1 and k-1 more rows: the pair of answers would give those rows away.
- `secondary`: a hidden cell is not hidden if the rest of its margin is shown, because the
  analyst can ask for the margin's total in a separate query (`SELECT count(*)` without the
  GROUP BY) and subtract what is shown. So for every margin — with one group column the total
  over all groups; with two or more, each slice along each group column and the grand total —
  that holds exactly one hidden cell, the smallest shown cell of that margin (fewest rows) is
  hidden too, until nothing changes. Total minus what is shown is then the sum of at least two
  hidden cells, never one of them.

The count of a row (`__n`) is hidden with any of its values, and counts as a column of its own
in the margins. An answer that maps one to one onto records (every group of one row) is
refused whole. HAVING, ORDER BY and LIMIT run after all this, over the shown values only.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from ...core.errors import Invalid
from .plan import ZoneQuery

DOMINANCE = 0.8
COUNT_COLUMN = "__n"


@dataclass(frozen=True)
class Suppression:
    row: int
    column: str
    reason: str        # primary | dominance | difference | secondary


@dataclass
class Suppressed:
    columns: list[str]                 # the query's columns, then "__n"
    rows: list[dict[str, Any]]
    suppressed: list[Suppression] = field(default_factory=list)

    def table(self) -> pa.Table:
        return pa.Table.from_pylist(self.rows) if self.rows else \
            pa.table({c: pa.array([], pa.null()) for c in self.columns})


def suppress(result: pa.Table | list[dict[str, Any]], plan: ZoneQuery, *, k: int,
             n: list[int] | None = None, n0: list[int | None] | None = None,
             dominance: float = DOMINANCE) -> Suppressed:
    """The answer of `plan.cells_sql` (`result`) with what may not leave the zone hidden.

    `n` defaults to the result's `__n`; `n0` is `align_counts` of `plan.base_sql`'s answer."""
    if k < 2:
        raise Invalid("k must be at least 2 (it is {k})", code="invalid_k", field="k", k=k)
    cells = result.to_pylist() if isinstance(result, pa.Table) else [dict(r) for r in result]
    counts = list(n) if n is not None else [int(r[COUNT_COLUMN]) for r in cells]
    if len(counts) != len(cells) or (n0 is not None and len(n0) != len(cells)):
        raise Invalid("n and n0 must hold one count per row of the result", code="invalid")
    if len(cells) > 1 and all(c <= 1 for c in counts):
        raise Invalid("The answer has one group per record ({groups} groups of one row): "
                      "only counts, sums and means per group may leave a safe zone",
                      code="row_level_output", field="sql", groups=len(cells))
    hidden: dict[tuple[int, str], str] = {}
    for i, row in enumerate(cells):
        _primary(i, row, counts[i], n0[i] if n0 is not None else None, plan, k, dominance,
                 hidden)
    _secondary(cells, counts, plan, hidden)
    return _release(cells, counts, plan, hidden)


def align_counts(cells: pa.Table | list[dict[str, Any]], base: pa.Table | list[dict[str, Any]],
                 plan: ZoneQuery) -> list[int | None]:
    """`__n0` of `plan.base_sql`'s answer, in the order of the cells' rows."""
    cell_rows = cells.to_pylist() if isinstance(cells, pa.Table) else cells
    base_rows = base.to_pylist() if isinstance(base, pa.Table) else base
    by_key = {tuple(r[g] for g in plan.groups): r["__n0"] for r in base_rows}
    return [by_key.get(tuple(r[g] for g in plan.groups)) for r in cell_rows]


def _primary(i: int, row: dict[str, Any], n: int, n0: int | None, plan: ZoneQuery, k: int,
             dominance: float, hidden: dict[tuple[int, str], str]) -> None:
    every = [m.name for m in plan.measures] + [COUNT_COLUMN]
    if n < k:   # the key of a small group is itself a record's value (a name, a diagnosis)
        _hide(hidden, i, [*every, *plan.groups], "primary")
    if n0 is not None and 0 < n0 - n < k:
        _hide(hidden, i, every, "difference")
    failed = {j: reason for j, a in enumerate(plan.aggregates)
              if (reason := _aggregate_fails(row, a.column, a.kind, k, dominance))}
    for measure in plan.measures:
        reasons = [failed[j] for j in measure.aggregates if j in failed]
        if reasons:
            _hide(hidden, i, [measure.name], reasons[0])
    _whole_count(i, plan, hidden)


def _aggregate_fails(row: dict[str, Any], column: str, kind: str, k: int,
                     dominance: float) -> str | None:
    if kind in ("count", "count_distinct"):
        value = row.get(f"{column}_v")
        return "primary" if value is not None and 0 < value < k else None
    if kind in ("sum", "avg"):
        contributors = row.get(f"{column}_nz") or 0
        if 0 < contributors < k:
            return "primary"
        top, total = row.get(f"{column}_top"), row.get(f"{column}_abs")
        if top is not None and total and float(top) > dominance * float(total):
            return "dominance"
    return None


def _hide(hidden: dict[tuple[int, str], str], row: int, columns: list[str], reason: str) -> bool:
    changed = False
    for column in columns:
        if (row, column) not in hidden:
            hidden[(row, column)] = reason
            changed = True
    return changed


def _whole_count(i: int, plan: ZoneQuery, hidden: dict[tuple[int, str], str]) -> bool:
    """A row with any hidden value hides its count, and a COUNT(*) column is that count."""
    columns = [m.name for m in plan.measures] + [COUNT_COLUMN]
    shown_reasons = [hidden[(i, c)] for c in columns if (i, c) in hidden]
    if not shown_reasons:
        return False
    reason = hidden.get((i, COUNT_COLUMN), shown_reasons[0])
    tied = [m.name for m in plan.measures if m.kinds(plan) == ("count_star",)]
    return _hide(hidden, i, [COUNT_COLUMN, *tied], reason)


def _margins(cells: list[dict[str, Any]], groups: tuple[str, ...]) -> list[list[int]]:
    if not groups:
        return []
    everything = list(range(len(cells)))
    if len(groups) == 1:
        return [everything]
    margins = [everything]
    for along in groups:
        others = [g for g in groups if g != along]
        slices: dict[tuple[Any, ...], list[int]] = defaultdict(list)
        for i, row in enumerate(cells):
            slices[tuple(row[g] for g in others)].append(i)
        margins += list(slices.values())
    return margins


def _secondary(cells: list[dict[str, Any]], counts: list[int], plan: ZoneQuery,
               hidden: dict[tuple[int, str], str]) -> None:
    columns = [m.name for m in plan.measures] + [COUNT_COLUMN]
    margins = _margins(cells, plan.groups)
    changed = True
    while changed:
        changed = False
        for column in columns:
            for margin in margins:
                inside = [i for i in margin if (i, column) in hidden]
                shown = [i for i in margin if (i, column) not in hidden]
                if len(inside) != 1 or not shown:
                    continue
                smallest = min(shown, key=lambda i: (counts[i], i))
                _hide(hidden, smallest, [column], "secondary")
                _whole_count(smallest, plan, hidden)
                changed = True


def _release(cells: list[dict[str, Any]], counts: list[int], plan: ZoneQuery,
             hidden: dict[tuple[int, str], str]) -> Suppressed:
    columns = [*plan.columns, COUNT_COLUMN]
    rows = []
    for i, row in enumerate(cells):
        out = {c: None if (i, c) in hidden else row.get(c) for c in plan.columns}
        out[COUNT_COLUMN] = None if (i, COUNT_COLUMN) in hidden else counts[i]
        rows.append(out)
    order = _release_order(rows, cells, plan, hidden)
    position = {row: p for p, row in enumerate(order)}
    return Suppressed(columns, [rows[i] for i in order],
                      sorted((Suppression(position[i], c, r) for (i, c), r in hidden.items()
                              if i in position), key=lambda s: (s.row, columns.index(s.column))))


def _release_order(rows: list[dict[str, Any]], cells: list[dict[str, Any]], plan: ZoneQuery,
                   hidden: dict[tuple[int, str], str]) -> list[int]:
    """Which rows HAVING keeps, in ORDER BY's order: decided on shown values only (every
    aggregate of a row with anything hidden reads as NULL)."""
    if plan.release_sql == 'SELECT "__row" FROM "__cells"':
        return list(range(len(rows)))
    touched = {i for i, _ in hidden}
    table = [{**row, "__row": i,
              **{f"{a.column}_v": None if i in touched else cells[i].get(f"{a.column}_v")
                 for a in plan.aggregates}}
             for i, row in enumerate(rows)]
    con = duckdb.connect()
    try:
        con.register("__cells", pa.Table.from_pylist(table) if table else pa.table(
            {c: pa.array([], pa.null()) for c in [*plan.columns, "__row"]}
            | {f"{a.column}_v": pa.array([], pa.null()) for a in plan.aggregates}))
        return [int(r[0]) for r in con.execute(plan.release_sql).fetchall()]
    finally:
        con.close()

"""Apply a checked plan to a DuckDB relation: a streamed Arrow reader of the output, the
output's columns, a record of what was done to each column, and the token mappings.

Every scan that must come before the output (checks, counts, the distinct values of token
columns) runs first: DuckDB runs nothing else on a connection while a reader is open.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa

from ...core.duck import first_row, quote_ident
from .faults import Faults
from .functions import RegionLookup, register_dates, register_regions
from .keyed import new_tokens, register_hmac, register_tokens
from .plan import ColumnPlan, GeneralisePlan, HmacPlan, KeepPlan, TokenPlan, fit_faults
from .transforms import Context, Transform, transform

BATCH_ROWS = 65_536
MIN_KEY_BYTES = 16


@dataclass
class Result:
    reader: pa.RecordBatchReader
    out_columns: list[dict[str, str]]
    record: list[dict[str, Any]]
    tokens: dict[str, pa.Table] = field(default_factory=dict)


def pseudonymise(con: duckdb.DuckDBPyConnection, relation: str, columns: list[dict[str, Any]],
                 plan: dict[str, ColumnPlan], *, hmac_key: bytes | None,
                 regions: RegionLookup | None, today: date) -> Result:
    """Pseudonymise `relation` (a table or view name as SQL, quoted by the caller when it needs
    quoting) by `plan` (from `validate_plan`); columns the plan leaves out are kept as they
    are. `today` is the reference date of age bands without their own and of YYMMDD texts."""
    types = {c["name"]: c["type"] for c in columns}
    _refuse(con, relation, types, plan, hmac_key=hmac_key, regions=regions)
    integral = _integral_text(con, relation, types, plan)
    run = secrets.token_hex(4)   # function names of this run: a second run never meets them
    context = Context(today=today, hmac_function=f"_pv_hmac_{run}",
                      token_function=f"_pv_token_{run}")
    register_dates(con)
    if regions is not None and _uses(plan, ("sigungu", "sido")):
        register_regions(con, regions)
    if hmac_key is not None and any(isinstance(m, HmacPlan) for m in plan.values()):
        register_hmac(con, context.hmac_function, hmac_key)
    tokens: dict[str, pa.Table] = {}
    transforms: dict[str, Transform] = {}
    for name, kind in types.items():
        model = plan.get(name, KeepPlan(action="keep"))
        if isinstance(model, TokenPlan):
            tokens[name] = _token_mapping(con, relation, name)
            function = f"_pv_token_{run}_{len(tokens)}"
            register_tokens(con, function, tokens[name])
            context_here = Context(today=today, token_function=function)
            transforms[name] = transform(name, kind, model, context_here)
        else:
            transforms[name] = transform(name, kind, model, Context(
                today=today, hmac_function=context.hmac_function,
                integral=integral.get(name, False)))
    record = _record(con, relation, types, plan, transforms, tokens)
    kept = [(n, t) for n, t in transforms.items() if t.sql is not None]
    select = ", ".join(f"{t.sql} AS {quote_ident(n)}" for n, t in kept)
    reader = con.sql(f"SELECT {select} FROM {relation}").to_arrow_reader(batch_size=BATCH_ROWS)
    out_columns = [{"name": n, "type": str(t.out_type)} for n, t in kept]
    return Result(reader=reader, out_columns=out_columns, record=record, tokens=tokens)


def _uses(plan: dict[str, ColumnPlan], targets: tuple[str, ...]) -> bool:
    return any(isinstance(m, GeneralisePlan) and m.to in targets for m in plan.values())


def _refuse(con: duckdb.DuckDBPyConnection, relation: str, types: dict[str, str],
            plan: dict[str, ColumnPlan], *, hmac_key: bytes | None,
            regions: RegionLookup | None) -> None:
    """Faults of the plan against these columns, of the caller's key and regions, and of
    text columns that are to be read as numbers but hold something else."""
    faults = fit_faults(plan, types)
    hashed = [n for n, m in plan.items() if isinstance(m, HmacPlan)]
    if hashed and not hmac_key:
        faults.add("hmac_key_missing", f"plan.{hashed[0]}",
                   f"{', '.join(map(repr, hashed))}: hmac needs a key and none was given")
    elif hashed and hmac_key is not None and len(hmac_key) < MIN_KEY_BYTES:
        faults.add("hmac_key_too_short", f"plan.{hashed[0]}",
                   f"{', '.join(map(repr, hashed))}: the hmac key has {len(hmac_key)} bytes, "
                   f"at least {MIN_KEY_BYTES} are needed")
    regional = [n for n, m in plan.items()
                if isinstance(m, GeneralisePlan) and m.to in ("sigungu", "sido")]
    if regional and regions is None:
        faults.add("regions_unavailable", f"plan.{regional[0]}",
                   f"{', '.join(map(repr, regional))}: no region code reference is available")
    faults.raise_any()
    _non_numeric_text(con, relation, types, plan).raise_any()


def _numeric_text(types: dict[str, str], plan: dict[str, ColumnPlan]) -> list[str]:
    return [n for n, m in plan.items() if isinstance(m, GeneralisePlan)
            and m.to in ("range", "top_bottom") and types.get(n) == "text"]


def _as_number(name: str) -> str:
    return f"TRY_CAST(replace(trim({quote_ident(name)}), ',', '') AS DOUBLE)"


def _non_numeric_text(con: duckdb.DuckDBPyConnection, relation: str, types: dict[str, str],
                      plan: dict[str, ColumnPlan]) -> Faults:
    faults = Faults()
    names = _numeric_text(types, plan)
    if not names:
        return faults
    counts = ", ".join(f"count({quote_ident(n)}) - count({_as_number(n)})" for n in names)
    row = first_row(con, f"SELECT {counts} FROM {relation}") or ()
    for name, bad in zip(names, row, strict=True):
        if bad:
            to = plan[name].to  # type: ignore[union-attr]
            faults.add("generalisation_type_mismatch", f"plan.{name}.to",
                       f"{name!r}: {to} reads numbers, and {bad} values of this text column "
                       "are not numbers")
    return faults


def _integral_text(con: duckdb.DuckDBPyConnection, relation: str, types: dict[str, str],
                   plan: dict[str, ColumnPlan]) -> dict[str, bool]:
    """Text columns to be read as numbers: whether every number is whole ('30-39' labels)."""
    names = _numeric_text(types, plan)
    if not names:
        return {}
    checks = ", ".join(f"coalesce(bool_and({_as_number(n)} = floor({_as_number(n)})), true)"
                       for n in names)
    row = first_row(con, f"SELECT {checks} FROM {relation}") or ()
    return dict(zip(names, (bool(v) for v in row), strict=True))


def _token_mapping(con: duckdb.DuckDBPyConnection, relation: str, name: str) -> pa.Table:
    column = quote_ident(name)
    values = con.sql(f"SELECT DISTINCT CAST({column} AS VARCHAR) AS value FROM {relation} "
                     f"WHERE {column} IS NOT NULL").to_arrow_table()
    return new_tokens(values.column("value").combine_chunks())


def _rewritten(name: str, t: Transform, plan: dict[str, ColumnPlan],
               tokens: dict[str, pa.Table]) -> bool:
    """Masked or generalised: the output is compared with the input value by value."""
    return (t.sql is not None and t.sql != quote_ident(name) and name not in tokens
            and not isinstance(plan.get(name), HmacPlan))


def _record(con: duckdb.DuckDBPyConnection, relation: str, types: dict[str, str],
            plan: dict[str, ColumnPlan], transforms: dict[str, Transform],
            tokens: dict[str, pa.Table]) -> list[dict[str, Any]]:
    """One entry per column: what was done, and counts — rows, nulls (in the input), changed
    (values whose output differs), emptied (values that became null: unreadable dates,
    addresses matching no region)."""
    parts = ["count(*)"]
    for name, t in transforms.items():
        column = quote_ident(name)
        parts.append(f"count({column})")
        if _rewritten(name, t, plan, tokens):
            parts.append(f"count({t.sql})")
            parts.append(f"count(*) FILTER (WHERE {column} IS NOT NULL AND {t.sql} IS NOT NULL "
                         f"AND CAST({t.sql} AS VARCHAR) IS DISTINCT FROM "
                         f"CAST({column} AS VARCHAR))")
    row = list(first_row(con, f"SELECT {', '.join(parts)} FROM {relation}") or ())
    rows = int(row.pop(0))
    record = []
    for name, t in transforms.items():
        present = int(row.pop(0))
        model = plan.get(name)
        entry: dict[str, Any] = {
            "column": name, "action": model.action if model else "keep",
            "options": model.model_dump(mode="json", exclude={"action"}, exclude_none=True)
            if model else {},
            "detail": t.detail if model else "not in the plan: kept as it is",
            "rows": rows, "nulls": rows - present, "changed": 0, "emptied": 0,
        }
        if t.sql is None or isinstance(model, HmacPlan) or name in tokens:
            entry["changed"] = present
            if name in tokens:
                entry["distinct"] = tokens[name].num_rows
        elif _rewritten(name, t, plan, tokens):
            out = int(row.pop(0))
            entry["changed"] = int(row.pop(0))
            entry["emptied"] = present - out
        record.append(entry)
    return record

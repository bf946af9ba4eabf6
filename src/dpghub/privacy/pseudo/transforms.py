"""The SQL expression of each action, with the hub type it yields and a sentence saying what it
does (for the plan's record)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ...core.duck import quote_ident
from .plan import ColumnPlan, DropPlan, GeneralisePlan, HmacPlan, KeepPlan, MaskPlan, TokenPlan

SEPARATORS = "- @.()+/"     # kept by masking: the value's shape stays readable
SQL_TYPES = {"integer": "BIGINT", "decimal": "DOUBLE"}


@dataclass(frozen=True)
class Transform:
    sql: str | None           # None: the column is dropped
    out_type: str | None
    detail: str


@dataclass(frozen=True)
class Context:
    today: date
    hmac_function: str = ""
    token_function: str = ""
    integral: bool = False    # a text column's numbers are all whole (range labels)


def transform(name: str, kind: str, model: ColumnPlan, context: Context) -> Transform:
    column = quote_ident(name)
    if isinstance(model, DropPlan):
        return Transform(None, None, "dropped")
    if isinstance(model, KeepPlan):
        return Transform(column, kind, "kept as it is")
    if isinstance(model, MaskPlan):
        return _mask(column, model)
    if isinstance(model, HmacPlan):
        return Transform(f"{context.hmac_function}(CAST({column} AS VARCHAR))", "text",
                         "replaced by its keyed HMAC-SHA-256 (64 hex characters)")
    if isinstance(model, TokenPlan):
        return Transform(f"{context.token_function}(CAST({column} AS VARCHAR))", "text",
                         "replaced by a random token per distinct value")
    assert isinstance(model, GeneralisePlan)
    return _generalise(column, kind, model, context)


def _mask(column: str, model: MaskPlan) -> Transform:
    """Letters and digits masked, separators kept; a value with no more maskable characters
    than keep_start + keep_end is masked whole (keeping it would reveal it all)."""
    start, end = model.keep_start, model.keep_end
    char = model.char.replace("'", "''").replace("\\", "\\\\")
    maskable, separator = f"[^{SEPARATORS}]", f"[{SEPARATORS}]"
    whole = f"regexp_replace(s, '{maskable}', '{char}', 'g')"
    # the kept ends, each with the separators inside it; what lies between them is masked
    head = f"regexp_extract(s, '^({separator}*{maskable}){{{start}}}')"
    tail = f"regexp_extract(s, '({maskable}{separator}*){{{end}}}$')"
    middle = f"substr(s, length({head}) + 1, length(s) - length({head}) - length({tail}))"
    count = f"length(regexp_replace(s, '{separator}', '', 'g'))"
    sql = (f"list_transform([CAST({column} AS VARCHAR)], lambda s: CASE "
           f"WHEN {count} <= {start + end} THEN {whole} "
           f"ELSE {head} || regexp_replace({middle}, '{maskable}', '{char}', 'g') || {tail} "
           f"END)[1]")
    kept = [f"the first {start}" if start else "", f"the last {end}" if end else ""]
    said = " and ".join(k for k in kept if k)
    detail = (f"masked with '{model.char}' all but {said} letters or digits, separators kept"
              if said else f"masked with '{model.char}', separators kept")
    return Transform(sql, "text", detail)


def _date_of(column: str, kind: str, reference: date) -> str:
    if kind == "date":
        return column
    if kind == "timestamp":
        return f"CAST({column} AS DATE)"
    return f"_pv_text_date(trim(CAST({column} AS VARCHAR)), '{reference:%y}')"


def _number_of(column: str, kind: str) -> str:
    if kind == "text":
        return f"TRY_CAST(replace(trim({column}), ',', '') AS DOUBLE)"
    return f"CAST({column} AS DOUBLE)"


def _generalise(column: str, kind: str, model: GeneralisePlan, context: Context) -> Transform:
    to = model.to
    if to in ("age_band", "birth_year", "month", "year"):
        reference = model.reference_date or context.today
        born = _date_of(column, kind, reference)
        if to == "birth_year":
            return Transform(f"year({born})", "integer", "generalised to the year of birth")
        if to == "year":
            return Transform(f"year({born})", "integer", "generalised to the year")
        if to == "month":
            return Transform(f"strftime({born}, '%Y-%m')", "text",
                             "generalised to the month (YYYY-MM)")
        width = int(model.band_width)
        age = f"_pv_age({born}, DATE '{reference.isoformat()}')"
        return Transform(_band(f"CASE WHEN {age} >= 0 THEN {age} END", width, True), "text",
                         f"generalised to {width}-year age bands at {reference.isoformat()}")
    if to in ("sigungu", "sido"):
        lookup = "_pv_sigungu_code" if to == "sigungu" else "_pv_sido_code"
        code = f"{lookup}(CAST({column} AS VARCHAR))"
        what = "시군구" if to == "sigungu" else "시도"
        if model.output == "code":
            return Transform(code, "text", f"generalised to the {what} code")
        return Transform(f"_pv_region_name({code})", "text", f"generalised to the {what} name")
    number = _number_of(column, kind)
    if to == "range":
        width = model.band_width
        whole = (kind == "integer" or (kind == "text" and context.integral))
        whole = whole and float(width).is_integer()
        return Transform(_band(number, width, whole), "text",
                         f"generalised to ranges of width {_literal(width)}")
    return _top_bottom(column, kind, number, model)


def _band(value: str, width: float, whole: bool) -> str:
    """'30-39' for whole numbers (both ends inclusive; the value itself at width 1), else the
    half-open '[2.5, 5)'."""
    lower = f"floor(({value}) / {_literal(width)}) * {_literal(width)}"
    if whole:
        if width == 1:
            return f"CAST(CAST({value} AS BIGINT) AS VARCHAR)"
        return (f"CAST(CAST({lower} AS BIGINT) AS VARCHAR) || '-' || "
                f"CAST(CAST({lower} + {_literal(width - 1)} AS BIGINT) AS VARCHAR)")
    return (f"'[' || CAST(round({lower}, 9) AS VARCHAR) || ', ' || "
            f"CAST(round({lower} + {_literal(width)}, 9) AS VARCHAR) || ')'")


def _top_bottom(column: str, kind: str, number: str, model: GeneralisePlan) -> Transform:
    low, high = model.low, model.high
    said = " and ".join(s for s in (
        f"values below {_literal(low)} coded as {_literal(low)}" if low is not None else "",
        f"values above {_literal(high)} coded as {_literal(high)}" if high is not None else "",
    ) if s)
    if kind in SQL_TYPES:
        cases = "".join(f" WHEN {number} {op} {_literal(bound)} THEN {_literal(bound)}"
                        for op, bound in (("<", low), (">", high)) if bound is not None)
        sql = f"CAST(CASE{cases} ELSE {column} END AS {SQL_TYPES[kind]})"
        return Transform(sql, kind, f"top/bottom coded: {said}")
    cases = "".join(f" WHEN {number} {op} {_literal(bound)} THEN '{op}{_literal(bound)}'"
                    for op, bound in (("<", low), (">", high)) if bound is not None)
    sql = f"CASE{cases} ELSE {column} END"
    return Transform(sql, "text", f"top/bottom coded as text ('<low', '>high'): {said}")


def _literal(number: float | None) -> str:
    assert number is not None
    return str(int(number)) if float(number).is_integer() else repr(float(number))

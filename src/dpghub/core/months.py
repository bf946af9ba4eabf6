"""Calendar months in Asia/Seoul, as SQL and as Python: the hub's monthly figures count what
happened in a Korean month, whichever database holds the timestamps (stored as UTC)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from .errors import Invalid

KST = timezone(timedelta(hours=9))   # Korea keeps no daylight saving time (since 1988)
MAX_MONTHS = 120


class _SeoulText(FunctionElement[str]):
    """A UTC timestamp as text of its Seoul calendar time: `formats` are (PostgreSQL's
    to_char, SQLite's strftime)."""

    type = String()
    inherit_cache = True
    formats = ("", "")


class seoul_month(_SeoulText):  # noqa: N801 — reads as a SQL function
    """`seoul_month(column)`: the Seoul calendar month of a UTC timestamp as 'YYYY-MM'."""

    inherit_cache = True
    formats = ("YYYY-MM", "%Y-%m")


class seoul_day(_SeoulText):  # noqa: N801
    """`seoul_day(column)`: the Seoul calendar day of a UTC timestamp as 'YYYY-MM-DD'."""

    inherit_cache = True
    formats = ("YYYY-MM-DD", "%Y-%m-%d")


@compiles(_SeoulText)
def _seoul_postgresql(element: _SeoulText, compiler: Any, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"to_char(timezone('Asia/Seoul', {column}), '{element.formats[0]}')"


@compiles(_SeoulText, "sqlite")
def _seoul_sqlite(element: _SeoulText, compiler: Any, **kw: Any) -> str:
    # SQLite keeps the UTC timestamp as text; strftime reads it and adds Seoul's offset (the
    # sqlite3 driver takes '?' parameters: a '%' here is a plain character)
    column = compiler.process(element.clauses, **kw)
    return f"strftime('{element.formats[1]}', {column}, '+9 hours')"


def days(count: int) -> timedelta:
    return timedelta(days=count)


def month_of(moment: datetime) -> str:
    return moment.astimezone(KST).strftime("%Y-%m")


def month_span(moment: float) -> tuple[float, float]:
    """The Seoul month holding an epoch second, as [first second, first of the next)."""
    local = datetime.fromtimestamp(moment, KST)
    first = date(local.year, local.month, 1)
    return (datetime(first.year, first.month, 1, tzinfo=KST).timestamp(),
            datetime(*_next(first).timetuple()[:3], tzinfo=KST).timestamp())


def parse_month(text: str, field: str) -> date:
    """'2026-05' → the first day of that month; anything else is a 422 naming the field."""
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        raise Invalid("{field} is no month written as YYYY-MM: {value}", code="bad_month",
                      field=field, value=text[:20]) from None


def _next(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def months_between(start: str | None, end: str | None, now: datetime,
                   default: int = 12) -> list[str]:
    """The months from `start` to `end` inclusive ('YYYY-MM'); by default the `default`
    months up to the one `now` is in. More than ten years, or an end before the start: 422."""
    last = parse_month(end, "to") if end else parse_month(month_of(now), "to")
    if start:
        first = parse_month(start, "from")
    else:
        first = last
        for _ in range(default - 1):
            first = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    if first > last:
        raise Invalid("The month range ends before it starts: {start} to {end}",
                      code="bad_period", field="to", start=first.strftime("%Y-%m"),
                      end=last.strftime("%Y-%m"))
    months = []
    while first <= last:
        months.append(first.strftime("%Y-%m"))
        if len(months) > MAX_MONTHS:
            raise Invalid("At most {limit} months at once", code="too_many_months",
                          field="from", limit=MAX_MONTHS)
        first = _next(first)
    return months


def bounds(months: list[str]) -> tuple[datetime, datetime]:
    """The UTC instants where the first month starts and the month after the last starts."""
    first = parse_month(months[0], "from")
    after = _next(parse_month(months[-1], "to"))
    return (datetime(first.year, first.month, 1, tzinfo=KST).astimezone(UTC),
            datetime(after.year, after.month, 1, tzinfo=KST).astimezone(UTC))


def cumulative(before: float, per_month: dict[str, float], months: list[str]) -> dict[str, float]:
    """A stock at each month's end: what there was before the range plus each month's change."""
    total, out = before, {}
    for month in months:
        total += per_month.get(month, 0)
        out[month] = total
    return out

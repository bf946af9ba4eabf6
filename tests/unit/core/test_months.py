"""Seoul months: the span of a month in epoch seconds agrees with `month_of` at its edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dpghub.core.months import month_of, month_span


@pytest.mark.parametrize(("moment", "month"), [
    (datetime(2026, 4, 30, 15, 0, tzinfo=UTC), "2026-05"),          # Seoul's 1 May, 00:00
    (datetime(2026, 4, 30, 14, 59, 59, tzinfo=UTC), "2026-04"),
    (datetime(2026, 12, 31, 15, 0, tzinfo=UTC), "2027-01"),         # the year turns
    (datetime(2028, 2, 29, 3, 0, tzinfo=UTC), "2028-02"),           # a leap day
])
def test_a_months_span_holds_its_moments_and_no_other(moment: datetime, month: str) -> None:
    start, end = month_span(moment.timestamp())
    assert month_of(moment) == month
    assert start <= moment.timestamp() < end
    first, last = (datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC))
    assert month_of(first) == month and month_of(first - timedelta(seconds=1)) != month
    assert month_of(last) != month and month_of(last - timedelta(seconds=1)) == month

"""Types come from every value, not from the first rows the sample sees."""

from __future__ import annotations

from tests.support.lake import Lake


def _csv(rows: int, late: dict[int, tuple[str, str, str]]) -> bytes:
    lines = ["번호,수량,비율"]
    for i in range(1, rows + 1):
        lines.append(",".join(late.get(i, (str(i), str(i * 10), f"{i}.5"))))
    return ("\n".join(lines) + "\n").encode("cp949")


def test_a_late_value_changes_the_type(lake: Lake) -> None:
    late = {9_000: ("9000", "12.75", "1.5"), 9_500: ("9500", "95000", "없음")}
    payload = _csv(12_000, late)
    lake.create("late")
    job = lake.ingest_ok("late", ("late.csv", payload))
    assert job["result"]["row_count"] == 12_000
    types = lake.types("late")
    assert types["수량"] == "decimal"   # integers for 8,999 rows, then 12.75
    assert types["비율"] == "text"      # decimals until "없음"
    row = lake.rows("late", 번호=9000).json()["rows"][0]
    assert row["수량"] == 12.75 and row["비율"] == "1.5"


def test_a_late_leading_zero_keeps_a_code_as_text(lake: Lake) -> None:
    lines = ["이름,우편"] + [f"가{i},{10000 + i}" for i in range(8_000)] + ["나,04524"]
    lake.create("zip-codes")
    lake.ingest_ok("zip-codes", ("codes.csv", ("\n".join(lines) + "\n").encode()))
    assert lake.types("zip-codes")["우편"] == "text"
    assert lake.rows("zip-codes", 이름="나").json()["rows"][0]["우편"] == "04524"


def test_late_misfits_in_several_columns_far_apart_settle_in_one_more_pass(lake: Lake) -> None:
    # each column holds its proposed type for more than one write batch (65,536 rows), then
    # breaks it in a different batch: every one is found when the first misfit stops the write
    lines = ["순서,가,나,다"]
    for i in range(1, 220_001):
        a = "없음" if i == 70_000 else str(i)
        b = "1.5" if i == 140_000 else str(i * 2)
        c = "-" if i == 210_000 else "2024-01-01"
        lines.append(f"{i},{a},{b},{c}")
    lake.create("far-apart")
    job = lake.ingest_ok("far-apart", ("far.csv", ("\n".join(lines) + "\n").encode("cp949")))
    assert job["result"]["row_count"] == 220_000
    types = lake.types("far-apart")
    assert (types["순서"], types["가"], types["나"], types["다"]) == (
        "integer", "text", "decimal", "text")


def test_times_with_spaces_around_them_stay_times(lake: Lake) -> None:
    # the statistics trim values before casting; the per-value check must do the same, or the
    # proposal "time" would fail and be proposed again until the job gave up
    lines = ["지점,개방시각"] + [f"지점{i},{' 09:00 ' if i % 2 else '18:30'}" for i in range(100)]
    lake.create("open-times")
    lake.ingest_ok("open-times", ("times.csv", ("\n".join(lines) + "\n").encode()))
    assert lake.types("open-times")["개방시각"] == "time"
    assert lake.rows("open-times", 지점="지점1").json()["rows"][0]["개방시각"] == "09:00:00"


def test_dates_with_spaces_around_them_stay_dates(lake: Lake) -> None:
    lines = ["지점,기준일자"] + [f"지점{i},{' 20240101 ' if i % 2 else '20240315'}"
                               for i in range(100)]
    lake.create("padded-dates")
    lake.ingest_ok("padded-dates", ("dates.csv", ("\n".join(lines) + "\n").encode()))
    assert lake.types("padded-dates")["기준일자"] == "date"
    assert lake.rows("padded-dates", 지점="지점1").json()["rows"][0]["기준일자"] == "2024-01-01"

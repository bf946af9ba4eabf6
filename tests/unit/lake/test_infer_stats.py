"""The inference statistics put cheap tests in front of costly casts (a CASE instead of an
AND); the counts must stay exactly those of the casts themselves."""

from __future__ import annotations

import duckdb

from dpghub.lake.infer import _stats_sql

TRICKY = ["infinity", "-infinity", "epoch", "EPOCH", "inf", "nan", "+5", ".5", "-.5", "1e3",
          "0x1F", "1_000", "2020-01-01", "2020-01-01 12:00:00", "2020.07.01", "12:00",
          "09:30:00", "1,234", ",5", "가나다", "abc", "true", "FALSE", "True ", "0101", "000",
          "0.5", "00", "20200701", "20201399", "", " ", None, "NaN", "Infinity", "-inf", "+.5",
          ".5e3", "0b101", ",,5", "١٢", "epoch", "allballs", "1:00", "24:00", "T12:00", "\t5", "\n12:00", "\t2020-01-01"]


def test_counts_equal_the_plain_casts() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE v AS SELECT unnest(?) AS x", [TRICKY])
    n, num, integer, lz, comma, dates, ts, times, bools, d8, *_ = con.sql(
        _stats_sql(["x"], "v")).fetchall()[0][1:]
    t = "trim(x)"
    expected = con.sql(
        f"SELECT count(x), count(TRY_CAST(replace({t}, ',', '') AS DOUBLE)), "
        f"count(TRY_CAST(replace({t}, ',', '') AS BIGINT)), "
        f"count_if(length({t}) > 1 AND {t}[1] = '0' AND {t}[2] BETWEEN '0' AND '9' "
        f"AND ltrim({t}, '0') <> ''), count_if(contains(x, ',')), "
        f"count(TRY_CAST({t} AS DATE)), count(TRY_CAST({t} AS TIMESTAMP)), "
        f"count_if(length({t}) <= 8 AND TRY_CAST({t} AS TIME) IS NOT NULL), "
        f"count_if(lower({t}) IN ('true', 'false')), "
        f"count_if(length({t}) = 8 AND TRY_STRPTIME({t}, '%Y%m%d') IS NOT NULL) FROM v"
    ).fetchall()[0]
    assert (n, num, integer, lz, comma, dates, ts, times, bools, d8) == expected
    assert dates >= 4 and times >= 3 and bools == 3 and d8 >= 1 and lz == 2   # not vacuous

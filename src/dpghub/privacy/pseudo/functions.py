"""DuckDB functions the transforms call: region look-ups and the reading of text dates.

Names start with `_pv_` so they never meet the analysis sandbox's own region functions on a
shared connection.
"""

from __future__ import annotations

from typing import Protocol

import duckdb

# A 주민등록번호 (masked tail allowed: 900101-1******), a date with optional separators and an
# optional time after it, or YYMMDD.
RRN = r"\d{6}\s*-?\s*[0-9][0-9*xX]{6}"
YMD_PREFIX = r"^\d{4}[-./]?\d{2}[-./]?\d{2}"
YYMMDD = r"\d{6}"

# century of a 주민등록번호 from its 7th digit (1,2,5,6 → 1900s; 3,4,7,8 → 2000s; 9,0 → 1800s)
RRN_CENTURY = ("CASE WHEN d IN ('1','2','5','6') THEN '19' WHEN d IN ('3','4','7','8') "
               "THEN '20' ELSE '18' END")


class RegionLookup(Protocol):
    """What `dpghub.analysis.regions.RegionIndex` offers; any object with these will do."""

    def sigungu_code(self, text: str | None) -> str | None: ...

    def sido_code(self, text: str | None) -> str | None: ...

    def region_name(self, code: str | None) -> str | None: ...


def register_regions(con: duckdb.DuckDBPyConnection, regions: RegionLookup) -> None:
    """`_pv_sigungu_code`, `_pv_sido_code`, `_pv_region_name` over VARCHAR (replaced when
    already there, so a second run on the same connection uses its own lookup)."""
    from duckdb.sqltypes import VARCHAR

    for name, function in (("_pv_sigungu_code", regions.sigungu_code),
                           ("_pv_sido_code", regions.sido_code),
                           ("_pv_region_name", regions.region_name)):
        _remove(con, name)
        con.create_function(name, function, [VARCHAR], VARCHAR,
                            null_handling="special", side_effects=False)


def register_dates(con: duckdb.DuckDBPyConnection) -> None:
    """`_pv_text_date(text, yy)`: the date a text holds, or NULL; `yy` (two digits, as text)
    is the reference year, below or equal to which a YYMMDD is read as 20YY, above as 19YY.
    `_pv_age(birth, reference)`: full years at the reference date."""
    rrn_century = RRN_CENTURY.replace("d IN", "regexp_extract(t, '^\\d{6}\\s*-?\\s*([0-9])', 1) IN")
    con.execute(f"""
        CREATE OR REPLACE TEMP MACRO _pv_text_date(t, yy) AS CAST(CASE
          WHEN regexp_full_match(t, '{RRN}')
            THEN try_strptime({rrn_century} || left(t, 6), '%Y%m%d')
          WHEN regexp_matches(t, '{YMD_PREFIX}')
            THEN try_strptime(regexp_replace(regexp_extract(t, '{YMD_PREFIX}'), '[-./]', '',
                                             'g'), '%Y%m%d')
          WHEN regexp_full_match(t, '{YYMMDD}')
            THEN try_strptime(CASE WHEN left(t, 2) <= yy THEN '20' ELSE '19' END || t,
                              '%Y%m%d')
        END AS DATE)""")
    con.execute("""
        CREATE OR REPLACE TEMP MACRO _pv_age(b, r) AS
          year(r) - year(b) - CASE WHEN strftime(b, '%m%d') > strftime(r, '%m%d') THEN 1
                                   ELSE 0 END""")


def _remove(con: duckdb.DuckDBPyConnection, name: str) -> None:
    try:
        con.remove_function(name)
    except (duckdb.InvalidInputException, duckdb.Error):
        pass

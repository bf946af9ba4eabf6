"""Every real Korean file ingests with the right row count, types and Korean text."""

from __future__ import annotations

from tests.support.lake import (
    AVG_AGE,
    BJD,
    EV,
    KIKCD,
    LIBRARY,
    POPULATION,
    POPULATION_YEARLY,
    Lake,
)


def test_bjd_codes_stay_ten_character_text(lake: Lake) -> None:
    lake.create("bjd", title_ko="법정동코드")
    job = lake.ingest_ok("bjd", BJD)
    assert job["result"]["row_count"] == 49_859 and job["progress_rows"] == 49_859
    assert job["progress_bytes"] == BJD.stat().st_size
    assert lake.types("bjd") == {"법정동코드": "text", "법정동명": "text", "폐지여부": "text",
                                 "_source_file": "text"}
    first = lake.rows("bjd", limit=2, sort="법정동코드").json()
    assert first["total"] == 49_859
    assert first["rows"][0]["법정동코드"] == "1100000000"
    assert first["rows"][0]["법정동명"] == "서울특별시"
    assert first["rows"][0]["_source_file"] == BJD.name
    version = lake.hub.client.get("/api/v1/datasets/molit/bjd/versions").json()[0]
    assert version["source_files"][0]["encoding"] == "cp949"
    assert version["source_files"][0]["rows"] == 49_859


def test_library_types(lake: Lake) -> None:
    lake.create("libraries")
    lake.ingest_ok("libraries", LIBRARY)
    types = lake.types("libraries")
    assert lake.dataset("libraries")["row_count"] == 3_517
    assert types["열람좌석수"] == "integer" and types["자료수(도서)"] == "integer"
    assert types["위도"] == "decimal" and types["경도"] == "decimal"
    assert types["데이터기준일자"] == "date"
    assert types["평일운영시작시각"] == "time"
    assert types["제공기관코드"] == "text" and types["도서관전화번호"] == "text"
    row = lake.rows("libraries", limit=1, 도서관명="마포중앙도서관").json()["rows"]
    assert row and isinstance(row[0]["위도"], float) and row[0]["시도명"] == "서울특별시"


def test_population_numbers_with_thousands_separators(lake: Lake) -> None:
    lake.create("population")
    lake.ingest_ok("population", POPULATION)
    assert lake.dataset("population")["row_count"] == 292
    assert lake.types("population")["2025년09월_총인구수"] == "integer"
    seoul = lake.rows("population", **{"행정구역__contains": "서울특별시  (1100000000)"}).json()
    assert seoul["rows"][0]["2025년09월_총인구수"] == 9_318_500


def test_several_files_into_one_version(lake: Lake) -> None:
    lake.create("population-series")
    job = lake.ingest_ok("population-series", POPULATION_YEARLY, AVG_AGE)
    assert job["result"]["row_count"] == 36
    files = lake.rows("population-series", columns="_source_file", limit=1000).json()["rows"]
    assert {r["_source_file"] for r in files} == {POPULATION_YEARLY.name, AVG_AGE.name}
    assert lake.types("population-series")["2017년01월_평균연령"] == "decimal"


def test_ev_chargers(lake: Lake) -> None:
    lake.create("ev")
    lake.ingest_ok("ev", EV)
    types = lake.types("ev")
    assert lake.dataset("ev")["row_count"] == 6_111
    assert types["급속충전기대수"] == "integer" and types["위도"] == "decimal"
    assert types["완속충전가능여부"] == "text"  # Y/N stays text


def test_excel_code_table_with_sheet_choice(lake: Lake) -> None:
    lake.create("kikcd")
    job = lake.ingest_ok("kikcd", KIKCD, sheet="KIKcd_B")
    assert job["result"]["row_count"] == 46_345
    types = lake.types("kikcd")
    assert types["법정동코드"] == "text" and types["생성일자"] == "date"
    row = lake.rows("kikcd", limit=1, sort="법정동코드").json()["rows"][0]
    assert row["법정동코드"] == "1100000000" and row["생성일자"] == "1988-04-23"
    missing = lake.upload("kikcd", KIKCD, sheet="없는시트")
    assert missing["state"] == "failed" and missing["error"]["code"] == "no_such_sheet"
    assert "KIKcd_B" in missing["error"]["message"]

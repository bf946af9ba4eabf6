"""Each refusal names the file, the right line and the reason; odd column names are kept
under names the hub can use, and said so."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import build_hub
from tests.support.lake import Lake

GOOD = b"a,b\n1,2\n"


def _fails(lake: Lake, name: str, payload: tuple[str, bytes], code: str) -> dict:
    job = lake.upload(name, payload)
    assert job["state"] == "failed", job
    assert job["error"]["code"] == code, job["error"]
    assert job["error"]["file"] == payload[0]
    assert lake.dataset(name)["current_version"] == 1  # unchanged
    assert lake.rows(name).json()["total"] == 1
    return job["error"]


def test_columns_differing_only_in_case_are_both_kept(lake: Lake) -> None:
    lake.create("cased")
    job = lake.ingest_ok("cased", ("ids.csv", b"id,ID,name\n1,A-1,x\n2,A-2,y\n"))
    assert job["result"]["schema_changes"]["renamed"] == [
        {"file": "ids.csv", "column": "ID_2", "was": "ID"}]
    assert list(lake.types("cased")) == ["id", "ID_2", "name", "_source_file"]
    rows = lake.rows("cased", limit=5).json()["rows"]
    assert [(r["id"], r["ID_2"]) for r in rows] == [("1", "A-1"), ("2", "A-2")]


def test_a_files_own_source_file_column_does_not_replace_the_provenance(lake: Lake) -> None:
    lake.create("provenance")
    job = lake.ingest_ok("provenance", ("export.csv", b"a,_source_file\n1,old.csv\n"))
    assert job["result"]["schema_changes"]["renamed"] == [
        {"file": "export.csv", "column": "_source_file_2", "was": "_source_file"}]
    row = lake.rows("provenance").json()["rows"][0]
    assert row["_source_file"] == "export.csv" and row["_source_file_2"] == "old.csv"


def test_parquet_and_json_columns_differing_in_case(lake: Lake) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    lake.create("cased-formats")
    sink = io.BytesIO()
    pq.write_table(pa.table({"id": [1], "ID": ["A-1"], "_source_file": ["x"]}), sink)
    job = lake.ingest_ok("cased-formats", ("a.parquet", sink.getvalue()))
    assert [r["column"] for r in job["result"]["schema_changes"]["renamed"]] == [
        "ID_2", "_source_file_2"]
    row = lake.rows("cased-formats").json()["rows"][0]
    assert (row["id"], row["ID_2"], row["_source_file"]) == ("1", "A-1", "a.parquet")


def test_mixed_utf8_and_cp949_blames_the_first_line_in_the_other(lake: Lake) -> None:
    lake.create("mixed")
    lake.ingest_ok("mixed", ("good.csv", GOOD))
    mixed = "이름,값\n가,1\n".encode() + "나,2\n".encode("cp949") + "다,3\n".encode()
    error = _fails(lake, "mixed", ("mixed.csv", mixed), "bad_encoding")
    assert error["line"] == 3 and "not valid UTF-8" in error["message"]
    mostly_cp949 = "이름,값\n가,1\n".encode("cp949") + "나,2\n".encode() + "다,3\n".encode("cp949")
    error = _fails(lake, "mixed", ("mostly.csv", mostly_cp949), "bad_encoding")
    assert error["line"] == 3 and "CP949" in error["message"]


def test_utf16_without_a_byte_order_mark(lake: Lake) -> None:
    lake.create("wide")
    text = "시도명,인구\n서울특별시,9386034\n부산광역시,3293362\n"
    job = lake.ingest_ok("wide", ("le.csv", text.encode("utf-16-le")))
    assert job["result"]["row_count"] == 2
    lake.ingest_ok("wide", ("be.csv", text.encode("utf-16-be")))
    rows = lake.rows("wide", limit=5).json()["rows"]
    assert [r["시도명"] for r in rows] == ["서울특별시", "부산광역시"] * 2
    assert lake.types("wide")["인구"] == "integer"
    versions = lake.hub.client.get("/api/v1/datasets/molit/wide/versions",
                                   headers=lake.auth).json()
    encodings = {f["encoding"] for v in versions for f in v["source_files"]}
    assert encodings == {"utf-16-le", "utf-16-be"}


def test_json_errors_name_the_line(lake: Lake) -> None:
    lake.create("records")
    lake.ingest_ok("records", ("good.csv", GOOD))
    error = _fails(lake, "records", ("two.ndjson", b'{"a": 1}\n{"a": \n'), "bad_json")
    assert error["line"] == 2 and error["message"].startswith("two.ndjson line 2: ")
    error = _fails(lake, "records", ("four.ndjson", b'{"a": 1}\n{"a": 2}\n{"a": x}\n{"a": 4}\n'),
                   "bad_json")
    assert error["line"] == 3
    array = b'[\n  {"a": 1},\n  {"a": 2},\n  {"a": x}\n]\n'
    error = _fails(lake, "records", ("array.json", array), "bad_json")
    assert error["line"] == 4 and "Expecting value" in error["message"]


@pytest.fixture
def small_lake(tmp_path: Path, db_url: str, kr: Path) -> Iterator[Lake]:
    """Jobs of 64 MiB: the longest CSV line they read is 8 MiB."""
    for hub in build_hub(tmp_path, db_url, job_memory_mb=64):
        yield Lake(hub)


def test_a_first_line_longer_than_the_limit(small_lake: Lake) -> None:
    lake = small_lake
    lake.create("long")
    lake.ingest_ok("long", ("good.csv", GOOD))
    no_newline = b"a," + b"x" * (20 << 20)   # was: "a header but no rows"
    error = _fails(lake, "long", ("one-line.csv", no_newline), "line_too_long")
    assert error["message"] == "one-line.csv line 1 is longer than the limit of 8 MiB"


def test_a_later_line_longer_than_the_limit(small_lake: Lake) -> None:
    lake = small_lake
    lake.create("long-later")
    lake.ingest_ok("long-later", ("good.csv", GOOD))
    payload = b"a,b\n1,2\n3," + b"y" * (12 << 20) + b"\n5,6\n"   # was: "CSV Error on Line: 3"
    error = _fails(lake, "long-later", ("later.csv", payload), "line_too_long")
    assert error["line"] == 3
    assert error["message"] == "later.csv line 3 is longer than the limit of 8 MiB"
    cp949 = "가,나\n1,2\n".encode("cp949") + "다라" .encode("cp949") * (6 << 20) + b"\n"
    error = _fails(lake, "long-later", ("hangul.csv", cp949), "line_too_long")
    assert error["line"] == 3


def test_a_bad_row_says_why(lake: Lake) -> None:
    lake.create("quoted")
    lake.ingest_ok("quoted", ("good.csv", GOOD))
    error = _fails(lake, "quoted", ("quote.csv", b'a,b\n1,"2\n3,4\n'), "bad_row")
    assert error["line"] == 2
    assert error["message"] == "quote.csv line 2: Value with unterminated quote found."

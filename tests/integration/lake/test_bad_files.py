"""Malformed input: each gets the exact error a user sees, and the table stays as it was."""

from __future__ import annotations

import io
import zipfile

from tests.support.lake import Lake

GOOD = b"a,b\n1,2\n"


def _fails(lake: Lake, name: str, payload: tuple[str, bytes], code: str, **form: str) -> dict:
    job = lake.upload(name, payload, **form)
    assert job["state"] == "failed", job
    assert job["error"]["code"] == code, job["error"]
    assert lake.dataset(name)["current_version"] == 1  # unchanged
    assert lake.rows(name).json()["total"] == 1
    return job["error"]


def test_ragged_rows_name_file_and_line(lake: Lake) -> None:
    lake.create("ragged")
    lake.ingest_ok("ragged", ("good.csv", GOOD))
    error = _fails(lake, "ragged", ("ragged.csv", b"a,b\n1,2\n3\n4,5\n"), "bad_row")
    assert error["file"] == "ragged.csv" and error["line"] == 3
    assert "Expected Number of Columns: 2 Found: 1" in error["message"]


def test_a_ragged_row_far_into_a_file_is_named_too(lake: Lake) -> None:
    # found while the write streams (not while types are proposed from the head)
    lake.create("late-ragged")
    lake.ingest_ok("late-ragged", ("good.csv", GOOD))
    lines = ["a,b"] + [f"{i},{i}" for i in range(1, 200_001)]
    lines[150_000] = "1,2,3"
    payload = ("late.csv", ("\n".join(lines) + "\n").encode())
    error = _fails(lake, "late-ragged", payload, "bad_row")
    assert error["file"] == "late.csv" and error["line"] == 150_001
    assert "Expected Number of Columns: 2 Found: 3" in error["message"]
    lake.ingest_ok("late-ragged", ("good.csv", GOOD))   # the job's connection was freed


def test_bad_bytes_for_the_declared_encoding(lake: Lake) -> None:
    lake.create("bytes")
    lake.ingest_ok("bytes", ("good.csv", GOOD))
    cp949 = "a,b\n가,나\n".encode("cp949")
    error = _fails(lake, "bytes", ("forced.csv", cp949), "bad_encoding", encoding="utf-8")
    assert error["line"] == 2 and "UTF-8" in error["message"]
    garbage = b"a,b\n1,2\n\xff\xfe\xfa,3\n"
    error = _fails(lake, "bytes", ("garbage.csv", garbage), "bad_encoding")
    assert error["file"] == "garbage.csv" and error["line"] == 3


def test_empty_and_header_only_files(lake: Lake) -> None:
    lake.create("empty")
    lake.ingest_ok("empty", ("good.csv", GOOD))
    refused = lake.hub.client.post("/api/v1/datasets/molit/empty/ingest", headers=lake.auth,
                                   files=[("files", ("empty.csv", b""))])
    assert refused.status_code == 422 and refused.json()["code"] == "empty_file"
    _fails(lake, "empty", ("header.csv", b"a,b\n"), "no_rows")
    _fails(lake, "empty", ("blank.csv", b"\n\n"), "empty_file")


def test_zip_of_files_and_zip_bomb(lake: Lake) -> None:
    lake.create("zipped")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("서울.csv", "a,b\n1,2\n".encode("cp949"))
        archive.writestr("부산.csv", "a,b\n3,4\n5,6\n".encode("cp949"))
    job = lake.ingest_ok("zipped", ("cities.zip", buffer.getvalue()))
    assert job["result"]["row_count"] == 3
    sources = {r["_source_file"] for r in lake.rows("zipped", limit=10).json()["rows"]}
    assert sources == {"cities.zip/서울.csv", "cities.zip/부산.csv"}

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("big.csv", b"a,b\n" + b"0,0\n" * 5_000_000)
    job = lake.upload("zipped", ("bomb.zip", bomb.getvalue()))
    assert job["state"] == "failed" and job["error"]["code"] == "zip_bomb"
    assert lake.dataset("zipped")["current_version"] == 1


def test_json_ndjson_parquet_and_tsv(lake: Lake) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    lake.create("formats")
    array = '[{"코드": "0101", "값": 1.5, "참": true}, {"코드": "0102", "값": 2, "참": false}]'
    lake.ingest_ok("formats", ("a.json", array.encode()))
    assert lake.types("formats") == {"코드": "text", "값": "decimal", "참": "boolean",
                                     "_source_file": "text"}
    ndjson = '{"코드": "0103", "값": 3}\n{"코드": "0104", "값": 4.5}\n'
    lake.ingest_ok("formats", ("b.ndjson", ndjson.encode()))
    sink = io.BytesIO()
    pq.write_table(pa.table({"코드": ["0105"], "값": [5.0], "참": [True]}), sink)
    lake.ingest_ok("formats", ("c.parquet", sink.getvalue()))
    lake.ingest_ok("formats", ("d.tsv", "코드\t값\n0106\t6\n".encode("cp949")))
    assert lake.rows("formats").json()["total"] == 6
    bad = lake.upload("formats", ("e.json", b'[{"a": 1}, {"a": '))
    assert bad["state"] == "failed" and bad["error"]["code"] == "bad_json"


def test_limits(lake: Lake) -> None:
    from tests.conftest import build_hub

    lake.create("wide")
    wide = (",".join(f"c{i}" for i in range(3000)) + "\n" + ",".join("1" * 3000) + "\n").encode()
    job = lake.upload("wide", ("wide.csv", wide))
    assert job["state"] == "failed" and job["error"]["code"] == "too_many_columns"
    del build_hub


def test_options_are_checked_before_any_job(lake: Lake) -> None:
    lake.create("opts")
    client, auth = lake.hub.client, lake.auth
    answer = client.post("/api/v1/datasets/molit/opts/ingest", headers=auth,
                         files=[("files", ("a.csv", GOOD))], data={"mode": "upsert"})
    assert answer.status_code == 422 and answer.json()["field"] == "key"
    answer = client.post("/api/v1/datasets/molit/opts/ingest", headers=auth,
                         files=[("files", ("a.csv", GOOD))], data={"encoding": "latin-9"})
    assert answer.status_code == 422 and answer.json()["field"] == "encoding"
    answer = client.post("/api/v1/datasets/molit/opts/ingest", headers=auth,
                         files=[("files", ("a.csv", GOOD))], data={"types": '{"a": "money"}'})
    assert answer.status_code == 422 and answer.json()["field"] == "types"

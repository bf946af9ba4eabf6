"""Versions: append, replace, upsert by key, time travel, restore, schema changes."""

from __future__ import annotations

from tests.support.lake import Lake

CSV_V1 = "코드,이름,인구\n0101,가,\"1,000\"\n0102,나,2000\n".encode("cp949")
CSV_V2 = "코드,이름,인구,면적\n0102,나나,2500,1.5\n0103,다,300,2.25\n".encode("cp949")


def test_append_upsert_replace_time_travel_and_restore(lake: Lake) -> None:
    lake.create("towns")
    first = lake.ingest_ok("towns", ("v1.csv", CSV_V1))
    assert first["result"]["version"] == 1
    assert lake.types("towns") == {"코드": "text", "이름": "text", "인구": "integer",
                                   "_source_file": "text"}

    upsert = lake.ingest_ok("towns", ("v2.csv", CSV_V2), mode="upsert", key="코드")
    assert upsert["result"]["version"] == 2 and upsert["result"]["row_count"] == 3
    assert upsert["result"]["schema_changes"] == {"added": ["면적"]}
    rows = {r["코드"]: r for r in lake.rows("towns", sort="코드").json()["rows"]}
    assert rows["0102"]["이름"] == "나나" and rows["0102"]["인구"] == 2500
    assert rows["0101"]["면적"] is None and rows["0103"]["면적"] == 2.25

    appended = lake.ingest_ok("towns", ("v1.csv", CSV_V1))
    assert appended["result"]["row_count"] == 5
    assert appended["result"]["schema_changes"] == {"missing": ["면적"]}

    replaced = lake.ingest_ok("towns", ("v1.csv", CSV_V1), mode="replace")
    assert replaced["result"]["row_count"] == 2
    assert "면적" not in lake.types("towns")

    old = lake.rows("towns", version=2, sort="코드").json()
    assert old["version"] == 2 and [r["코드"] for r in old["rows"]] == ["0101", "0102", "0103"]

    versions = lake.hub.client.get("/api/v1/datasets/molit/towns/versions").json()
    assert [v["version"] for v in versions] == [4, 3, 2, 1]
    assert [v["operation"] for v in versions] == ["replace", "append", "upsert", "append"]
    assert versions[-1]["source_files"][0]["name"] == "v1.csv"

    restore = lake.hub.client.post("/api/v1/datasets/molit/towns/versions/2/restore",
                                   headers=lake.auth)
    assert restore.status_code == 202
    job = lake.wait(restore.json()["id"])
    assert job["state"] == "succeeded" and job["result"] == {
        "version": 5, "row_count": 3, "restored_from": 2}
    assert lake.dataset("towns")["current_version"] == 5
    assert "면적" in lake.types("towns")
    assert lake.rows("towns").json()["total"] == 3


def test_same_file_twice_is_stored_once_and_downloadable(lake: Lake) -> None:
    lake.create("twice")
    lake.ingest_ok("twice", ("a.csv", CSV_V1))
    lake.ingest_ok("twice", ("again.csv", CSV_V1))
    versions = lake.hub.client.get("/api/v1/datasets/molit/twice/versions").json()
    shas = {v["source_files"][0]["sha256"] for v in versions}
    assert len(shas) == 1
    sha = shas.pop()
    raw = lake.hub.client.get(f"/api/v1/datasets/molit/twice/raw/{sha}", headers=lake.auth)
    assert raw.status_code == 200 and raw.content == CSV_V1
    assert "a.csv" in raw.headers["content-disposition"]
    missing = lake.hub.client.get(f"/api/v1/datasets/molit/twice/raw/{'0' * 64}",
                                  headers=lake.auth)
    assert missing.status_code == 404


def test_incompatible_type_is_a_clear_error_and_changes_nothing(lake: Lake) -> None:
    lake.create("typed")
    lake.ingest_ok("typed", ("v1.csv", CSV_V1))
    bad = "코드,이름,인구\n0104,라,많음\n".encode("cp949")
    job = lake.upload("typed", ("bad.csv", bad))
    assert job["state"] == "failed"
    assert job["error"]["code"] == "type_mismatch"
    assert job["error"]["file"] == "bad.csv" and job["error"]["line"] == 2
    assert job["error"]["column"] == "인구" and job["error"]["value"] == "많음"
    assert lake.dataset("typed")["current_version"] == 1
    assert lake.rows("typed").json()["total"] == 2


def test_type_override_and_duplicate_keys(lake: Lake) -> None:
    lake.create("override")
    job = lake.ingest_ok("override", ("v1.csv", CSV_V1), types='{"인구": "text"}')
    assert lake.types("override")["인구"] == "text"
    assert lake.rows("override", sort="코드").json()["rows"][0]["인구"] == "1,000"
    dup = "코드,이름\n1,a\n1,b\n".encode()
    lake.create("dups")
    failed = lake.upload("dups", ("dup.csv", dup), mode="upsert", key="코드")
    assert failed["state"] == "failed" and failed["error"]["code"] == "duplicate_key"
    assert job["state"] == "succeeded"

"""A version's row count comes from the Delta log (`VersionData.rows`) and a JSON page's
`total` of every row uses it instead of counting: it must equal what the files hold after
every kind of write, and a filter or a sample must still be counted or capped."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from dpghub.config import Settings
from dpghub.lake import rows, tables
from dpghub.lake.storage import LakeStorage

SCHEMA = [{"name": "id", "type": "integer"}, {"name": "이름", "type": "text"}]


def _batch(ids: range) -> pa.RecordBatchReader:
    table = pa.table({"id": pa.array(list(ids), pa.int64()),
                      "이름": [f"도서관 {i}" for i in ids]})
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=7))


def _counted(data: tables.VersionData) -> int:
    return duckdb.execute("SELECT count(*) FROM read_parquet(?, union_by_name=true)",
                          [data.files]).fetchall()[0][0]


def test_rows_match_the_files_after_append_upsert_and_replace(tmp_path: Path) -> None:
    uri = str(tmp_path / "table")
    steps = [("append", range(0, 50)), ("append", range(50, 80)),
             ("upsert", range(70, 120)),      # 10 updated, 40 new
             ("replace", range(0, 13))]
    expected = [50, 80, 120, 13]
    for (mode, ids), want in zip(steps, expected, strict=True):
        written = tables.write(uri, {}, _batch(ids), mode=mode, keys=["id"], job_id=1)
        data = tables.version_data(uri, {}, written.delta_version)
        assert data.rows == want == _counted(data), mode


@pytest.fixture
def version(tmp_path: Path) -> tuple[LakeStorage, tables.VersionData]:
    uri = str(tmp_path / "table")
    written = tables.write(uri, {}, _batch(range(0, 30)), mode="append", keys=[], job_id=1)
    written = tables.write(uri, {}, _batch(range(30, 45)), mode="append", keys=[], job_id=2)
    storage = LakeStorage.from_settings(Settings(home=tmp_path / "home").prepare())
    return storage, tables.version_data(uri, {}, written.delta_version)


def test_page_totals_every_row_filtered_rows_and_a_sample(version) -> None:  # type: ignore[no-untyped-def]
    storage, data = version
    assert data.rows == 45

    def total(params: dict[str, str], sample: int | None = None) -> int:
        query = rows.parse_query(storage, data, SCHEMA, params, sort=None, columns=None,
                                 sample=sample)
        found = rows.page_json(query, version=1, limit=10, cursor=None)[1]
        assert rows.page(query, version=1, limit=10, cursor=None)[1] == found
        return found

    assert total({}) == 45
    assert total({"id__lt": "12"}) == 12
    assert total({}, sample=20) == 20 and total({}, sample=100) == 45
    assert 0 < total({"id__gte": "10"}, sample=20) <= 20   # counted within the sample
    unknown = tables.VersionData(data.files, data.schema)     # rows not recorded: counted
    query = rows.parse_query(storage, unknown, SCHEMA, {}, sort=None, columns=None)
    assert rows.page_json(query, version=1, limit=10, cursor=None)[1] == 45

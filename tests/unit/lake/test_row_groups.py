"""Pages served from kept row groups (`lake.rowgroups`) are the pages DuckDB reads from the
files: the same bytes of JSON and the same Python values, across row-group and file
boundaries, with a column the first file lacks, a chosen set of columns and a sample."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dpghub.config import Settings
from dpghub.lake import pagejson, rowgroups, rows
from dpghub.lake.rowgroups import RowGroupCache
from dpghub.lake.storage import LakeStorage
from dpghub.lake.tables import VersionData

SCHEMA = [{"name": "이름", "type": "text"}, {"name": "개수", "type": "integer"},
          {"name": "위도", "type": "decimal"}, {"name": "기준일자", "type": "date"},
          {"name": "갱신시각", "type": "timestamp"}, {"name": "운영여부", "type": "boolean"},
          {"name": "추가", "type": "text"}]


def _file(path: Path, first: int, count: int, *, added: bool) -> None:
    ids = range(first, first + count)
    columns = {
        "이름": [None if i % 11 == 3 else f"도서관 \"{i}\"\n탭\t{i}" for i in ids],
        "개수": [None if i % 13 == 4 else i * 7 - 20 for i in ids],
        "위도": [None if i % 17 == 5 else (float("nan") if i % 19 == 6 else 37.5 + i / 3)
               for i in ids],
        "기준일자": [date(2020, 1, 1 + i % 28) for i in ids],
        "갱신시각": [datetime(2024, 5, 1, 9, i % 60, 5, 0 if i % 2 else 1234) for i in ids],
        "운영여부": [None if i % 23 == 9 else i % 3 == 0 for i in ids],
    }
    if added:
        columns["추가"] = [f"새 열 {i}" for i in ids]
    pq.write_table(pa.table(columns), path, row_group_size=10)


@pytest.fixture
def version(tmp_path: Path) -> VersionData:
    first, second = tmp_path / "part-0.parquet", tmp_path / "part-1.parquet"
    _file(first, 0, 34, added=False)      # 4 row groups, the last of 4 rows; no 추가
    _file(second, 34, 23, added=True)     # 3 row groups
    schema = pq.read_schema(second)
    return VersionData([str(first), str(second)], schema, rows=57)


def _storage(tmp_path: Path, cache: RowGroupCache | None) -> LakeStorage:
    storage = LakeStorage.from_settings(Settings(home=tmp_path / "home").prepare())
    storage.row_groups = cache
    return storage


def _walk(storage: LakeStorage, data: VersionData, limit: int, **options: object
          ) -> list[tuple[bytes, str, int, str | None]]:
    """Every page of a reader following the cursor: JSON bytes, the Python page as text,
    total and next cursor."""
    pages, cursor = [], None
    for _ in range(1000):      # a page that does not move the cursor on fails, not hangs
        query = rows.parse_query(storage, data, SCHEMA, {}, sort=None,
                                 columns=options.get("columns"), sample=options.get("sample"))
        made, total, following = rows.page_json(query, version=1, limit=limit, cursor=cursor)
        items, total_p, following_p = rows.page(query, version=1, limit=limit, cursor=cursor)
        assert (total_p, following_p) == (total, following)
        pages.append((made, json.dumps(items, ensure_ascii=False, default=str), total,
                      following))
        cursor = following
        if cursor is None:
            return pages
    raise AssertionError("the cursor did not reach the end")


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many values each time DuckDB is asked to write a kept column's JSON."""
    counts: list[int] = []
    real = pagejson._json_each
    monkeypatch.setattr(pagejson, "_json_each",
                        lambda con, values, hub_type: counts.append(len(values))
                        or real(con, values, hub_type))
    return counts


def _pages(storage: LakeStorage, data: VersionData, schema: list[dict[str, str]],
           limit: int) -> list[bytes]:
    """Every JSON page of a reader following the cursor through all the rows."""
    pages, cursor = [], None
    while True:
        query = rows.parse_query(storage, data, schema, {}, sort=None, columns=None)
        made, _, cursor = rows.page_json(query, version=1, limit=limit, cursor=cursor)
        pages.append(made)
        if cursor is None:
            return pages


@pytest.mark.parametrize(("limit", "options"), [
    (7, {}), (25, {}), (10, {}), (3, {"columns": "추가,갱신시각,위도"}), (6, {"sample": 40}),
    (1000, {}),
    (5, {"columns": "추가"}),           # the only column asked for is absent from a file
    (4, {"columns": "개수,위도,개수"}),   # a column asked for twice comes once
])
def test_kept_row_groups_give_the_pages_duckdb_reads(
        tmp_path: Path, version: VersionData, limit: int, options: dict[str, object]) -> None:
    cache = RowGroupCache(1 << 20)
    kept = _walk(_storage(tmp_path, cache), version, limit, **options)
    read = _walk(_storage(tmp_path, None), version, limit, **options)
    assert kept == read
    rows_seen = sum(len(json.loads(page[0])) for page in kept)
    assert rows_seen == options.get("sample", 57)
    assert cache.size > 0 or len(kept) == 1     # pages after the first came from the cache


def test_the_cache_stays_in_its_bounds(tmp_path: Path) -> None:
    path = tmp_path / "long.parquet"
    _file(path, 0, 200, added=True)                        # 20 row groups
    data = VersionData([str(path)], pq.read_schema(path), rows=200)
    sizes = [size for _, size in rowgroups._layout(str(path))]   # the most each may take
    largest = max(sizes)
    decoded = sum(pq.ParquetFile(path).read_row_group(i).nbytes for i in range(len(sizes)))
    small = RowGroupCache(largest * 4)          # the smallest cache that keeps these groups
    assert decoded > small.max_bytes            # so some must be let go on the way
    assert _walk(_storage(tmp_path, small), data, 9) == _walk(_storage(tmp_path, None), data, 9)
    assert 0 < small.size <= small.max_bytes
    tiny = RowGroupCache(min(sizes) * 4 - 1)    # every row group too large: DuckDB reads
    assert _walk(_storage(tmp_path, tiny), data, 9) == _walk(_storage(tmp_path, None), data, 9)
    assert tiny.size == 0


def test_a_long_value_repeated_is_kept_at_its_stored_size(tmp_path: Path) -> None:
    """2,000 rows of one 100 KB text would be 200 MB decoded plainly; kept as a dictionary
    it is about its Parquet size, and pages still carry the whole value."""
    path = tmp_path / "repeated.parquet"
    long = "가나다라" * 8_500                                # ≈ 100 KB of UTF-8
    pq.write_table(pa.table({"이름": [long] * 2_000, "개수": list(range(2_000))}), path)
    data = VersionData([str(path)], pq.read_schema(path), rows=2_000)
    cache = RowGroupCache(8 << 20)
    storage = _storage(tmp_path, cache)
    schema = [{"name": "이름", "type": "text"}, {"name": "개수", "type": "integer"}]
    query = rows.parse_query(storage, data, schema, {}, sort=None, columns=None)
    _, _, cursor = rows.page_json(query, version=1, limit=3, cursor=None)
    made, total, _ = rows.page_json(query, version=1, limit=3, cursor=cursor)
    assert total == 2_000
    assert json.loads(made) == [{"이름": long, "개수": n} for n in (3, 4, 5)]
    assert 0 < cache.size < 1 << 20


def test_a_column_widened_in_a_later_file_reads_as_the_version_types_it(tmp_path: Path) -> None:
    """A file written before `개수` became a decimal holds integers; DuckDB reads the version
    with the wider type, and kept pages, from either file, say the same."""
    first, second = tmp_path / "part-0.parquet", tmp_path / "part-1.parquet"
    pq.write_table(pa.table({"개수": pa.array([*range(29), 2**53 + 1], pa.int64())}), first,
                   row_group_size=10)          # the last beyond what a double holds exactly
    pq.write_table(pa.table({"개수": pa.array([n + 0.5 for n in range(30)])}), second,
                   row_group_size=10)
    data = VersionData([str(first), str(second)], pq.read_schema(second), rows=60)
    schema = [{"name": "개수", "type": "decimal"}]
    kept = _pages(_storage(tmp_path, RowGroupCache(1 << 20)), data, schema, 7)
    assert kept == _pages(_storage(tmp_path, None), data, schema, 7)
    assert json.loads(kept[1])[0] == {"개수": 7.0} and b"7.0" in kept[1]


def test_kept_pages_write_each_row_groups_json_once(
        tmp_path: Path, version: VersionData, written: list[int]) -> None:
    """A second reader of the same rows gets its pages from JSON already written: DuckDB is
    not asked to write any value again."""
    storage = _storage(tmp_path, RowGroupCache(1 << 20))
    first = _walk(storage, version, 8)
    written.clear()                         # what the second reader has written
    assert _walk(storage, version, 8) == first
    assert written == []


def test_python_pages_of_a_widened_column_have_the_version_type(tmp_path: Path) -> None:
    first, second = tmp_path / "part-0.parquet", tmp_path / "part-1.parquet"
    pq.write_table(pa.table({"개수": pa.array(range(10), pa.int64())}), first)
    pq.write_table(pa.table({"개수": pa.array([0.5] * 10)}), second)
    data = VersionData([str(first), str(second)], pq.read_schema(second), rows=20)
    storage = _storage(tmp_path, RowGroupCache(1 << 20))
    query = rows.parse_query(storage, data, [{"name": "개수", "type": "decimal"}], {},
                             sort=None, columns=None)
    _, _, cursor = rows.page(query, version=1, limit=2, cursor=None)
    items, _, _ = rows.page(query, version=1, limit=3, cursor=cursor)
    assert items == [{"개수": 2.0}, {"개수": 3.0}, {"개수": 4.0}]
    assert all(type(item["개수"]) is float for item in items)



def _same_both_ways(tmp_path: Path, tables: list[pa.Table], schema: list[dict[str, str]],
                    limit: int) -> list[bytes | str]:
    """Every page with kept row groups and without them (DuckDB reading the files); the
    pages, or the error that ended the walk, must be the same."""
    files = []
    for i, table in enumerate(tables):
        files.append(str(tmp_path / f"part-{i}.parquet"))
        pq.write_table(table, files[-1], row_group_size=10)
    data = VersionData(files, pq.read_schema(files[-1]), rows=sum(t.num_rows for t in tables))

    def walk(storage: LakeStorage) -> list[bytes | str]:
        pages: list[bytes | str] = []
        cursor = None
        while True:
            query = rows.parse_query(storage, data, schema, {}, sort=None, columns=None)
            try:
                made, _, cursor = rows.page_json(query, version=1, limit=limit, cursor=cursor)
            except Exception as error:  # noqa: BLE001 — the same refusal both ways
                return [*pages, type(error).__name__]
            pages.append(made)
            if cursor is None:
                return pages

    kept = walk(_storage(tmp_path, RowGroupCache(1 << 20)))
    assert kept == walk(_storage(tmp_path, None))
    return kept


def test_a_column_named_like_the_row_is_still_a_column(tmp_path: Path) -> None:
    """`to_json(t)` of a table with a column `T` wrote that column, not the row."""
    pages = _same_both_ways(tmp_path, [pa.table({"T": [None if i == 3 else i for i in range(
        30)], "x": list(range(30))})], [{"name": "T", "type": "integer"},
                                        {"name": "x", "type": "integer"}], 7)
    assert json.loads(pages[0])[0] == {"T": 0, "x": 0}


def test_a_column_spelled_in_other_case_in_an_older_file(tmp_path: Path) -> None:
    """DuckDB matches `Name` and `name` across files and names them as the first file does;
    kept pages follow it."""
    pages = _same_both_ways(tmp_path, [pa.table({"Name": list(range(20))}),
                                       pa.table({"name": list(range(20))})],
                            [{"name": "name", "type": "integer"}], 7)
    assert len(pages) == 6


def test_text_that_is_not_utf8_is_refused_as_duckdb_refuses_it(tmp_path: Path) -> None:
    values = [b"\xff\xfe" if i == 20 else b"ok" for i in range(30)]
    offsets = pa.array([sum(len(v) for v in values[:i]) for i in range(31)], pa.int32())
    text = pa.Array.from_buffers(pa.string(), 30, [None, offsets.buffers()[1],
                                                   pa.py_buffer(b"".join(values))])
    pages = _same_both_ways(tmp_path, [pa.table({"v": text, "x": list(range(30))})],
                            [{"name": "v", "type": "text"}, {"name": "x", "type": "integer"}], 7)
    assert pages[-1] == "InvalidInputException"


def test_readers_beyond_the_cache_do_not_rewrite_json_on_every_page(
        tmp_path: Path, written: list[int]) -> None:
    """Three readers, a cache that holds their row groups but not also their JSON: a row
    group's JSON that was let go is not written again page after page (it cost a whole row
    group's values for each page); those pages are read as before."""
    rows_each, columns = 20_000, 4
    datas = []
    for k in range(3):
        path = tmp_path / f"t{k}.parquet"
        pq.write_table(pa.table({f"c{j}": [i / 7 + j + k for i in range(rows_each)]
                                 for j in range(columns)}), path, row_group_size=rows_each)
        datas.append(VersionData([str(path)], pq.read_schema(path), rows=rows_each))
    (_, largest), = rowgroups._layout(datas[0].files[0])
    storage = _storage(tmp_path, RowGroupCache(largest * 4))
    schema = [{"name": f"c{j}", "type": "decimal"} for j in range(columns)]
    cursors: list[str | None] = [None] * 3
    for step in range(30):
        k = step % 3
        query = rows.parse_query(storage, datas[k], schema, {}, sort=None, columns=None)
        _, _, cursors[k] = rows.page_json(query, version=1, limit=100, cursor=cursors[k])
    # at most each reader's row group written once and once more after it was let go
    assert sum(written) <= 2 * 3 * rows_each * columns


def test_a_second_reader_of_a_table_larger_than_the_cache_gets_kept_json_again(
        tmp_path: Path, written: list[int]) -> None:
    """JSON let go after it served a whole row group's pages is made again for the next
    reader: only JSON let go before it paid off is not."""
    path = tmp_path / "long.parquet"
    pq.write_table(pa.table({"c": [i / 7 for i in range(6_000)]}), path, row_group_size=1_000)
    data = VersionData([str(path)], pq.read_schema(path), rows=6_000)
    largest = max(size for _, size in rowgroups._layout(str(path)))
    storage = _storage(tmp_path, RowGroupCache(largest * 6))   # fewer groups than the file
    schema = [{"name": "c", "type": "decimal"}]
    first = _pages(storage, data, schema, 50)
    assert sum(written) == 6_000             # each row group's JSON written once
    assert _pages(storage, data, schema, 50) == first
    assert sum(written) == 12_000            # and once again for the second reader

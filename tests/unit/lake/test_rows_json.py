"""JSON pages written by DuckDB (`rows.page_json`) say exactly what the Python-made page said:
the same rows, keys, values and types once parsed, for every column type the lake stores."""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dpghub.config import Settings
from dpghub.core.errors import Invalid
from dpghub.lake import rows
from dpghub.lake.storage import LakeStorage
from dpghub.lake.tables import VersionData

SCHEMA = [{"name": "이름", "type": "text"}, {"name": "개수", "type": "integer"},
          {"name": "위도", "type": "decimal"}, {"name": "기준일자", "type": "date"},
          {"name": "갱신시각", "type": "timestamp"}, {"name": "운영여부", "type": "boolean"},
          {"name": "여는시각", "type": "time"}]


def _table(count: int) -> pa.Table:
    return pa.table({
        "이름": [None if i == 3 else f"도서관 \"{i}\"\n\x01탭\t{i}" for i in range(count)],
        "개수": [None if i == 4 else i * 7 - 20 for i in range(count)],
        "위도": [None if i == 5 else (math.nan if i == 6 else 37.5 + i / 3) for i in range(count)],
        "기준일자": [None if i == 7 else date(2020, 1, 1 + i % 28) for i in range(count)],
        "갱신시각": [None if i == 8 else datetime(2024, 5, 1, 9, i % 60, 5, 0 if i % 2 else 1234)
                 for i in range(count)],
        "운영여부": [None if i == 9 else i % 3 == 0 for i in range(count)],
        "여는시각": [f"{i % 24:02d}:00" for i in range(count)],
    }, schema=pa.schema([("이름", pa.string()), ("개수", pa.int64()), ("위도", pa.float64()),
                         ("기준일자", pa.date32()), ("갱신시각", pa.timestamp("us")),
                         ("운영여부", pa.bool_()), ("여는시각", pa.string())]))


@pytest.fixture
def version(tmp_path: Path) -> tuple[LakeStorage, VersionData]:
    table = _table(57)
    path = tmp_path / "part-0.parquet"
    pq.write_table(table, path)
    storage = LakeStorage.from_settings(Settings(home=tmp_path / "home").prepare())
    return storage, VersionData([str(path)], table.schema)


def _both(storage: LakeStorage, data: VersionData, params: dict[str, str], *,
          sort: str | None = None, columns: str | None = None, limit: int = 20,
          cursor: str | None = None) -> tuple[Any, Any]:
    query = rows.parse_query(storage, data, SCHEMA, params, sort=sort, columns=columns)
    items, total, next_cursor = rows.page(query, version=1, limit=limit, cursor=cursor)
    made, total_j, next_j = rows.page_json(query, version=1, limit=limit, cursor=cursor)
    assert (total_j, next_j) == (total, next_cursor)
    before = json.loads(json.dumps(items, ensure_ascii=False, default=str))
    return before, json.loads(made)


def _same(before: Any, after: Any) -> None:
    assert len(after) == len(before)
    for old, new in zip(before, after, strict=True):
        assert list(new) == list(old)             # the keys, in the columns' order
        for key, value in old.items():
            if isinstance(value, float) and math.isnan(value):
                assert math.isnan(new[key])
            else:
                assert new[key] == value and type(new[key]) is type(value), key


@pytest.mark.parametrize(("params", "sort", "columns"), [
    ({}, None, None),
    ({"개수__gte": "10"}, "-갱신시각,이름", None),
    ({"운영여부": "true"}, "위도", "갱신시각,이름"),
    ({"이름__contains": "도서관"}, None, "기준일자,개수"),
])
def test_json_page_has_the_values_the_python_page_had(
        version: tuple[LakeStorage, VersionData], params: dict[str, str], sort: str | None,
        columns: str | None) -> None:
    storage, data = version
    before, after = _both(storage, data, params, sort=sort, columns=columns)
    assert before                                   # the case has rows to compare
    _same(before, after)


def test_timestamps_read_as_python_writes_them(version: tuple[LakeStorage, VersionData]) -> None:
    storage, data = version
    _, after = _both(storage, data, {}, columns="갱신시각", limit=3)
    assert [r["갱신시각"] for r in after] == [
        "2024-05-01T09:00:05.001234", "2024-05-01T09:01:05", "2024-05-01T09:02:05.001234"]


def test_pages_follow_their_cursor_to_the_end(version: tuple[LakeStorage, VersionData]) -> None:
    storage, data = version
    cursor, seen = None, []
    while True:
        before, after = _both(storage, data, {}, limit=25, cursor=cursor)
        _same(before, after)
        seen += after
        query = rows.parse_query(storage, data, SCHEMA, {}, sort=None, columns=None)
        _, _, cursor = rows.page_json(query, version=1, limit=25, cursor=cursor)
        if cursor is None:
            break
    assert len(seen) == 57


def test_an_empty_page_is_an_empty_array(version: tuple[LakeStorage, VersionData]) -> None:
    storage, data = version
    query = rows.parse_query(storage, data, SCHEMA, {"개수": "-999"}, sort=None, columns=None)
    assert rows.page_json(query, version=1, limit=10, cursor=None) == (b"[]", 0, None)


def test_bad_filter_and_foreign_cursor_are_refused(
        version: tuple[LakeStorage, VersionData]) -> None:
    storage, data = version
    query = rows.parse_query(storage, data, SCHEMA, {"개수": "many"}, sort=None, columns=None)
    with pytest.raises(Invalid) as refused:
        rows.page_json(query, version=1, limit=10, cursor=None)
    assert refused.value.code == "invalid_filter"
    plain = rows.parse_query(storage, data, SCHEMA, {}, sort=None, columns=None)
    _, _, cursor = rows.page_json(plain, version=1, limit=10, cursor=None)
    with pytest.raises(Invalid) as foreign:
        rows.page_json(plain, version=2, limit=10, cursor=cursor)
    assert foreign.value.code == "invalid_cursor"

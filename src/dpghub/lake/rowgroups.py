"""Decoded Parquet row groups kept between the pages of someone reading a table in order.

A JSON page of 1,000 rows read through DuckDB decodes each column's dictionary and pages of
the row group it falls in again (≈ 10 ms of a 15 ms page on the 1,000,000-row benchmark
table); the next page decodes the same ones. A reader that follows `next_cursor` asks for the
row groups in order, so the row group is decoded once, kept here, and each page is a slice of
it. The cache is bounded in bytes (least recently used first out), and a row group larger
than a quarter of it is never kept: those pages are read by DuckDB as before. The lake's files
never change once written, so nothing here goes stale.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

Kept = TypeVar("Kept", pa.Table, pa.Array)   # a row group, or an array made from one


class RowGroupCache:
    """Row groups by (file, index), at most `max_bytes` of decoded Arrow data."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._groups: OrderedDict[tuple[Any, ...], pa.Table | pa.Array] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    @property
    def size(self) -> int:
        """Bytes held now."""
        return self._size

    def pieces(self, files: list[str], offset: int, limit: int
               ) -> list[tuple[str, int, int, int]] | None:
        """Where rows `offset` to `offset + limit` of `files` read one after another (as
        DuckDB reads them) lie: (file, row group, first row in it, rows), in order; None when
        a row group they fall in is too large to keep."""
        pieces: list[tuple[str, int, int, int]] = []
        skip, wanted = offset, limit
        for path in files:
            if wanted <= 0:
                break
            for index, (count, size) in enumerate(_layout(path)):
                if skip >= count:
                    skip -= count
                    continue
                if size * 4 > self.max_bytes:
                    return None
                take = min(count - skip, wanted)
                pieces.append((path, index, skip, take))
                skip, wanted = 0, wanted - take
                if wanted <= 0:
                    break
        return pieces

    def rows(self, files: list[str], schema: pa.Schema, names: list[str], offset: int,
             limit: int) -> pa.Table | None:
        """Rows `offset` to `offset + limit` of `files` read one after another, with the
        columns `names` (a column a file lacks is null, typed as in `schema`); None when a
        row group they fall in is too large to keep, or the files' columns do not line up
        (the caller reads them another way)."""
        pieces = self.pieces(files, offset, limit)
        if pieces is None:
            return None
        if not pieces:
            return _conform(pa.table({}), schema, names)
        tables = [_conform(self.group(path, index).slice(skip, take), schema, names)
                  for path, index, skip, take in pieces]
        try:
            return pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None

    def group(self, path: str, index: int) -> pa.Table:
        """Row group `index` of the file at `path`, decoded (kept, if it fits)."""
        # text stays dictionary-encoded, so a column of one long value repeated takes its
        # Parquet size in memory, not that value times the rows
        return self.kept((path, index), lambda: pq.ParquetFile(
            path, read_dictionary=_texts(path)).read_row_group(index))

    def kept(self, key: tuple[Any, ...], make: Callable[[], Kept]) -> Kept:
        """What `key` names, made by `make` the first time and kept while it fits: a row
        group, or something made from one (its columns' JSON, `lake.pagejson`). Made outside
        the lock, so a slow one holds no other reader up."""
        with self._lock:
            found = self._groups.get(key)
            if found is not None:
                self._groups.move_to_end(key)
                return found  # type: ignore[return-value]  # `key` names what `make` made
        made = make()
        with self._lock:
            if key not in self._groups and made.nbytes * 4 <= self.max_bytes:
                self._groups[key] = made
                self._size += made.nbytes
                while self._size > self.max_bytes and len(self._groups) > 1:
                    _, dropped = self._groups.popitem(last=False)
                    self._size -= dropped.nbytes
        return made


@lru_cache(maxsize=1024)
def _layout(path: str) -> tuple[tuple[int, int], ...]:
    """Rows of each row group of a file and the most bytes it may take decoded, from the
    file's footer: its encoded size plus eight bytes a value (dictionary indices, numbers)."""
    meta = pq.read_metadata(path)
    return tuple((meta.row_group(i).num_rows,
                  meta.row_group(i).total_byte_size + meta.row_group(i).num_rows
                  * meta.num_columns * 8)
                 for i in range(meta.num_row_groups))


@lru_cache(maxsize=1024)
def _texts(path: str) -> tuple[str, ...]:
    """The file's text and binary columns (read as dictionaries)."""
    return tuple(f.name for f in pq.read_schema(path)
                 if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                 or pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type))


def _conform(table: pa.Table, schema: pa.Schema, names: list[str]) -> pa.Table:
    """`table` with exactly the columns `names`, in that order, typed as in `schema`;
    missing ones null."""
    rows = table.num_rows
    columns = []
    for name in names:
        if name in table.column_names:
            column = table.column(name)
            wanted = schema.field(name).type if name in schema.names else column.type
            if column.type != wanted and not pa.types.is_dictionary(column.type):
                column = column.cast(wanted)   # a file written before the column was widened
            columns.append(column)
        else:
            kind = schema.field(name).type if name in schema.names else pa.string()
            columns.append(pa.nulls(rows, kind))
    return pa.table(columns, names=names)

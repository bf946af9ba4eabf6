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
from functools import lru_cache, partial
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

LET_GO_REMEMBERED = 4096
# pages a row group's JSON must have served before it was let go for making it again to pay
# (making it costs about what DuckDB's writing of a handful of pages does)
PAID_OFF_USES = 8
Kept = TypeVar("Kept", pa.Table, pa.Array)   # a row group, or an array made from one


class RowGroupCache:
    """Row groups by (file, index), at most `max_bytes` of decoded Arrow data."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._groups: OrderedDict[tuple[Any, ...], pa.Table | pa.Array] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        # what `derived` made and the cache let go (or could not keep), most recent last
        self._let_go: OrderedDict[tuple[Any, ...], None] = OrderedDict()
        self._uses: dict[tuple[Any, ...], int] = {}    # pages served by each derived entry

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
        if pieces is None or not lines_up(tuple(files), schema, tuple(names)):
            return None
        if not pieces:
            return _conform(pa.table({}), schema, names)
        groups = [self.group(path, index) for path, index, _, _ in pieces]
        if any(group is None for group in groups):
            return None
        tables = [_conform(group.slice(skip, take), schema, names)  # type: ignore[union-attr]
                  for group, (_, _, skip, take) in zip(groups, pieces, strict=True)]
        try:
            return pa.concat_tables(tables, promote_options="permissive")
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
            return None

    def group(self, path: str, index: int) -> pa.Table | None:
        """Row group `index` of the file at `path`, decoded (kept, if it fits); None when
        its text is not UTF-8, which DuckDB refuses when it reads the file itself."""
        try:
            return self.kept((path, index), partial(_decoded, path, index))
        except pa.ArrowInvalid:
            return None

    def kept(self, key: tuple[Any, ...], make: Callable[[], Kept]) -> Kept:
        """What `key` names, made by `make` the first time and kept while it fits: a row
        group. Made outside the lock, so a slow one holds no other reader up."""
        found = self._find(key)
        if found is not None:
            return found  # type: ignore[return-value]  # `key` names what `make` made
        made = make()
        self._keep(key, made)
        return made

    def derived(self, key: tuple[Any, ...], make: Callable[[], Kept]) -> Kept | None:
        """Like `kept`, for something made from a row group to save work on later pages (its
        columns' JSON, `lake.pagejson`); None when it was too large to keep, or was let go
        before it served `PAID_OFF_USES` pages. Then the readers are more than the cache
        holds, and making it again for each page would cost more than it saves: the caller
        reads another way. (One that served a whole reader, and is asked for again by the
        next one, is made again.)"""
        found = self._find(key)
        if found is not None:
            with self._lock:
                self._uses[key] = self._uses.get(key, 0) + 1
            return found  # type: ignore[return-value]
        with self._lock:
            if key in self._let_go:
                return None
        made = make()
        if not self._keep(key, made, derived=True):
            with self._lock:
                self._remember_let_go(key)
        return made

    def _find(self, key: tuple[Any, ...]) -> pa.Table | pa.Array | None:
        with self._lock:
            found = self._groups.get(key)
            if found is not None:
                self._groups.move_to_end(key)
            return found

    def _keep(self, key: tuple[Any, ...], made: pa.Table | pa.Array, *,
              derived: bool = False) -> bool:
        """Keep `made` (the least recently used let go to make room); False when it is too
        large to keep."""
        with self._lock:
            if key in self._groups:
                return True
            if made.nbytes * 4 > self.max_bytes:
                return False
            self._groups[key] = made
            if derived:
                self._uses[key] = 0
            self._size += made.nbytes
            while self._size > self.max_bytes and len(self._groups) > 1:
                dropped_key, dropped = self._groups.popitem(last=False)
                self._size -= dropped.nbytes
                uses = self._uses.pop(dropped_key, None)
                if uses is not None and uses < PAID_OFF_USES:
                    self._remember_let_go(dropped_key)
            return True

    def _remember_let_go(self, key: tuple[Any, ...]) -> None:
        self._let_go[key] = None
        while len(self._let_go) > LET_GO_REMEMBERED:
            self._let_go.popitem(last=False)


def _decoded(path: str, index: int) -> pa.Table:
    # text stays dictionary-encoded, so a column of one long value repeated takes its
    # Parquet size in memory, not that value times the rows; checked whole (≈ 5 ms a row
    # group of 131,072 rows), as DuckDB checks text it reads
    table = pq.ParquetFile(path, read_dictionary=_texts(path)).read_row_group(index)
    table.validate(full=True)
    return table


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
    return tuple(f.name for f in _schema(path)
                 if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
                 or pa.types.is_binary(f.type) or pa.types.is_large_binary(f.type))


def _conform(table: pa.Table, schema: pa.Schema, names: list[str]) -> pa.Table:
    """`table` with exactly the columns `names`, in that order; missing ones null."""
    rows = table.num_rows
    columns = []
    for name in names:
        if name in table.column_names:
            columns.append(table.column(name))
        else:
            kind = schema.field(name).type if name in schema.names else pa.string()
            columns.append(pa.nulls(rows, kind))
    return pa.table(columns, names=names)


@lru_cache(maxsize=1024)
def lines_up(files: tuple[str, ...], schema: pa.Schema, names: tuple[str, ...]) -> bool:
    """Whether every file's columns `names` read as DuckDB reads the version's files
    together (`union_by_name`): each of the version's type, or absent (null) with no other
    spelling. A file written before a column was widened, or that names it in other letter
    case, does not: DuckDB converts or matches those itself (the first file's spelling
    naming the column in every row), so such a version's pages are read by DuckDB."""
    for path in files:
        own = _schema(path)
        lowered = {n.lower() for n in own.names}
        for name in names:
            if name in own.names:
                if name not in schema.names or own.field(name).type != schema.field(name).type:
                    return False
            elif name.lower() in lowered:
                return False
    return True


@lru_cache(maxsize=1024)
def _schema(path: str) -> pa.Schema:
    return pq.read_schema(path)

"""Reading a table version: filters, sort, columns, paging, and streamed output formats.

Filters come from query parameters named after columns, with an optional operator suffix:
`시도명=서울특별시` (equals), `시도명__in=서울특별시,부산광역시`, `열람좌석수__gte=100`,
`열람좌석수__lt=500`, `도서관명__contains=어린이`, `위도__isnull=true`. Values are bound as
parameters and cast to the column's type; names are checked against the schema. A page is
addressed by an opaque cursor that pins the version, so paging never mixes versions.
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from ..core.duck import quote_ident
from ..core.errors import Invalid
from ..core.pagination import decode_cursor, encode_cursor
from . import pagejson
from .rowgroups import RowGroupCache
from .storage import LakeStorage
from .tables import SQL_TYPES, VersionData

OPERATORS = {"exact": "=", "gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "in": "IN",
             "contains": "contains", "isnull": "isnull"}
RESERVED = {"limit", "cursor", "sort", "columns", "version", "format", "serviceKey", "pageNo",
            "numOfRows", "type", "_type", "spreadsheet"}
FORMATS = ("json", "ndjson", "csv", "xml", "parquet")
BATCH = 50_000


@dataclass
class RowQuery:
    data: VersionData
    schema: list[dict[str, Any]]
    storage: LakeStorage
    filters: list[tuple[str, str, str]] = field(default_factory=list)  # column, op, raw value
    sort: list[tuple[str, bool]] = field(default_factory=list)           # column, descending
    columns: list[str] | None = None
    sample: int | None = None    # read only the version's first rows (a sample grant)

    @property
    def types(self) -> dict[str, str]:
        return {c["name"]: c["type"] for c in self.schema}

    def source(self, con: duckdb.DuckDBPyConnection) -> str:
        if not self.data.files:
            return "(SELECT " + ", ".join(
                f"CAST(NULL AS {SQL_TYPES[c['type']]}) AS {quote_ident(c['name'])}"
                for c in self.schema) + " WHERE false)"
        relation = self.storage.relation(con, self.data.files, "version_rows", self.data.schema)
        if self.sample is not None:   # filters and sort apply within the sample, never past it
            return f"(SELECT * FROM {relation} LIMIT {int(self.sample)})"
        return relation

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        types = self.types
        for column, op, raw in self.filters:
            c = quote_ident(column)
            sql_type = SQL_TYPES[types[column]]
            if op == "isnull":
                clauses.append(f"{c} IS NULL" if raw.lower() in ("true", "1", "yes")
                               else f"{c} IS NOT NULL")
            elif op == "contains":
                clauses.append(f"contains(CAST({c} AS VARCHAR), ?)")
                params.append(raw)
            elif op == "in":
                values = [v for v in raw.split(",")]
                clauses.append(f"{c} IN ({', '.join(f'CAST(? AS {sql_type})' for _ in values)})")
                params += values
            else:
                clauses.append(f"{c} {OPERATORS[op]} CAST(? AS {sql_type})")
                params.append(raw)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def names(self) -> list[str]:
        """The columns read, in order."""
        return self.columns or [c["name"] for c in self.schema]

    def select(self) -> str:
        return ", ".join(quote_ident(n) for n in self.names())

    def order(self) -> str:
        if not self.sort:
            return ""
        return " ORDER BY " + ", ".join(f"{quote_ident(c)} {'DESC' if d else 'ASC'} NULLS LAST"
                                        for c, d in self.sort)


def parse_query(storage: LakeStorage, data: VersionData, schema: list[dict[str, Any]],
                params: dict[str, str], *, sort: str | None, columns: str | None,
                sample: int | None = None) -> RowQuery:
    """Build a query from request parameters, naming any unknown column or operator."""
    names = [c["name"] for c in schema]
    query = RowQuery(data=data, schema=schema, storage=storage, sample=sample)
    for key, value in params.items():
        if key in RESERVED:
            continue
        column, _, op = key.rpartition("__") if "__" in key else (key, "", "exact")
        if op not in OPERATORS:
            column, op = key, "exact"
        if column not in names:
            raise Invalid("Unknown column {column}; the columns are: {columns}",
                          code="unknown_column", field=key, column=column,
                          columns=", ".join(names))
        query.filters.append((column, op, value))
    for item in (sort or "").split(","):
        item = item.strip()
        if not item:
            continue
        descending = item.startswith("-")
        column = item.lstrip("-")
        if column not in names:
            raise Invalid("Cannot sort by unknown column {column}", code="unknown_column",
                          field="sort", column=column)
        query.sort.append((column, descending))
    if columns:
        # each column once, in the order first asked (a second `a` would come back as `a_1`)
        chosen = list(dict.fromkeys(c.strip() for c in columns.split(",") if c.strip()))
        unknown = [c for c in chosen if c not in names]
        if unknown:
            raise Invalid("Unknown column {column}; the columns are: {columns}",
                          code="unknown_column", field="columns", column=unknown[0],
                          columns=", ".join(names))
        query.columns = chosen
    return query


_database: tuple[int, duckdb.DuckDBPyConnection] | None = None   # (process id, database)
_opening = threading.Lock()


def connect() -> duckdb.DuckDBPyConnection:
    """A connection of its own (a cursor) to this process's one in-memory DuckDB database.

    Opening a database cost about a third of a JSON page's time (≈ 30 ms); a cursor on an
    open one costs next to nothing. Each request's cursor is its own connection, so what it
    registers (a remote version's dataset) is seen by no other. A child process made by
    fork opens its own database rather than use its parent's."""
    global _database
    with _opening:
        if _database is None or _database[0] != os.getpid():
            _database = (os.getpid(), duckdb.connect(config={
                # Parquet footers kept between reads (a JSON page spent ≈ 3 ms of 18 parsing
                # them again); the lake's files never change once written
                "enable_object_cache": True,
                "autoinstall_known_extensions": False, "autoload_known_extensions": False}))
        return _database[1].cursor()


def _run(con: duckdb.DuckDBPyConnection, sql: str, params: list[Any]) -> Any:
    try:
        return con.execute(sql, params)
    except duckdb.ConversionException as exc:
        raise Invalid("A filter value does not fit its column's type: {reason}",
                      code="invalid_filter", reason=str(exc).splitlines()[0][:200]) from None


def _offset(cursor: str | None, version: int) -> int:
    after = decode_cursor(cursor)
    if not after:
        return 0
    if len(after) != 2 or after[0] != version:
        raise Invalid("The cursor belongs to another version or query", code="invalid_cursor",
                      field="cursor")
    return int(after[1])


def _counted_page(con: duckdb.DuckDBPyConnection, query: RowQuery, limit: int, offset: int
                  ) -> tuple[str, list[Any], int]:
    """The page's SELECT, its parameters, and how many rows match (the count runs first, so a
    filter value that does not fit its column is refused here)."""
    where, params = query.where()
    total = _plain_total(query)      # every row: the Delta log has the count
    if (kept := _from_row_groups(query, limit, offset, total)) is not None:
        con.register("page_rows", kept)
        return f"SELECT {query.select()} FROM page_rows", [], total
    source = query.source(con)
    if total is None:
        total = _run(con, f"SELECT count(*) FROM {source}{where}", params).fetchall()[0][0]
    return (f"SELECT {query.select()} FROM {source}{where}{query.order()}"
            f" LIMIT {int(limit)} OFFSET {offset}", params, total)


def _from_row_groups(query: RowQuery, limit: int, offset: int, total: int | None
                     ) -> pa.Table | None:
    """The page's rows from decoded row groups kept between pages (`rowgroups`); None for
    other reads (the first page, a sort, or when the cache cannot serve them)."""
    span = _kept_span(query, limit, offset, total)
    if span is None:
        return None
    cache, count = span
    return cache.rows(query.data.files, query.data.schema, query.names(), offset, count)


def page(query: RowQuery, *, version: int, limit: int, cursor: str | None
         ) -> tuple[list[dict[str, Any]], int, str | None]:
    """One page of rows as dicts, the total matching, and the next cursor."""
    offset = _offset(cursor, version)
    con = connect()
    try:
        sql, params, total = _counted_page(con, query, limit, offset)
        result = _run(con, sql, params)
        names = [d[0] for d in result.description]
        rows = [dict(zip(names, (_jsonable(v) for v in row), strict=True))
                for row in result.fetchall()]
    finally:
        con.close()
    next_offset = offset + len(rows)
    next_cursor = encode_cursor([version, next_offset]) if next_offset < total else None
    return rows, total, next_cursor


def page_json(query: RowQuery, *, version: int, limit: int, cursor: str | None
              ) -> tuple[bytes, int, str | None]:
    """One page as the bytes of a JSON array of row objects, the total matching, and the
    next cursor. The same rows and values as `page` after `json.dumps`, but DuckDB writes
    the JSON: a page of 1,000 rows spent 15 ms making Python dicts and 12 ms encoding them.
    A reader following the cursor through every row gets pages joined from JSON kept with
    the row groups (`pagejson`)."""
    offset = _offset(cursor, version)
    con = connect()
    try:
        total = _plain_total(query)
        lines = _kept_lines(con, query, limit, offset, total)
        if lines is None:
            page_sql, params, total = _counted_page(con, query, limit, offset)
            shown = _as_python_shows(query)
            if shown:
                page_sql = f"SELECT {shown} FROM ({page_sql}) AS r"
            row = _row_alias(query.names())
            sql = f"SELECT to_json({row})::VARCHAR || ',' AS j FROM ({page_sql}) AS {row}"
            lines = (con.sql(sql, params=params) if params else con.sql(sql)
                     ).to_arrow_table().column(0)
    finally:
        con.close()
    count = len(lines)
    body = b"[" + _joined(lines)[:-1] + b"]" if count else b"[]"
    next_offset = offset + count
    next_cursor = encode_cursor([version, next_offset]) if next_offset < total else None
    return body, total, next_cursor


def _kept_lines(con: duckdb.DuckDBPyConnection, query: RowQuery, limit: int, offset: int,
                total: int | None) -> pa.ChunkedArray | None:
    """The page's rows, each followed by a comma, joined from JSON kept with the row groups;
    None when the cache cannot serve them."""
    span = _kept_span(query, limit, offset, total)
    if span is None:
        return None
    cache, count = span
    types = query.types
    return pagejson.page_rows(con, cache, query.data.files, query.data.schema,
                              [(n, types[n]) for n in query.names()], offset, count)


def _kept_span(query: RowQuery, limit: int, offset: int, total: int | None
               ) -> tuple[RowGroupCache, int] | None:
    """The cache and the page's row count, for a page kept row groups serve: one a reader
    following a cursor through every row in stored order reaches after the first."""
    cache = query.storage.row_groups
    if cache is None or total is None or not 0 < offset < total or query.sort:
        return None
    return cache, min(limit, total - offset)


def _row_alias(names: list[str]) -> str:
    """A name for a whole row that no column has (`to_json(t)` of a table with a column
    `t` would write that column's value, not the row)."""
    taken = {n.lower() for n in names}
    alias = "t"
    while alias in taken:
        alias += "_"
    return alias


def _plain_total(query: RowQuery) -> int | None:
    """Rows of an unfiltered read, from the Delta log; None when it has filters or the log
    does not say."""
    known = query.data.rows if query.data.files else 0
    if query.filters or known is None:
        return None
    return known if query.sample is None else min(known, query.sample)


def _as_python_shows(query: RowQuery) -> str | None:
    """A select list writing timestamps as Python's `isoformat` does, or None when no column
    is a timestamp."""
    names = query.names()
    types = query.types
    if not any(types.get(n) == "timestamp" for n in names):
        return None
    return ", ".join(f"{pagejson.shown(n, types.get(n, ''))} AS {quote_ident(n)}"
                     for n in names)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def stream(query: RowQuery, *, fmt: str, limit: int | None, offset: int = 0,
           spreadsheet: bool = False) -> Iterator[bytes]:
    """All matching rows (up to `limit`) in a streamed format (`spreadsheet`: CSV made safe
    to open in a spreadsheet, see `csv_chunks`).

    The query starts before this returns, so a bad filter is an error answer, not a broken
    stream; the rows then flow batch by batch.
    """
    where, params = query.where()
    limit_sql = f" LIMIT {int(limit)}" if limit is not None else ""
    con = connect()
    sql = (f"SELECT {query.select()} FROM {query.source(con)}{where}{query.order()}{limit_sql}"
           f" OFFSET {int(offset)}")
    if fmt == "ndjson":
        row = _row_alias(query.names())      # JSON made by DuckDB (C++)
        sql = f"SELECT to_json({row})::VARCHAR AS j FROM ({sql}) AS {row}"
    try:
        relation = con.sql(sql, params=params) if params else con.sql(sql)
        reader = relation.to_arrow_reader(batch_size=BATCH)
    except duckdb.ConversionException as exc:
        con.close()
        raise Invalid("A filter value does not fit its column's type: {reason}",
                      code="invalid_filter", reason=str(exc).splitlines()[0][:200]) from None
    writers = {"ndjson": lambda r: _ndjson(r), "xml": lambda r: xml_items(r),
               "csv": lambda r: csv_chunks(r.schema, r, spreadsheet=spreadsheet),
               "parquet": lambda r: parquet_chunks(r.schema, r)}

    def produce() -> Iterator[bytes]:
        try:
            yield from writers[fmt](reader)
        finally:
            reader.close()
            con.close()

    return produce()


def _ndjson(reader: pa.RecordBatchReader) -> Iterator[bytes]:
    """DuckDB's JSON lines as they lie in Arrow's memory: a newline appended by Arrow's
    kernel, then the values' buffer sent as it is (no Python string per row)."""
    for batch in reader:
        if batch.num_rows:
            lines = batch.column(0)
            yield _joined(pc.binary_join_element_wise(
                lines, pa.scalar("", lines.type), pa.scalar("\n", lines.type)))


def _joined(lines: pa.Array) -> bytes:
    """The bytes of a string array's values one after another (none may be null)."""
    if isinstance(lines, pa.ChunkedArray):
        return b"".join(_joined(chunk) for chunk in lines.chunks)
    if lines.null_count:
        raise ValueError("a JSON line is null")
    width = 8 if pa.types.is_large_string(lines.type) else 4
    offsets = lines.buffers()[1]
    start = int.from_bytes(offsets[lines.offset * width:(lines.offset + 1) * width], "little")
    end_at = (lines.offset + len(lines)) * width
    end = int.from_bytes(offsets[end_at:end_at + width], "little")
    return lines.buffers()[2][start:end].to_pybytes()


def csv_chunks(schema: pa.Schema, batches: Iterable[pa.RecordBatch], *,
               spreadsheet: bool = False) -> Iterator[bytes]:
    """UTF-8 with BOM, so Excel on Korean Windows opens it without mojibake.

    Values are written exactly as stored. With `spreadsheet`, a text cell that a spreadsheet
    would run as a formula (starting with = + - @, a tab or a carriage return) gets a leading
    apostrophe, as OWASP advises for CSV meant to be opened in Excel or LibreOffice."""
    yield "\ufeff".encode()
    first = True
    for batch in batches:
        if spreadsheet:
            batch = defuse_formulas(batch)
        buffer = io.BytesIO()
        pacsv.write_csv(batch, buffer, pacsv.WriteOptions(include_header=first))
        first = False
        yield buffer.getvalue()
    if first:  # no rows: still a header
        buffer = io.BytesIO()
        pacsv.write_csv(pa.Table.from_batches([], schema=schema), buffer)
        yield buffer.getvalue()


FORMULA_START = r"^[=+\-@\t\r]"


def defuse_formulas(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Text columns with a formula-like first character get an apostrophe in front."""
    columns = []
    for column in batch.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.fill_null(pc.match_substring_regex(column, FORMULA_START), False)
            column = pc.if_else(risky, pc.binary_join_element_wise("'", column, ""), column)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


class _Drain(io.RawIOBase):
    """A write-only sink whose bytes are taken out after each row group (streamed Parquet)."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def take(self) -> bytes:
        out = b"".join(self.chunks)
        self.chunks.clear()
        return out


def parquet_chunks(schema: pa.Schema, batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """Parquet written row group by row group, each sent as soon as it is encoded."""
    sink = _Drain()
    with pq.ParquetWriter(sink, schema) as writer:
        for batch in batches:
            writer.write_batch(batch)
            if chunk := sink.take():
                yield chunk
    if chunk := sink.take():
        yield chunk


def xml_items(reader: pa.RecordBatchReader) -> Iterator[bytes]:
    """Rows as data.go.kr-style <item> elements (element names are the column names)."""
    names = reader.schema.names
    tags = [_xml_name(n) for n in names]
    yield b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<rows>"
    for batch in reader:
        yield _items(batch, tags).encode()
    yield b"</rows>\n"


def _items(batch: pa.RecordBatch, tags: list[str]) -> str:
    columns = [batch.column(i).to_pylist() for i in range(batch.num_columns)]
    parts = []
    for row in zip(*columns, strict=True):
        parts.append("<item>" + "".join(
            f"<{t}>{escape(_text(v))}</{t}>" for t, v in zip(tags, row, strict=True)
            if v is not None) + "</item>")
    return "".join(parts)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


def _xml_name(name: str) -> str:
    """A valid XML element name for a column (Korean letters are valid name characters)."""
    cleaned = "".join(ch if (ch.isalnum() or ch in "_-.") else "_" for ch in name)
    if not cleaned or not (cleaned[0].isalpha() or cleaned[0] == "_"):
        cleaned = "_" + cleaned
    return cleaned

"""JSON pages joined from kept row groups: each column's values written as JSON once per row
group by DuckDB, and every page after that a join of slices of them by Arrow.

A reader following `next_cursor` through a table had each 1,000-row page handed to DuckDB's
`to_json` again (≈ 4 ms of the ≈ 11 ms of hub CPU a page took on the 1,000,000-row benchmark
table, and ≈ 1 ms more to register the page with DuckDB). Here DuckDB writes each value once:
a text column's dictionary (each distinct value once), any other column whole. The pieces are
DuckDB's own JSON, so a page is byte for byte the page `to_json` of its rows would be; Arrow
only puts them between the keys and braces. They are kept in the row-group cache beside the
row groups they were made from, and bounded with them.
"""

from __future__ import annotations

from functools import partial

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from ..core.duck import quote_ident
from .rowgroups import RowGroupCache, lines_up

NULL = pa.scalar("null")
_NAMES: dict[str, str] = {}       # column names written as JSON strings


def shown(column: str, hub_type: str) -> str:
    """The SQL of `column`'s value as a JSON page shows it: timestamps as Python's
    `isoformat` writes them (`T` between date and time, microseconds only when there are
    any), everything else as stored."""
    c = quote_ident(column)
    if hub_type != "timestamp":
        return c
    return (f"CASE WHEN epoch_us({c}) % 1000000 = 0 THEN strftime({c}, '%Y-%m-%dT%H:%M:%S') "
            f"ELSE strftime({c}, '%Y-%m-%dT%H:%M:%S.%f') END")


def page_rows(con: duckdb.DuckDBPyConnection, cache: RowGroupCache, files: list[str],
              schema: pa.Schema, columns: list[tuple[str, str]], offset: int, limit: int
              ) -> pa.ChunkedArray | None:
    """Rows `offset` to `offset + limit` of `files` as the text of JSON objects with
    `columns` (name, hub type), each followed by a comma; None when the cache cannot serve
    them (the caller asks DuckDB)."""
    pieces = cache.pieces(files, offset, limit)
    names = [name for name, _ in columns]
    if pieces is None or len(set(names)) != len(names) or not lines_up(
            tuple(files), schema, tuple(names)):
        return None
    keys = [pa.scalar(("{" if i == 0 else ",") + _json_text(con, name) + ":")
            for i, name in enumerate(names)]
    lines: list[pa.Array] = []
    for path, index, skip, take in pieces:
        group = cache.group(path, index)
        if group is None:
            return None
        parts: list[pa.Array | pa.Scalar] = []
        for key, (name, hub_type) in zip(keys, columns, strict=True):
            if name not in group.column_names:       # a column added after this file
                parts += [key, NULL]
                continue
            values = cache.derived((path, index, "json", name, hub_type),
                                   partial(_written, con, group.column(name), hub_type))
            if values is None:
                return None
            parts += [key, _plain(values.slice(skip, take))]
        parts.append(pa.scalar("},"))
        line = pc.binary_join_element_wise(*parts, "")
        # every column absent from this file: the parts were all scalars, and so is the line
        lines.append(pa.repeat(line, take) if isinstance(line, pa.Scalar) else line)
    return pa.chunked_array(lines, pa.string())


def _written(con: duckdb.DuckDBPyConnection, column: pa.ChunkedArray, hub_type: str
             ) -> pa.Array:
    """A row group's column as each value's JSON, a dictionary (for text its nulls are
    null, otherwise `null` is written out)."""
    if pa.types.is_dictionary(column.type):
        kept = column.unify_dictionaries().combine_chunks()
        return pa.DictionaryArray.from_arrays(kept.indices,
                                              _json_each(con, kept.dictionary, hub_type))
    # kept as a dictionary: dates, counts and coordinates repeat, and their JSON took 3.5×
    # the memory of it (≈ 2 MB against ≈ 0.6 MB a column of 131,072 rows)
    return pc.dictionary_encode(_json_each(con, column.combine_chunks(), hub_type))


def _json_each(con: duckdb.DuckDBPyConnection, values: pa.Array, hub_type: str) -> pa.Array:
    """DuckDB's `to_json` of each value, in order; a null as `null`."""
    con.register("kept_values", pa.table({"v": values}))
    try:
        written = con.sql(f"SELECT coalesce(to_json({shown('v', hub_type)})::VARCHAR, 'null') "
                          "FROM kept_values").to_arrow_table().column(0)
    finally:
        con.unregister("kept_values")
    return written.combine_chunks().cast(pa.string())


def _json_text(con: duckdb.DuckDBPyConnection, text: str) -> str:
    """A column name as DuckDB writes it in JSON (once per name: asking costs ≈ 0.3 ms)."""
    found = _NAMES.get(text)
    if found is None:
        found = con.execute("SELECT to_json(?::VARCHAR)::VARCHAR", [text]).fetchall()[0][0]
        if len(_NAMES) < 10_000:
            _NAMES[text] = found
    return found


def _plain(values: pa.Array) -> pa.Array:
    """A slice of a column's JSON as plain text, nulls written out."""
    if isinstance(values, pa.DictionaryArray):
        return pc.fill_null(values.dictionary.take(values.indices), NULL)
    return values

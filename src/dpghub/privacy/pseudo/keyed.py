"""Keyed HMAC and random tokens, as DuckDB functions over Arrow batches.

Both read a value's text form (DuckDB's CAST to VARCHAR, UTF-8), so the number 42 and the
text '42' give the same output. Nulls stay null.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

TOKEN_PREFIX = "tk_"
TOKEN_BYTES = 12          # 16 URL-safe characters


def register_hmac(con: duckdb.DuckDBPyConnection, name: str, key: bytes) -> None:
    """`name(text)` → lowercase hex HMAC-SHA-256 (64 characters) under `key`. The key stays
    in this closure: it never appears in SQL, a plan, or a record."""
    from duckdb.sqltypes import VARCHAR

    def digest(values: Any) -> pa.Array:
        return pa.array([None if v is None else
                         hmac.new(key, v.encode("utf-8"), hashlib.sha256).hexdigest()
                         for v in values.to_pylist()], pa.string())

    con.create_function(name, digest, [VARCHAR], VARCHAR, type="arrow",
                        null_handling="special", side_effects=False)


def new_tokens(values: pa.Array) -> pa.Table:
    """One fresh random token per distinct value (`value`, `token`), never two alike."""
    tokens: list[str] = []
    seen: set[str] = set()
    for _ in range(len(values)):
        token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        while token in seen:
            token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
        seen.add(token)
        tokens.append(token)
    return pa.table({"value": values.cast(pa.string()), "token": pa.array(tokens, pa.string())})


def register_tokens(con: duckdb.DuckDBPyConnection, name: str, mapping: pa.Table) -> None:
    """`name(text)` → the mapping's token of the value, looked up batch-wise (index_in/take)."""
    from duckdb.sqltypes import VARCHAR

    keys = mapping.column("value").combine_chunks()
    tokens = mapping.column("token").combine_chunks()

    def lookup(values: Any) -> pa.Array:
        return pc.take(tokens, pc.index_in(values, value_set=keys))

    con.create_function(name, lookup, [VARCHAR], VARCHAR, type="arrow",
                        null_handling="special", side_effects=False)

"""A locked DuckDB for one query's tables: only the chosen versions' files are readable, no
settings can change, no extensions load, with a memory limit and no spilling to disk.

These databases live only in query worker processes (`worker.py`), never in the hub's own:
DuckDB's memory limit does not cover everything a query can allocate (list functions build
whole lists outside it), so the worker process carries an operating-system limit too, and is
killed when it passes its time limit. Kept light to import: a worker imports this module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from datetime import time as clock
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from ..core.errors import HubError, Invalid

if TYPE_CHECKING:
    from ..lake.storage import LakeStorage
    from .regions import RegionIndex

BATCH = 10_000


class QueryTimeout(HubError):
    status = 408
    code = "query_timeout"
    title = "The query took too long"


class QueryTooLarge(HubError):
    status = 422
    code = "query_memory"
    title = "The query needs more memory than allowed"


@dataclass
class Result:
    columns: list[dict[str, str]]
    rows: list[list[Any]]
    truncated: bool
    elapsed_ms: float


@dataclass(frozen=True)
class View:
    """One table of a query as the sandbox reads it: the view's name, the version's files,
    and its schema (needed for an empty version and for files in an object store)."""

    name: str
    files: tuple[str, ...]
    schema: pa.Schema | None = None


def fresh(memory_mb: int, threads: int) -> duckdb.DuckDBPyConnection:
    """A new, empty DuckDB database with the sandbox's limits, not yet locked."""
    return duckdb.connect(config={
        "memory_limit": f"{memory_mb}MB", "threads": threads,
        # no spilling: a query larger than its memory fails at once instead of filling the
        # disk under the working folder (DuckDB's default is `.tmp`, up to 90% of the disk)
        "temp_directory": "",
        # no background I/O threads: each database would start eight, and their stacks
        # count against the worker's address-space limit
        "async_threads": 0,
        # Parquet footers kept between queries (a one-row query spent ~1 ms re-reading the
        # same version's footer each time); the lake's files never change once written
        "enable_object_cache": True,
        "autoinstall_known_extensions": False, "autoload_known_extensions": False,
        "allow_community_extensions": False, "allow_unsigned_extensions": False})


def lock(con: duckdb.DuckDBPyConnection, views: list[View], regions: RegionIndex,
         storage: LakeStorage | None = None) -> duckdb.DuckDBPyConnection:
    """Make `con` (from `fresh`) the sandbox of `views`: region functions, one view per
    table, then only those files readable and the configuration locked."""
    _functions(con, regions)  # in the database's catalog: every cursor has them
    allowed: list[str] = []
    for view in views:
        if not view.files:
            fields = view.schema or pa.schema([])
            columns = ", ".join(f"CAST(NULL AS VARCHAR) AS {_ident(f.name)}" for f in fields)
            con.execute(f"CREATE VIEW {_ident(view.name)} AS SELECT "
                        f"{columns or '1 AS empty'} WHERE false")
        elif storage is not None and storage.remote:
            relation = storage.relation(con, list(view.files), view.name + "_files",
                                        view.schema)
            con.execute(f"CREATE VIEW {_ident(view.name)} AS SELECT * FROM {relation}")
        else:
            allowed += view.files
            files = ", ".join(_string(f) for f in view.files)
            con.execute(f"CREATE VIEW {_ident(view.name)} AS SELECT * FROM "
                        f"read_parquet([{files}], union_by_name=true)")
    if allowed:
        con.execute("SET allowed_paths = [" + ", ".join(_string(f) for f in allowed) + "]")
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")
    return con


def _string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _functions(con: duckdb.DuckDBPyConnection, regions: RegionIndex) -> None:
    """Region functions, usable in every query."""
    from duckdb.sqltypes import VARCHAR

    con.create_function("_sigungu_code", regions.sigungu_code, [VARCHAR], VARCHAR,
                        null_handling="special", side_effects=False)
    con.create_function("_sido_code", regions.sido_code, [VARCHAR], VARCHAR,
                        null_handling="special", side_effects=False)
    con.create_function("_region_name", regions.region_name, [VARCHAR], VARCHAR,
                        null_handling="special", side_effects=False)
    con.execute("CREATE MACRO sigungu_code(a, b := NULL) AS "
                "_sigungu_code(concat_ws(' ', CAST(a AS VARCHAR), CAST(b AS VARCHAR)))")
    con.execute("CREATE MACRO sido_code(a) AS _sido_code(CAST(a AS VARCHAR))")
    con.execute("CREATE MACRO region_name(a) AS "
                "_region_name(CAST(a AS VARCHAR))")
    con.create_function("_hdong_name", regions.hdong_name, [VARCHAR], VARCHAR,
                        null_handling="special", side_effects=False)
    con.execute("CREATE MACRO hdong_name(a) AS "
                "_hdong_name(CAST(a AS VARCHAR))")


def memory_refusal(memory_mb: int) -> QueryTooLarge:
    return QueryTooLarge("The query needs more than the sandbox's memory limit of {limit} MiB; "
                         "filter or aggregate more", limit=memory_mb)


def result_too_large(limit_bytes: int) -> Invalid:
    return Invalid("The result is larger than {limit} MiB, the most a JSON answer carries; "
                   "ask for fewer rows or columns, or for format=csv or parquet",
                   code="query_result_too_large", field="limit", limit=limit_bytes >> 20)


def translate(exc: BaseException, memory_mb: int) -> HubError:
    """DuckDB's refusal as the caller should read it."""
    if isinstance(exc, (duckdb.OutOfMemoryException, MemoryError)):
        return memory_refusal(memory_mb)
    if isinstance(exc, duckdb.PermissionException):
        return Invalid("The sandbox refused: {reason}", code="sandbox_refused", field="sql",
                       reason=str(exc).splitlines()[0][:300])
    if isinstance(exc, duckdb.Error):
        return Invalid("{reason}", code="query_error", field="sql",
                       reason=str(exc).splitlines()[0][:300])
    if isinstance(exc, HubError):
        return exc
    return Invalid("{reason}", code="query_error", field="sql", reason=str(exc)[:300])


def plain(value: Any) -> Any:
    """A result value as JSON carries it (dates as ISO 8601, decimals as numbers)."""
    if isinstance(value, (datetime, date, clock)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                 "UINTEGER", "UBIGINT", "UHUGEINT"}


def duckdb_type_name(kind: Any) -> str:
    """The hub's name (as in dataset schemas) for a DuckDB result column type."""
    name = str(kind).upper()
    if name in INTEGER_TYPES:
        return "integer"
    if name in ("FLOAT", "DOUBLE") or name.startswith("DECIMAL"):
        return "decimal"
    if name == "BOOLEAN":
        return "boolean"
    if name == "DATE":
        return "date"
    if name.startswith("TIMESTAMP"):
        return "timestamp"
    if name == "VARCHAR":
        return "text"
    return name.lower()


def type_name(kind: pa.DataType) -> str:
    """The hub's name for an Arrow column type."""
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        return "decimal"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_date(kind):
        return "date"
    if pa.types.is_timestamp(kind):
        return "timestamp"
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or \
            pa.types.is_string_view(kind):
        return "text"
    return str(kind)

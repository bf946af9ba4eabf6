"""The same query on Apache Spark, for data beyond one machine.

The guarded query (same parser, same permissions, same version files) is transpiled from
DuckDB's dialect to Spark SQL by sqlglot; each table version is read from its Parquet files;
the region functions are registered as Spark UDFs. `DPGHUB_SPARK_MASTER` names a cluster;
without it Spark runs in local mode on this machine. pyspark is an optional extra
(`pip install 'dpghub[spark]'`).
"""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import sqlglot
from sqlglot import exp

from ..core.errors import Invalid, Unavailable
from ..lake.storage import LakeStorage
from ..lake.tables import VersionData
from .guard import GuardedQuery, TableRef
from .regions import RegionIndex
from .sandbox import QueryTimeout, Result

_session: Any = None
_lock = threading.Lock()


def session(master: str | None) -> Any:
    """One Spark session per hub process, started on first use."""
    global _session
    with _lock:
        if _session is None:
            import os
            import sys

            # UDFs run in Python workers: they must be this interpreter, with dpghub importable
            os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
            os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
            try:
                from pyspark.sql import SparkSession
            except ImportError:
                raise Unavailable("The Spark engine needs pyspark: pip install 'dpghub[spark]'",
                                  code="spark_unavailable") from None
            _session = (SparkSession.builder.master(master or "local[*]").appName("dpghub")
                        .config("spark.ui.enabled", "false")
                        .config("spark.sql.session.timeZone", "UTC")
                        .config("spark.sql.ansi.enabled", "false")
                        .getOrCreate())
            _session.sparkContext.setLogLevel("ERROR")
        return _session


def run(query: GuardedQuery, sources: list[tuple[TableRef, VersionData]],
        storage: LakeStorage, regions: RegionIndex, *, master: str | None, limit: int,
        timeout_ms: int) -> Result:
    if storage.remote:
        raise Invalid("The Spark engine reads lakes on local or shared file systems; this "
                      "hub's lake is in an object store", code="spark_remote_lake",
                      field="engine")
    spark = session(master)
    started = time.perf_counter()
    prefix = f"q{uuid.uuid4().hex[:12]}_"
    _register_functions(spark, regions)
    views = {}
    for ref, data in sources:
        name = prefix + ref.view
        if data.files:
            spark.read.parquet(*data.files).createOrReplaceTempView(name)
        else:
            spark.sql("SELECT 1 AS empty WHERE false").createOrReplaceTempView(name)
        views[ref.view] = name
    sql = _to_spark(query.sql, views)
    group = prefix + "job"
    context = spark.sparkContext
    context.setJobGroup(group, "dpghub query", interruptOnCancel=True)
    timer = threading.Timer(timeout_ms / 1000, lambda: context.cancelJobGroup(group))
    timer.start()
    try:
        frame = spark.sql(sql)
        rows = frame.limit(limit + 1).collect()
    except Exception as exc:
        if not timer.is_alive():
            raise QueryTimeout("The query was stopped at its time limit of {seconds} s",
                               seconds=round(timeout_ms / 1000, 3)) from None
        message = next((line for line in str(exc).splitlines() if line.strip()), repr(exc))
        raise Invalid("{reason}", code="query_error", field="sql",
                      reason=message[:300]) from None
    finally:
        timer.cancel()
        for name in views.values():
            spark.catalog.dropTempView(name)
    truncated = len(rows) > limit
    columns = [{"name": f.name, "type": _type_name(f.dataType.typeName())}
               for f in frame.schema.fields]
    values = [[_plain(v) for v in row] for row in rows[:limit]]
    return Result(columns=columns, rows=values, truncated=truncated,
                  elapsed_ms=round((time.perf_counter() - started) * 1000, 2))


def _to_spark(sql: str, views: dict[str, str]) -> str:
    tree = sqlglot.parse_one(sql, read="duckdb")
    for table in tree.find_all(exp.Table):
        if table.name in views:
            table.set("this", exp.to_identifier(views[table.name]))
    for call in tree.find_all(exp.Anonymous):
        if call.name.lower() == "sigungu_code" and len(call.expressions) == 2:
            call.set("expressions", [exp.func("concat_ws", exp.Literal.string(" "),
                                              *call.expressions)])
    return tree.sql(dialect="spark", identify=True)  # Korean names need backquotes in Spark


def _register_functions(spark: Any, regions: RegionIndex) -> None:
    from pyspark.sql.types import StringType

    spark.udf.register("sigungu_code", lambda v: regions.sigungu_code(v), StringType())
    spark.udf.register("sido_code", lambda v: regions.sido_code(v), StringType())
    spark.udf.register("region_name", lambda v: regions.region_name(v), StringType())
    spark.udf.register("hdong_name", lambda v: regions.hdong_name(v), StringType())


def _type_name(name: str) -> str:
    return {"long": "integer", "integer": "integer", "short": "integer", "byte": "integer",
            "double": "decimal", "float": "decimal", "decimal": "decimal",
            "boolean": "boolean", "date": "date", "timestamp": "timestamp",
            "timestamp_ntz": "timestamp", "string": "text"}.get(name, name)


def _plain(value: Any) -> Any:
    from .sandbox import plain

    return plain(value)

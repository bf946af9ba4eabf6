"""A query worker: a process of its own that checks and runs other people's SQL, so that a
query that needs too much memory or time takes down only this process, never the hub.

Started by the pool in `workers.py` as `python -m dpghub.analysis.worker FD`, it reads its
settings from the socket FD, opens a first database, then limits its own address space
(RLIMIT_AS) to its size at that moment plus the query memory limit and a headroom: DuckDB's
`memory_limit` covers its operators' buffers, not everything a query can allocate (list
functions such as `range` build whole lists outside it), and the operating system's limit
covers the rest. A failed allocation is an error DuckDB reports, the worker answers
`query_memory` and serves on; the hub kills a worker that passes its time limit.

Requests (JSON) are answered in `wire` frames: `guard` checks a text (parsing is pure Python,
so it runs here, under the time limit); `run` runs guarded SQL over table versions' files and
sends the rows as JSON pieces or the batches as Arrow IPC. Locked databases are kept per set
of table versions, so a query on the tables a recent query read finds its views ready.
"""

from __future__ import annotations

import json
import math
import os
import resource
import socket
import sys
from collections import OrderedDict
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.ipc

from ..core.errors import Forbidden, HubError, Invalid, TooLarge
from ..core.rlimit import address_space
from . import sandbox, wire
from .guard import guard, too_deep

KEEP = 6                     # locked databases kept per worker
PIECE_BYTES = 8 << 20        # Arrow batches are sent in pieces of about this size
RECURSION_LIMIT = 50_000     # deeply nested queries are parsed by recursion (≈ 25 calls a level)
ERROR_CLASSES = {cls.__name__: cls for cls in (
    Invalid, Forbidden, TooLarge, sandbox.QueryTooLarge, sandbox.QueryTimeout)}


class Worker:
    def __init__(self, config: dict[str, Any]) -> None:
        self.memory_mb = int(config["memory_mb"])
        self.threads = int(config["threads"])
        self.home = Path(config["home"])
        self.lake = config.get("lake") or {}
        self.result_max = int(config["result_max_bytes"])
        self.databases: OrderedDict[tuple[Any, ...], duckdb.DuckDBPyConnection] = OrderedDict()
        self.spare: duckdb.DuckDBPyConnection | None = None
        self._storage: Any = None

    # --- start-up ------------------------------------------------------------------------

    def limit(self, headroom_mb: int) -> int:
        """Open the first database, then cap the address space; the cap in MiB (0: none)."""
        self.spare = sandbox.fresh(self.memory_mb, self.threads)
        self.spare.execute("SELECT 1").fetchall()
        pa.ipc.new_stream(pa.BufferOutputStream(), pa.schema([])).close()
        if self.lake.get("remote"):
            self.storage()          # its file system and threads, before the cap
        sys.setrecursionlimit(RECURSION_LIMIT)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        size = address_space()
        if size is None:
            return 0
        cap = size + ((self.memory_mb + headroom_mb) << 20)
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        return cap >> 20

    def storage(self) -> Any:
        if self._storage is None and self.lake.get("remote"):
            from ..config import Settings
            from ..lake.storage import LakeStorage

            self._storage = LakeStorage.from_settings(Settings(**self.lake["settings"]))
        return self._storage

    # --- the loop ------------------------------------------------------------------------

    def serve(self, sock: socket.socket) -> None:
        while True:
            if self.spare is None and not wire.waiting(sock):
                self.spare = sandbox.fresh(self.memory_mb, self.threads)  # while idle
            try:
                kind, payload = wire.receive(sock)
            except wire.Closed:
                return
            if kind != wire.REQUEST:
                return
            request = json.loads(payload)
            try:
                if request["op"] == "guard":
                    self.guard(sock, request)
                else:
                    self.run(sock, request)
            except (BrokenPipeError, ConnectionResetError):
                return                                    # the hub gave up on this answer
            except RecursionError:
                _send_error(sock, too_deep())
            except Exception as exc:  # noqa: BLE001 — every failure is the query's answer
                _send_error(sock, sandbox.translate(exc, self.memory_mb))

    def guard(self, sock: socket.socket, request: dict[str, Any]) -> None:
        query = guard(request["sql"], ckan_names=bool(request.get("ckan_names")))
        wire.send_json(sock, wire.REPLY, {"sql": query.sql, "tables": [
            [t.schema, t.name, t.version, t.view] for t in query.tables]})

    def run(self, sock: socket.socket, request: dict[str, Any]) -> None:
        views = [sandbox.View(v["name"], tuple(v["files"]), _schema(v.get("schema")))
                 for v in request["views"]]
        con, owned = self.database(views)
        try:
            cursor = con.cursor()
            try:
                if request["output"] == "rows":
                    self.rows(sock, cursor, request)
                else:
                    self.batches(sock, cursor, request)
            finally:
                cursor.close()
        finally:
            if owned:
                con.close()

    def database(self, views: list[sandbox.View]) -> tuple[duckdb.DuckDBPyConnection, bool]:
        """The locked database of these views, and whether the caller closes it (databases
        over an object store are not kept: their files are registered Arrow datasets)."""
        remote = bool(self.lake.get("remote"))
        key = tuple((v.name, v.files) for v in views)
        if not remote and key in self.databases:
            self.databases.move_to_end(key)
            return self.databases[key], False
        con, self.spare = self.spare or sandbox.fresh(self.memory_mb, self.threads), None
        try:
            sandbox.lock(con, views, LazyRegions(self.home), self.storage())
        except BaseException:
            con.close()
            raise
        if remote:
            return con, True
        self.databases[key] = con
        while len(self.databases) > KEEP:
            self.databases.popitem(last=False)[1].close()
        return con, False

    def rows(self, sock: socket.socket, con: duckdb.DuckDBPyConnection,
             request: dict[str, Any]) -> None:
        """Up to `limit` rows as JSON pieces; DuckDB's own row fetch streams (the rest of a
        large result is never made) and costs less than going through Arrow first."""
        params, limit = request.get("params"), int(request["limit"])
        cursor = con.execute(request["sql"], params) if params else con.execute(request["sql"])
        out = wire.Outbox(sock)   # a small answer leaves in one write
        out.put_json(wire.REPLY, {"columns": [
            {"name": name, "type": sandbox.duckdb_type_name(kind)}
            for name, kind, *_ in cursor.description or ()]})
        fetched = size = sent = 0
        while fetched <= limit:      # one row past the limit says whether there were more
            chunk = cursor.fetchmany(min(sandbox.BATCH, limit + 1 - fetched))
            if not chunk:
                break
            wanted = chunk[:max(limit - fetched, 0)]
            fetched += len(chunk)
            if not wanted:
                break
            piece = _json_rows(wanted)
            size += len(piece)
            if size > self.result_max:
                raise sandbox.result_too_large(self.result_max)
            out.put(wire.ROWS, piece)
            sent += len(wanted)
        out.put_json(wire.END, {"truncated": fetched > limit, "rows": sent})
        out.flush()

    def batches(self, sock: socket.socket, con: duckdb.DuckDBPyConnection,
                request: dict[str, Any]) -> None:
        params, limit = request.get("params"), int(request["limit"])
        relation = con.sql(request["sql"], params=params) if params else con.sql(request["sql"])
        reader = relation.to_arrow_reader(batch_size=sandbox.BATCH)
        try:
            wire.send(sock, wire.ARROW, _ipc(reader.schema, None))
            sent = 0
            while sent < limit:
                try:
                    batch = reader.read_next_batch()
                except StopIteration:
                    break
                if sent + batch.num_rows > limit:
                    batch = batch.slice(0, limit - sent)
                sent += batch.num_rows
                for piece in _pieces(batch):
                    wire.send(sock, wire.ARROW, _ipc(reader.schema, piece))
        finally:
            reader.close()
        wire.send_json(sock, wire.END, {"rows": sent})


class LazyRegions:
    """The region reference, read on the first call of a region function: most queries use
    none, and building it from the official code files takes a second or more."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self._index: Any = None

    def _get(self) -> Any:
        if self._index is None:
            from .regions import index_for

            self._index = index_for(self.home)
        return self._index

    def sigungu_code(self, text: str | None) -> str | None:
        return self._get().sigungu_code(text)

    def sido_code(self, text: str | None) -> str | None:
        return self._get().sido_code(text)

    def region_name(self, code: str | None) -> str | None:
        return self._get().region_name(code)

    def hdong_name(self, code: str | None) -> str | None:
        return self._get().hdong_name(code)


def _json_rows(rows: list[tuple[Any, ...]]) -> bytes:
    """The rows as a compact JSON array of arrays, exactly as the hub's answer carries them
    (the hub places these bytes in its answer unparsed): a float that is not a number or is
    infinite is null, since JSON has no word for it."""
    try:
        try:   # the encoder asks `_json_value` only for what it has no name for (dates,
            # decimals): a value-by-value pass in Python cost 1.5 ms per 100 rows of 6 columns
            text = json.dumps(rows, ensure_ascii=False, allow_nan=False,
                              separators=(",", ":"), default=_json_value)
        except ValueError:                              # NaN or ±infinity somewhere
            text = json.dumps(_finite(rows), ensure_ascii=False, allow_nan=False,
                              separators=(",", ":"), default=_json_value)
    except (TypeError, ValueError) as exc:
        raise Invalid("A value in the result cannot be sent as JSON ({reason}); ask for "
                      "format=parquet", code="query_error", field="sql",
                      reason=str(exc)[:200]) from None
    return text.encode()


def _finite(value: Any) -> Any:
    """`value` with every non-finite float (also inside lists and structs) made None."""
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    value = sandbox.plain(value)       # a decimal is a float from here
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value


def _json_value(value: Any) -> Any:
    """A value JSON has no name for (a date, a decimal, bytes, …), at any depth."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", "replace")
    plain = sandbox.plain(value)
    return plain if plain is not value else str(value)


def _pieces(batch: pa.RecordBatch) -> list[pa.RecordBatch]:
    """A batch in pieces of about PIECE_BYTES, so that the hub holds little of it at a time
    (ten thousand rows of long texts can be a gigabyte)."""
    size = batch.nbytes
    if size <= PIECE_BYTES or batch.num_rows <= 1:
        return [batch]
    rows = max(1, batch.num_rows * PIECE_BYTES // size)
    return [batch.slice(start, rows) for start in range(0, batch.num_rows, rows)]


def _ipc(schema: pa.Schema, batch: pa.RecordBatch | None) -> pa.Buffer:
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, schema) as writer:
        if batch is not None:
            writer.write_batch(batch)
    return sink.getvalue()


def _schema(encoded: str | None) -> pa.Schema | None:
    if not encoded:
        return None
    import base64

    return pa.ipc.read_schema(pa.py_buffer(base64.b64decode(encoded)))


def _send_error(sock: socket.socket, error: HubError) -> None:
    params = {k: v for k, v in error.params.items() if k != "field"}
    wire.send_json(sock, wire.ERROR, {
        "kind": type(error).__name__ if type(error).__name__ in ERROR_CLASSES else "Invalid",
        "message": error.message, "code": error.code, "field": error.field,
        "params": {k: v if isinstance(v, (str, int, float, bool)) or v is None else str(v)
                   for k, v in params.items()}})


def main() -> None:
    sock = socket.socket(fileno=int(sys.argv[1]))
    try:
        _kind, payload = wire.receive(sock)
        config = json.loads(payload)
        worker = Worker(config)
        try:
            cap = worker.limit(int(config["headroom_mb"]))
        except Exception as exc:  # noqa: BLE001 — said to the hub, which logs it
            wire.send_json(sock, wire.ERROR, {"kind": "Invalid", "code": "worker_failed",
                                              "message": str(exc)[:300], "params": {}})
            return
        wire.send_json(sock, wire.REPLY, {"ready": True, "pid": os.getpid(),
                                          "address_space_mb": cap})
        worker.serve(sock)
    except (wire.Closed, BrokenPipeError, ConnectionResetError):
        return           # the hub stopped, or gave up on this worker


if __name__ == "__main__":
    main()

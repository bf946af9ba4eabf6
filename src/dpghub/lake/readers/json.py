"""JSON arrays of objects and NDJSON, read by DuckDB in a child process (`confine`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ...core.duck import quote_ident
from .. import confine
from ..errors import bad_file
from .staged import Limits, Staged, Watch, sql_string, staged_parquet, usable_names

JSON_OPTIONS = "format='auto', records=true"


def stage_json(path: Path, name: str, scratch: Path, *, limits: Limits,
               watch: Watch | None = None) -> Staged:
    """An array of objects or NDJSON, staged in a child; nested values are kept as JSON text."""
    answer = confine.run("json", {"path": str(path), "name": name, "scratch": str(scratch),
                                  "memory_mb": limits.memory_mb}, file=name,
                         memory_mb=limits.memory_mb, scratch=scratch, watch=watch)
    return staged_parquet(name, answer)


def json_prepare(*, scratch: str, memory_mb: int, **_: Any) -> dict[str, Any]:
    """(In the child, before its memory limit.) DuckDB, with most of the job's memory: it
    spills before the process limit is reached."""
    import duckdb

    spill = Path(scratch) / "spill-json"
    spill.mkdir(exist_ok=True)
    return {"con": duckdb.connect(config={
        "memory_limit": f"{max(32, memory_mb * 3 // 4)}MB", "threads": 1,
        "temp_directory": str(spill), "autoinstall_known_extensions": False,
        "autoload_known_extensions": False})}


def json_task(*, con: Any, path: str, name: str, scratch: str, memory_mb: int
              ) -> dict[str, Any]:
    """(In the child.) JSON → a Parquet file of text columns."""
    import duckdb

    target = Path(scratch) / f"{Path(path).name}.json.parquet"
    largest = min(64 << 20, max(1 << 20, (memory_mb << 20) // 8))  # one record, at most
    source = (f"read_json({sql_string(path)}, {JSON_OPTIONS}, "
              f"maximum_object_size={largest})")
    try:
        found = list(con.sql(f"SELECT * FROM {source}").columns)
        columns, renamed = usable_names(found)
        casts = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(n)}"
                          for c, n in zip(found, columns, strict=True))
        con.sql(f"COPY (SELECT {casts} FROM {source}) TO {sql_string(str(target))} "
                "(FORMAT parquet)")
    except duckdb.Error as exc:
        if type(exc).__name__ == "OutOfMemoryException":
            raise
        fault = json_fault(Path(path))
        if fault is not None:
            raise bad_file("{file} line {line}: {reason}", file=name, code="bad_json",
                           line=fault[0], reason=fault[1]) from None
        reason = re.sub(r",? at byte \d+ in (?:line|record/value) \d+", "",
                        str(exc).splitlines()[0])
        raise bad_file("{file} is not valid JSON records: {reason}", file=name, code="bad_json",
                       reason=reason[:300]) from None
    return {"parquet": str(target), "columns": columns, "renamed": renamed}


def json_fault(path: Path) -> tuple[int, str] | None:
    """The line of the first fault in a JSON file and Python's word for it, or None. DuckDB
    names lines of newline-delimited records one too far, and of an array not at all."""
    import json

    with path.open("rb") as handle:
        opening = handle.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
        handle.seek(0)
        if opening != b"[":   # records, one a line (read so: a big file need not fit memory)
            seen = False
            for number, raw in enumerate(handle, start=1):
                try:
                    text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                    if text.strip():
                        json.loads(text)
                        seen = True
                except UnicodeDecodeError:
                    return number, "not valid UTF-8"
                except RecursionError:
                    return number, "nested too deeply"
                except ValueError as exc:
                    if not seen:
                        break   # perhaps records spread over lines: read the whole file
                    return number, getattr(exc, "msg", str(exc))
            else:
                return None
        handle.seek(0)
        try:
            text = handle.read().decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            return 1 + text_lines_before(path, exc.start), "not valid UTF-8"
    decoder = json.JSONDecoder()
    position = 0
    try:
        while True:
            while position < len(text) and text[position] in " \t\r\n":
                position += 1
            if position >= len(text):
                return None
            _, position = decoder.raw_decode(text, position)
    except RecursionError:
        return text.count("\n", 0, position) + 1, "nested too deeply"
    except json.JSONDecodeError as exc:
        return exc.lineno, exc.msg


def text_lines_before(path: Path, offset: int) -> int:
    with path.open("rb") as handle:
        return handle.read(offset).count(b"\n")

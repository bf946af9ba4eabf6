"""Untrusted files are read in a child process under a memory limit.

Some readers allocate what a file declares rather than what it holds: calamine makes a dense
grid of a sheet's whole extent (cells at A1 and XFD1048576 ask for 512 GiB, and the process
aborts), a zip member may declare an LZMA dictionary of gigabytes, a zip's directory may list
millions of entries. Those readers run here, in `python -m dpghub.lake.confine REQUEST`, with
an address-space limit (RLIMIT_AS) of the job's memory on top of what the interpreter holds
once its libraries are loaded: a hostile file takes down only the child, and the job fails
with an error naming the file. The cheap checks (a sheet's extent, a zip's expansion) run in
the child too, before the costly read; this limit is the wall behind them.
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.rlimit import limit_memory
from .errors import IngestError, bad_file

# task → (its reader module, the function there run under the limit, modules loaded before
# the limit is set)
TASKS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "archive": ("dpghub.lake.readers.archive", "archive_task",
                ("python_calamine", "zipfile", "zlib", "bz2", "lzma")),
    "excel": ("dpghub.lake.readers.excel", "excel_task", ("python_calamine",)),
    "json": ("dpghub.lake.readers.json", "json_task", ("duckdb", "json")),
    "parquet": ("dpghub.lake.readers.parquet", "parquet_task", ()),
}
# the task's setup (a DuckDB connection, say) is made before the limit, like the imports
PREPARE = {"json": "json_prepare"}
POLL_SECONDS = 0.2
# how a child ends when it ran out of memory: Rust and C++ allocators abort, the kernel kills
OUT_OF_MEMORY_SIGNALS = (signal.SIGABRT, signal.SIGKILL)


def run(task: str, args: dict[str, Any], *, file: str, memory_mb: int, scratch: Path,
        watch: Callable[[], None] | None = None) -> Any:
    """Run `task` on `args` in a child limited to `memory_mb` MiB more than its libraries;
    return its result, or raise the `IngestError` it raised or one saying the file needed
    more memory. `watch` is called while waiting (it may raise to cancel: the child is
    killed)."""
    request = scratch / f"confine-{uuid.uuid4().hex}.json"
    request.write_text(json.dumps({"task": task, "args": args, "memory_mb": memory_mb}))
    env = {**os.environ, "MALLOC_ARENA_MAX": "2", "ARROW_DEFAULT_MEMORY_POOL": "system",
           "RUST_BACKTRACE": "0"}  # fewer malloc arenas: less address space reserved unused
    child = subprocess.Popen([sys.executable, "-m", "dpghub.lake.confine", str(request)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    try:
        while True:
            try:
                out, err = child.communicate(timeout=POLL_SECONDS)
                break
            except subprocess.TimeoutExpired:
                if watch is not None:
                    watch()
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
        request.unlink(missing_ok=True)
    answer = _answer(out)
    if answer is not None and "result" in answer:
        return answer["result"]
    if answer is not None and "refusal" in answer:
        refusal = answer["refusal"]
        raise IngestError(refusal["message"], code=refusal["code"], **refusal["params"])
    code = child.returncode
    if (answer is not None and answer.get("memory")) or \
            (code < 0 and -code in OUT_OF_MEMORY_SIGNALS):
        raise bad_file("{file} needs more memory to read than the job limit of {limit_mb} MiB; "
                       "it may be hostile, or too large or complex for this hub",
                       file=file, code="file_too_complex", limit_mb=memory_mb)
    if code < 0:
        raise bad_file("{file} could not be read: its reader stopped on it (signal {signal})",
                       file=file, code="reader_crashed", signal=signal.Signals(-code).name)
    raise RuntimeError(f"reading {file} failed in the child process: "
                       f"{err.decode(errors='replace')[-2000:]}")


def _answer(out: bytes) -> dict[str, Any] | None:
    for line in reversed(out.decode(errors="replace").splitlines()):
        if line.startswith("{"):
            try:
                answer: dict[str, Any] = json.loads(line)
                return answer
            except ValueError:
                return None
    return None


def _out_of_memory(exc: BaseException) -> bool:
    return isinstance(exc, MemoryError) or type(exc).__name__ == "OutOfMemoryException"


def main(argv: list[str]) -> int:
    request = json.loads(Path(argv[0]).read_text())
    where, name, preload = TASKS[request["task"]]
    for module in preload:
        importlib.import_module(module)
    reader = importlib.import_module(where)

    args = dict(request["args"])
    prepare = PREPARE.get(request["task"])
    if prepare:
        args.update(getattr(reader, prepare)(**args))
    limit_memory(request["memory_mb"])
    try:
        answer: dict[str, Any] = {"result": getattr(reader, name)(**args)}
    except IngestError as exc:
        answer = {"refusal": {"message": exc.message, "code": exc.code, "params": exc.params}}
    except Exception as exc:
        if not _out_of_memory(exc):
            raise
        answer = {"memory": True}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

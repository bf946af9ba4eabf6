"""UTF-8 copies of a text file, for DuckDB: one, or two halves decoded at once.

The converters themselves are in `lake/transcode.py` (the C table loop, iconv, Python's
codecs); this module chooses how to run them and turns their failures into refusals that name
the file and line.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import IngestError, bad_file
from ..transcode import LineTooLong, fast_table_available, transcode_part
from .encoding import CODECS, decode_error, guess_encoding, line_at
from .staged import CHUNK, Progress


def line_too_long(name: str, line: int, limit: int) -> IngestError:
    """The refusal for a line longer than DuckDB reads (`limit` bytes, its buffer)."""
    return bad_file("{file} line {line} is longer than the limit of {limit_mb} MiB", file=name,
                    code="line_too_long", line=line, limit_mb=max(1, limit >> 20))


PARALLEL_FROM = 32 << 20  # bytes; smaller files are transcoded in this process


def to_utf8(path: Path, name: str, scratch: Path, encoding: str,
            progress: Progress | None, line_bytes: int = 32 << 20
            ) -> tuple[list[tuple[Path, int]], str]:
    """UTF-8 copies of the file (one, or two halves decoded in parallel, the second starting
    with the header line); return them with their line shifts, and the encoding read."""
    if encoding == "auto":
        encoding = guess_encoding(path)
    try:
        return _to_utf8(path, name, scratch, encoding, progress)
    except LineTooLong as exc:
        raise line_too_long(name, line_at(path, encoding, exc.offset), line_bytes) from None


def _to_utf8(path: Path, name: str, scratch: Path, encoding: str,
             progress: Progress | None) -> tuple[list[tuple[Path, int]], str]:
    size = path.stat().st_size
    # two processes pay off only for the slower converters (iconv, Python's codecs)
    parallel = size >= PARALLEL_FROM and not encoding.startswith("utf-16") and not (
        encoding == "cp949" and fast_table_available())
    split = _split_point(path, size) if parallel else None
    if split is None:
        target = scratch / f"{path.name}.utf8.csv"
        _transcode_serial(path, name, target, encoding, progress)
        return [(target, 0)], encoding
    header_end, middle, lines_before = split
    with path.open("rb") as handle:
        header = handle.read(header_end)
    codec = {"utf-8": "utf-8-sig", "cp949": "cp949"}[encoding]
    try:
        header_text = header.decode(codec).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise decode_error(path, name, encoding, exc.start) from None
    targets = [scratch / f"{path.name}.part1.utf8.csv", scratch / f"{path.name}.part2.utf8.csv"]
    ranges = [(0, middle, targets[0], codec, None),
              (middle, size, targets[1], "utf-8" if encoding == "utf-8" else codec, header_text)]
    failures = _run_parts(path, ranges, size, progress)
    if failures:
        raise decode_error(path, name, encoding, min(failures))
    # part 2's header is its line 1; its first data line is line `lines_before + 1` of the file
    return [(targets[0], 0), (targets[1], lines_before - 1)], encoding


def _run_parts(path: Path, ranges: list[tuple[int, int, Path, str, bytes | None]], size: int,
               progress: Progress | None) -> list[int]:
    """Decode the ranges in child processes (`python -m dpghub.lake.transcode`) at once."""
    import subprocess
    import sys

    children = []
    for index, (start, end, target, codec, head) in enumerate(ranges):
        header_file = "-"
        if head is not None:
            header_path = target.with_suffix(f".header{index}")
            header_path.write_bytes(head)
            header_file = str(header_path)
        children.append(subprocess.Popen(
            [sys.executable, "-m", "dpghub.lake.transcode", str(path), str(start), str(end),
             str(target), codec, header_file], stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    try:
        for child in children:
            while True:   # back as soon as the last child ends, progress every 0.1 s meanwhile
                try:
                    child.wait(timeout=0.1)
                    break
                except subprocess.TimeoutExpired:
                    if progress:
                        written = sum(t.stat().st_size for _, _, t, _, _ in ranges
                                      if t.exists())
                        progress(min(size, written * 2 // 3))  # UTF-8 Korean ≈ 1.5× CP949
    finally:
        for child in children:
            if child.poll() is None:  # cancelled or failed meanwhile
                child.kill()
    failures = []
    for child in children:
        out, err = child.communicate()
        if child.returncode != 0:
            raise RuntimeError(f"transcoding failed: {err.decode(errors='replace')[-500:]}")
        if out.startswith(b"long "):
            raise LineTooLong(int(out.split()[1]))
        if out.strip():
            failures.append(int(out))
    if progress:
        progress(size)
    return failures


def _split_point(path: Path, size: int) -> tuple[int, int, int] | None:
    """(end of the header line, a line start near the middle outside any quoted field,
    lines before it). In CP949 and UTF-8 the bytes '"' and newline never occur inside a
    multi-byte character, so counting them on raw bytes is exact."""
    with path.open("rb") as handle:
        first = handle.readline()
        header_end = len(first)
        if header_end >= size:
            return None
        quotes = first.count(b'"')
        lines = 1
        position = header_end
        target = size // 2
        while position < target:
            chunk = handle.read(min(CHUNK, target - position))
            if not chunk:
                return None
            quotes += chunk.count(b'"')
            lines += chunk.count(b"\n")
            position += len(chunk)
        while True:  # advance to the next line break that is outside quotes
            line = handle.readline()
            if not line:
                return None
            quotes += line.count(b'"')
            lines += line.count(b"\n")
            position += len(line)
            if quotes % 2 == 0 and line.endswith(b"\n"):
                break
    if position >= size:
        return None
    return header_end, position, lines


def _transcode_serial(path: Path, name: str, target: Path, encoding: str,
                      progress: Progress | None) -> None:
    failure = transcode_part(str(path), 0, path.stat().st_size, str(target), CODECS[encoding],
                             None, progress)
    if failure is not None:
        raise decode_error(path, name, encoding, failure)

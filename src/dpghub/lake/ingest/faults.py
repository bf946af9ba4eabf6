"""DuckDB's errors while reading staged files, as refusals naming the user's file and line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import duckdb

from ..errors import IngestError, bad_file
from ..readers import line_too_long

# how DuckDB's errors begin when they reach us through pyarrow (as OSError, text only)
DUCKDB_ERRORS = ("Invalid Input Error", "Conversion Error", "Out of Memory Error")
Paths = dict[str, tuple[str, int, int]]  # staged file → (user's file, line shift, line limit)

_CSV_ERROR = re.compile(r"CSV Error on Line: (\d+)(?:.*?Original Line: (.*?)\n)?", re.S)
_LINE_SIZE = re.compile(r"Maximum line size of (\d+) bytes exceeded")
_CSV_ADVICE = re.compile(r"\n(?:Possible (?:fixes|Solution)|  file = )")


def guard(action: Any, paths: Paths) -> Any:
    """Run a DuckDB step; turn its parse errors into errors naming the user's file and line."""
    try:
        return action()
    except duckdb.Error as exc:
        raise guard_error(exc, paths) from None


def guard_error(exc: Exception, paths: Paths) -> IngestError:
    """The refusal for a DuckDB error: the user's file and line where DuckDB names one."""
    text = str(exc)
    staged = next((path for path in paths if path in text), None)
    name, shift, line_bytes = paths[staged] if staged else \
        next(iter(paths.values()), ("?", 0, 0))
    match = _CSV_ERROR.search(text)
    if match:
        line = int(match.group(1)) + shift
        size = _LINE_SIZE.search(text)
        if size:
            return line_too_long(name, line, int(size.group(1)))
        # our UTF-8 copies are valid: "invalid unicode" is DuckDB's buffer cutting a character
        # of a line longer than the buffer
        if staged and "Invalid unicode" in text and \
                _line_longer(Path(staged), int(match.group(1)), line_bytes):
            return line_too_long(name, line, line_bytes)
        return bad_file("{file} line {line}: {reason}", file=name, code="bad_row",
                        line=line, reason=_csv_reason(text), value=(match.group(2) or "")[:200])
    return bad_file("{file}: {reason}", file=name, code="unreadable",
                    reason=text.splitlines()[0][:300])


def _line_longer(path: Path, number: int, limit: int) -> bool:
    """Whether line `number` (from 1) of a file is longer than `limit` bytes (read in pieces:
    that line may be as long as the file)."""
    with path.open("rb") as handle:
        line = 1
        length = 0
        while piece := handle.readline(1 << 20):
            if line == number:
                length += len(piece)
                if length > limit:
                    return True
            if piece.endswith(b"\n"):
                if line == number:
                    return False
                line += 1
    return False


def _csv_reason(text: str) -> str:
    """DuckDB's reason, the last line before its advice (after the line it quotes, which may
    itself span lines)."""
    lines = [line.strip() for line in _CSV_ADVICE.split(text, maxsplit=1)[0].split("\n")]
    reason = next((line for line in reversed(lines[1:]) if line), "")
    if not reason or reason.startswith("Original Line:"):
        return lines[0]
    return reason

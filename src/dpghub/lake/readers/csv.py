"""CSV and TSV: a UTF-8 copy (see `utf8`), its delimiter and header, read by DuckDB as text."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from ..errors import bad_file
from .staged import Progress, Staged, sql_string, usable_names
from .utf8 import line_too_long, to_utf8

DELIMITERS = (",", "\t", ";", "|")
ENCODINGS = {"auto": "auto", "utf-8": "utf-8", "utf8": "utf-8", "cp949": "cp949",
             "euc-kr": "cp949", "euckr": "cp949", "utf-16": "utf-16"}


def stage_csv(path: Path, name: str, scratch: Path, *, encoding: str = "auto",
              delimiter: str | None = None, progress: Progress | None = None,
              buffer_bytes: int = 32 << 20) -> Staged:
    """`buffer_bytes` is DuckDB's read buffer (and the longest line it accepts); a few of them
    must fit in the job's memory limit."""
    wanted = ENCODINGS.get(encoding.lower())
    if wanted is None:
        raise bad_file("Unknown encoding {encoding}; use auto, utf-8 or cp949", file=name,
                       code="unknown_encoding", encoding=encoding)
    parts, used = to_utf8(path, name, scratch, wanted, progress, buffer_bytes)
    with parts[0][0].open("rb") as handle:
        first = handle.readline(buffer_bytes + 1)
        if len(first) > buffer_bytes:  # DuckDB would skip such a header and read no rows
            raise line_too_long(name, 1, buffer_bytes)
        sample = (first + handle.read(256 * 1024)).decode("utf-8", errors="ignore")
    if not sample.strip():
        raise bad_file("{file} is empty", file=name, code="empty_file")
    delim = delimiter or sniff_delimiter(sample, name.lower().endswith(".tsv"))
    header = next(csv.reader(io.StringIO(sample), delimiter=delim, quotechar='"'))
    columns, renamed = usable_names(header)
    spec = "{" + ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in columns) + "}"
    files = "[" + ", ".join(sql_string(str(p)) for p, _ in parts) + "]"
    relation = (f"read_csv({files}, auto_detect=false, header=true, "
                f"delim={sql_string(delim)}, quote='\"', escape='\"', columns={spec}, "
                f"strict_mode=true, null_padding=false, buffer_size={buffer_bytes}, "
                f"max_line_size={buffer_bytes})")
    return Staged(name, relation, columns, encoding=used, delimiter=delim,
                  line_shift={str(p): shift for p, shift in parts}, renamed=renamed)


def sniff_delimiter(sample: str, prefer_tab: bool = False) -> str:
    lines = sample.splitlines()[:50]
    if len(lines) > 1 and not sample.endswith(("\n", "\r")):
        lines = lines[:-1]  # the sample may cut the last line
    text = "\n".join(lines)
    best, best_score = ("\t" if prefer_tab else ","), 0.0
    for delim in DELIMITERS:
        try:
            counts = [len(row) for row in csv.reader(io.StringIO(text), delimiter=delim) if row]
        except csv.Error:
            continue
        if not counts or max(counts) < 2:
            continue
        mode = max(set(counts), key=counts.count)
        score = counts.count(mode) / len(counts) + (0.001 * mode)
        if mode > 1 and score > best_score:
            best, best_score = delim, score
    return best

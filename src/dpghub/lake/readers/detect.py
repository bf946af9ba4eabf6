"""Which reader a file needs, from its bytes first and its name second."""

from __future__ import annotations

from pathlib import Path


def detect_format(path: Path, name: str) -> str:
    """csv, excel (legacy .xls), json, parquet or archive (a zip: an .xlsx workbook or an
    archive of files, told apart in a child, since reading a zip's directory is itself a
    risk) — from the bytes first, the name second."""
    with path.open("rb") as handle:
        head = handle.read(8)
        handle.seek(0)
        start = handle.read(4096)
    lower = name.lower()
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "excel"  # legacy .xls (OLE2)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "archive"
    if lower.endswith((".json", ".ndjson", ".jsonl")):
        return "json"
    stripped = start.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"[", b"{") and not lower.endswith((".csv", ".tsv", ".txt")):
        return "json"
    return "csv"

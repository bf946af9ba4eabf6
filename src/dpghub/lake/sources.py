"""From received bytes to a DuckDB relation of text columns, whatever the format.

Each input file becomes a `Staged` source: a DuckDB table expression whose columns are all
VARCHAR (types are inferred later over every file together). CSV is transcoded to UTF-8 in one
streaming pass (CP949/EUC-KR detected or forced); Excel sheets, JSON and Parquet are staged as
Parquet files of text; zip archives are opened member by member under expansion limits.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .errors import bad_file
from .transcode import fast_table_available, transcode_part

CHUNK = 4 << 20
SAMPLE = 1 << 20
DELIMITERS = (",", "\t", ";", "|")
ENCODINGS = {"auto": "auto", "utf-8": "utf-8", "utf8": "utf-8", "cp949": "cp949",
             "euc-kr": "cp949", "euckr": "cp949", "utf-16": "utf-16"}

Progress = Callable[[int], None]  # bytes read so far (of this file)


@dataclass
class Staged:
    name: str                 # as the user knows the file ("a.zip/b.csv" inside archives)
    relation: str             # DuckDB table expression with VARCHAR columns
    columns: list[str]
    encoding: str | None = None
    delimiter: str | None = None
    extra: dict[str, object] = field(default_factory=dict)
    # staged file path → lines to add to a line number DuckDB reports in it
    line_shift: dict[str, int] = field(default_factory=dict)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --- format ---------------------------------------------------------------------------------


def detect_format(path: Path, name: str) -> str:
    """csv, excel, json, parquet or zip — from the bytes first, the name second."""
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
        try:
            with zipfile.ZipFile(path) as archive:
                if any(n.startswith("xl/") for n in archive.namelist()):
                    return "excel"
        except zipfile.BadZipFile:
            raise bad_file("{file} looks like a zip archive but is damaged", file=name,
                           code="bad_zip") from None
        return "zip"
    if lower.endswith((".json", ".ndjson", ".jsonl")):
        return "json"
    stripped = start.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"[", b"{") and not lower.endswith((".csv", ".tsv", ".txt")):
        return "json"
    return "csv"


# --- zip -----------------------------------------------------------------------------------


def expand_zip(path: Path, name: str, scratch: Path, *, max_ratio: int,
               max_bytes: int) -> list[tuple[str, Path]]:
    """Extract members (not folders, not hidden files) refusing bombs: the expanded size is
    counted as it is written, so a member that lies about its size is caught too."""
    members: list[tuple[str, Path]] = []
    compressed = max(path.stat().st_size, 1)
    written = 0
    limit = min(max_bytes, compressed * max_ratio)
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise bad_file("{file} is not a readable zip archive", file=name, code="bad_zip") from None
    with archive:
        for index, info in enumerate(archive.infolist()):
            member = _member_name(info)
            base = member.rsplit("/", 1)[-1]
            if info.is_dir() or not base or base.startswith((".", "__MACOSX")) or \
                    member.startswith("__MACOSX/"):
                continue
            target = scratch / f"zip-{index}-{Path(base).name}"
            with archive.open(info) as source, target.open("wb") as out:
                while chunk := source.read(CHUNK):
                    written += len(chunk)
                    if written > limit:
                        raise bad_file(
                            "{file} expands to more than {ratio}× its size (or more than the "
                            "upload limit); refused as a possible zip bomb", file=name,
                            code="zip_bomb", ratio=max_ratio)
                    out.write(chunk)
            members.append((f"{name}/{member}", target))
    if not members:
        raise bad_file("{file} holds no files", file=name, code="empty_zip")
    return members


def _member_name(info: zipfile.ZipInfo) -> str:
    """Korean archives made on Windows store CP949 names without the UTF-8 flag."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("cp949")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


# --- CSV -----------------------------------------------------------------------------------


def stage_csv(path: Path, name: str, scratch: Path, *, encoding: str = "auto",
              delimiter: str | None = None, progress: Progress | None = None,
              buffer_bytes: int = 32 << 20) -> Staged:
    """`buffer_bytes` is DuckDB's read buffer (and the longest line it accepts); a few of them
    must fit in the job's memory limit."""
    wanted = ENCODINGS.get(encoding.lower())
    if wanted is None:
        raise bad_file("Unknown encoding {encoding}; use auto, utf-8 or cp949", file=name,
                       code="unknown_encoding", encoding=encoding)
    parts, used = transcode(path, name, scratch, wanted, progress)
    with parts[0][0].open("r", encoding="utf-8", newline="") as handle:
        sample = handle.read(256 * 1024)
    if not sample.strip():
        raise bad_file("{file} is empty", file=name, code="empty_file")
    delim = delimiter or sniff_delimiter(sample, name.lower().endswith(".tsv"))
    header = next(csv.reader(io.StringIO(sample), delimiter=delim, quotechar='"'))
    columns = unique_names(header)
    spec = "{" + ", ".join(f"{sql_string(c)}: 'VARCHAR'" for c in columns) + "}"
    files = "[" + ", ".join(sql_string(str(p)) for p, _ in parts) + "]"
    relation = (f"read_csv({files}, auto_detect=false, header=true, "
                f"delim={sql_string(delim)}, quote='\"', escape='\"', columns={spec}, "
                f"strict_mode=true, null_padding=false, buffer_size={buffer_bytes}, "
                f"max_line_size={buffer_bytes})")
    return Staged(name, relation, columns, encoding=used, delimiter=delim,
                  line_shift={str(p): shift for p, shift in parts})


PARALLEL_FROM = 32 << 20  # bytes; smaller files are transcoded in this process


def transcode(path: Path, name: str, scratch: Path, encoding: str,
              progress: Progress | None) -> tuple[list[tuple[Path, int]], str]:
    """UTF-8 copies of the file (one, or two halves decoded in parallel, the second starting
    with the header line); return them with their line shifts, and the encoding read."""
    if encoding == "auto":
        encoding = _guess_encoding(path)
    size = path.stat().st_size
    # two processes pay off only for the slower converters (iconv, Python's codecs)
    parallel = size >= PARALLEL_FROM and encoding != "utf-16" and not (
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
        raise _decode_error(path, name, encoding, exc.start) from None
    targets = [scratch / f"{path.name}.part1.utf8.csv", scratch / f"{path.name}.part2.utf8.csv"]
    ranges = [(0, middle, targets[0], codec, None),
              (middle, size, targets[1], "utf-8" if encoding == "utf-8" else codec, header_text)]
    failures = _run_parts(path, ranges, size, progress)
    if failures:
        raise _decode_error(path, name, encoding, min(failures))
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
    codec = {"utf-8": "utf-8-sig", "cp949": "cp949", "utf-16": "utf-16"}[encoding]
    failure = transcode_part(str(path), 0, path.stat().st_size, str(target), codec, None,
                             progress)
    if failure is not None:
        raise _decode_error(path, name, encoding, failure)


def _guess_encoding(path: Path) -> str:
    with path.open("rb") as handle:
        head = handle.read(SAMPLE)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        looks_utf8 = True
    except UnicodeDecodeError as exc:
        looks_utf8 = exc.start > len(head) - 4  # only a character cut at the sample's end
    if looks_utf8 and _decodes(path, "utf-8"):
        return "utf-8"
    if _decodes(path, "cp949", sample_only=True):
        return "cp949"
    from charset_normalizer import from_bytes

    best = from_bytes(head).best()
    if best is not None and best.encoding.replace("_", "-") in ("utf-8", "cp949", "euc-kr"):
        return "cp949" if best.encoding != "utf_8" else "utf-8"
    return "cp949"  # the strict decode will name the first bad byte


def _decodes(path: Path, codec: str, sample_only: bool = False) -> bool:
    decoder = codecs.getincrementaldecoder(codec)("strict")
    with path.open("rb") as handle:
        try:
            while chunk := handle.read(CHUNK):
                decoder.decode(chunk)
                if sample_only:
                    return True
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _decode_error(path: Path, name: str, encoding: str, offset: int) -> Exception:
    line = 1
    with path.open("rb") as handle:
        remaining = offset
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            line += chunk.count(b"\n")
            remaining -= len(chunk)
        handle.seek(offset)
        bad = handle.read(2).hex(" ")
    label = {"utf-8": "UTF-8", "cp949": "CP949 (EUC-KR)", "utf-16": "UTF-16"}[encoding]
    return bad_file("{file} line {line}: bytes {bytes} (offset {offset}) are not valid {encoding}",
                    file=name, code="bad_encoding", line=line, bytes=bad, offset=offset,
                    encoding=label)


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


def unique_names(header: list[str]) -> list[str]:
    """Column names as given, trimmed; blanks and duplicates made usable."""
    seen: dict[str, int] = {}
    names = []
    for index, raw in enumerate(header, start=1):
        name = raw.replace("\ufeff", "").strip() or f"column_{index}"
        if name in seen:
            seen[name] += 1
            name = f"{name}_{seen[name]}"
        else:
            seen[name] = 1
        names.append(name)
    return names


# --- Excel ---------------------------------------------------------------------------------


def stage_excel(path: Path, name: str, scratch: Path, *, sheet: str | None = None) -> Staged:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises its own types for damaged files
        raise bad_file("{file} is not a readable Excel workbook ({reason})", file=name,
                       code="bad_excel", reason=str(exc)[:200]) from None
    names = book.sheet_names
    chosen = sheet or names[0]
    if chosen not in names:
        if chosen.isdigit() and 1 <= int(chosen) <= len(names):
            chosen = names[int(chosen) - 1]
        else:
            raise bad_file("{file} has no sheet {sheet}; its sheets are: {sheets}", file=name,
                           code="no_such_sheet", sheet=chosen, sheets=", ".join(names))
    rows = book.get_sheet_by_name(chosen).to_python(skip_empty_area=True)
    if not rows:
        raise bad_file("Sheet {sheet} of {file} is empty", file=name, code="empty_file",
                       sheet=chosen)
    columns = unique_names([_cell_text(c) or "" for c in rows[0]])
    width = len(columns)
    data: list[list[str | None]] = [[] for _ in range(width)]
    for line, row in enumerate(rows[1:], start=2):
        if len(row) > width and any(_cell_text(c) for c in row[width:]):
            raise bad_file("{file} sheet {sheet} row {line}: more cells than header columns",
                           file=name, code="ragged_row", line=line, sheet=chosen)
        for index in range(width):
            data[index].append(_cell_text(row[index]) if index < len(row) else None)
    table = pa.table({c: pa.array(v, pa.string()) for c, v in zip(columns, data, strict=True)})
    target = scratch / f"{path.name}.sheet.parquet"
    pq.write_table(table, target)
    return Staged(name, f"read_parquet({sql_string(str(target))})", columns,
                  extra={"sheet": chosen})


def _cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ") if (value.hour, value.minute, value.second) != (0, 0, 0) \
            else value.date().isoformat()
    if isinstance(value, (date, time)):
        return value.isoformat()
    return str(value)


# --- JSON and Parquet ----------------------------------------------------------------------


def stage_json(con, path: Path, name: str, scratch: Path) -> Staged:  # type: ignore[no-untyped-def]
    """An array of objects or NDJSON; nested values are kept as JSON text."""
    import duckdb

    target = scratch / f"{path.name}.json.parquet"
    try:
        relation = con.sql(f"SELECT * FROM read_json({sql_string(str(path))}, format='auto', "
                           "records=true, maximum_object_size=67108864)")
        columns = list(relation.columns)
        casts = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in columns)
        con.sql(f"COPY (SELECT {casts} FROM read_json({sql_string(str(path))}, format='auto', "
                f"records=true, maximum_object_size=67108864)) TO {sql_string(str(target))} "
                "(FORMAT parquet)")
    except duckdb.Error as exc:
        raise bad_file("{file} is not valid JSON records: {reason}", file=name, code="bad_json",
                       reason=str(exc).splitlines()[0][:300]) from None
    return Staged(name, f"read_parquet({sql_string(str(target))})", columns)


def stage_parquet(con, path: Path, name: str) -> Staged:  # type: ignore[no-untyped-def]
    import duckdb

    try:
        columns = list(con.sql(f"SELECT * FROM read_parquet({sql_string(str(path))}) LIMIT 0")
                       .columns)
    except duckdb.Error as exc:
        raise bad_file("{file} is not a readable Parquet file: {reason}", file=name,
                       code="bad_parquet", reason=str(exc).splitlines()[0][:300]) from None
    casts = ", ".join(f"CAST({quote_ident(c)} AS VARCHAR) AS {quote_ident(c)}" for c in columns)
    return Staged(name, f"(SELECT {casts} FROM read_parquet({sql_string(str(path))}))", columns)

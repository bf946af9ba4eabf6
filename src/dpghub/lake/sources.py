"""From received bytes to a DuckDB relation of text columns, whatever the format.

Each input file becomes a `Staged` source: a DuckDB table expression whose columns are all
VARCHAR (types are inferred later over every file together). CSV is transcoded to UTF-8 in one
streaming pass (CP949/EUC-KR detected or forced; UTF-16 too) and read by DuckDB under the job's
memory limit. The readers that allocate what a file declares — Excel (calamine), zip archives
(their directory and their members' codecs), JSON, Parquet footers — run in a child process
under a memory limit (`confine`): the functions named `*_task` below run there, and stage
Excel sheets and JSON as Parquet files of text.
"""

from __future__ import annotations

import codecs
import csv
import io
import lzma
import re
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from ..core.duck import quote_ident
from . import confine
from .errors import IngestError, bad_file
from .transcode import LineTooLong, fast_table_available, pending, transcode_part

CHUNK = 4 << 20
SAMPLE = 1 << 20
DELIMITERS = (",", "\t", ";", "|")
ENCODINGS = {"auto": "auto", "utf-8": "utf-8", "utf8": "utf-8", "cp949": "cp949",
             "euc-kr": "cp949", "euckr": "cp949", "utf-16": "utf-16"}
CODECS = {"utf-8": "utf-8-sig", "cp949": "cp949", "utf-16": "utf-16", "utf-16-le": "utf-16-le",
          "utf-16-be": "utf-16-be"}
LABELS = {"utf-8": "UTF-8", "cp949": "CP949 (EUC-KR)", "utf-16": "UTF-16",
          "utf-16-le": "UTF-16LE", "utf-16-be": "UTF-16BE"}
SOURCE_COLUMN = "_source_file"  # the hub's provenance column: each row's file

Progress = Callable[[int], None]  # bytes read so far (of this file)
Watch = Callable[[], None]        # called while a child reads; raises to cancel


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
    renamed: dict[str, str] = field(default_factory=dict)  # column → the file's own name


@dataclass(frozen=True)
class Limits:
    """What one job may take, from the settings."""

    memory_mb: int       # DPGHUB_JOB_MEMORY_MB: also the children's memory limit
    max_rows: int
    max_columns: int
    zip_ratio: int
    zip_bytes: int
    line_bytes: int      # the longest CSV line (DuckDB's read buffer)


def sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- format ---------------------------------------------------------------------------------


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


# --- zip archives (and .xlsx, which are zip archives too) ------------------------------------

MAX_MEMBERS = 10_000  # files in one archive (its directory is read whole)
# damaged or unsupported members (encrypted ones raise RuntimeError); bz2 raises OSError
BAD_MEMBER = (zipfile.BadZipFile, NotImplementedError, EOFError, RuntimeError, zlib.error,
              lzma.LZMAError)


@dataclass(frozen=True)
class Opened:
    """A zip archive opened in a child: either a workbook, staged, or the files it held."""

    format: str                              # "excel" or "zip"
    staged: Staged | None = None
    members: list[tuple[str, Path]] = field(default_factory=list)


def open_archive(path: Path, name: str, scratch: Path, *, limits: Limits,
                 sheet: str | None = None, watch: Watch | None = None,
                 workbook_only: bool = False) -> Opened:
    """Stage an .xlsx workbook or extract an archive's files, in a child process
    (`workbook_only`: a member of an archive, where another archive is refused)."""
    answer = confine.run("archive", {
        "path": str(path), "name": name, "scratch": str(scratch), "sheet": sheet,
        "max_rows": limits.max_rows, "max_columns": limits.max_columns,
        "memory_mb": limits.memory_mb, "max_ratio": limits.zip_ratio,
        "max_bytes": limits.zip_bytes, "workbook_only": workbook_only}, file=name,
        memory_mb=limits.memory_mb, scratch=scratch, watch=watch)
    if answer["format"] == "excel":
        return Opened("excel", staged=_staged_parquet(name, answer["staged"]))
    return Opened("zip", members=[(member, Path(target)) for member, target in answer["members"]])


def archive_task(*, path: str, name: str, scratch: str, sheet: str | None, max_rows: int,
                 max_columns: int, memory_mb: int, max_ratio: int, max_bytes: int,
                 workbook_only: bool) -> dict[str, Any]:
    """(In the child.) A workbook is staged, an archive's files extracted."""
    source = Path(path)
    try:
        with zipfile.ZipFile(source) as archive:
            workbook = any(n.startswith("xl/") for n in archive.namelist())
    except zipfile.BadZipFile:
        raise bad_file("{file} looks like a zip archive but is damaged", file=name,
                       code="bad_zip") from None
    if workbook:
        return {"format": "excel", "staged": excel_task(
            path=path, name=name, scratch=scratch, sheet=sheet, max_rows=max_rows,
            max_columns=max_columns, memory_mb=memory_mb)}
    if workbook_only:
        raise bad_file("{file} is a zip inside a zip; send the inner files", file=name,
                       code="nested_zip")
    members = expand_zip(source, name, Path(scratch), max_ratio=max_ratio, max_bytes=max_bytes)
    return {"format": "zip", "members": [[member, str(target)] for member, target in members]}


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
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise bad_file("{file} holds {count} entries; the limit is {limit}", file=name,
                           code="zip_too_many_files", count=len(infos), limit=MAX_MEMBERS)
        for index, info in enumerate(infos):
            member = _member_name(info)
            base = member.rsplit("/", 1)[-1]
            if info.is_dir() or not base or base.startswith((".", "__MACOSX")) or \
                    member.startswith("__MACOSX/"):
                continue
            target = scratch / f"zip-{index}-{Path(base).name}"
            try:
                with archive.open(info) as source, target.open("wb") as out:
                    while chunk := source.read(CHUNK):
                        written += len(chunk)
                        if written > limit:
                            raise bad_file(
                                "{file} expands to more than {ratio}× its size (or more than "
                                "the upload limit); refused as a possible zip bomb", file=name,
                                code="zip_bomb", ratio=max_ratio)
                        out.write(chunk)
            except (*BAD_MEMBER, OSError) as exc:
                if isinstance(exc, OSError) and exc.errno is not None:
                    raise  # the scratch disk, not the archive
                raise bad_file("{file}: member {member} cannot be extracted ({reason})",
                               file=name, code="bad_zip", member=member,
                               reason=str(exc)[:200]) from None
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
    parts, used = transcode(path, name, scratch, wanted, progress, buffer_bytes)
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


def line_too_long(name: str, line: int, limit: int) -> IngestError:
    return bad_file("{file} line {line} is longer than the limit of {limit_mb} MiB", file=name,
                    code="line_too_long", line=line, limit_mb=max(1, limit >> 20))


PARALLEL_FROM = 32 << 20  # bytes; smaller files are transcoded in this process


def transcode(path: Path, name: str, scratch: Path, encoding: str,
              progress: Progress | None, line_bytes: int = 32 << 20
              ) -> tuple[list[tuple[Path, int]], str]:
    """UTF-8 copies of the file (one, or two halves decoded in parallel, the second starting
    with the header line); return them with their line shifts, and the encoding read."""
    if encoding == "auto":
        encoding = _guess_encoding(path)
    try:
        return _transcode(path, name, scratch, encoding, progress)
    except LineTooLong as exc:
        raise line_too_long(name, _line_at(path, encoding, exc.offset), line_bytes) from None


def _transcode(path: Path, name: str, scratch: Path, encoding: str,
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
        raise _decode_error(path, name, encoding, failure)


def _guess_encoding(path: Path) -> str:
    """UTF-8, CP949 or UTF-16: a byte-order mark says; else UTF-16's zero bytes; else the
    codec that reads further into the file before a byte it cannot decode. A file that mixes
    UTF-8 and CP949 lines is then read as the one its first lines are in, and the error names
    the first line in the other."""
    with path.open("rb") as handle:
        head = handle.read(SAMPLE)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    wide = _utf16_without_bom(head)
    if wide is not None:
        return wide
    utf8_bad = _first_bad(path, "utf-8", stop=len(head))  # (a character cut at its end is no fault)
    if utf8_bad is None:
        utf8_bad = _first_bad(path, "utf-8")
        if utf8_bad is None:
            return "utf-8"
    # CP949 is checked over its first chunk (the common case: it decodes, UTF-8 did not),
    # or as far as UTF-8 went when that is further
    cp949_bad = _first_bad(path, "cp949", stop=max(CHUNK, utf8_bad + 1))
    if cp949_bad is None or cp949_bad > utf8_bad:
        return "cp949"
    if utf8_bad > cp949_bad:
        return "utf-8"
    from charset_normalizer import from_bytes  # both stop at the same byte: a closer look

    best = from_bytes(head).best()
    return "utf-8" if best is not None and best.encoding == "utf_8" else "cp949"


def _utf16_without_bom(head: bytes) -> str | None:
    """CSV text always holds ASCII (delimiters, line breaks, digits), which UTF-16 writes
    with a zero byte beside it; UTF-8 and CP949 text never holds a zero byte."""
    sample = head[:65536]
    sample = sample[: len(sample) - len(sample) % 2]
    if b"\x00" not in sample:
        return None
    zeros_even, zeros_odd = sample[0::2].count(0), sample[1::2].count(0)
    pairs = len(sample) // 2
    for codec, zeros, others in (("utf-16-le", zeros_odd, zeros_even),
                                 ("utf-16-be", zeros_even, zeros_odd)):
        if zeros * 10 >= pairs and others * 10 <= zeros:
            try:
                codecs.getincrementaldecoder(codec)("strict").decode(sample)
            except UnicodeDecodeError:
                continue
            return codec
    return None


def _first_bad(path: Path, codec: str, stop: int | None = None) -> int | None:
    """Offset of the first byte `codec` cannot decode, reading the whole file or its first
    `stop` bytes (a character cut at `stop` is not counted); None when all of it decodes."""
    decoder = codecs.getincrementaldecoder(codec)("strict")
    position = 0
    with path.open("rb") as handle:
        while stop is None or position < stop:
            chunk = handle.read(CHUNK if stop is None else min(CHUNK, stop - position))
            if not chunk:
                try:
                    decoder.decode(b"", final=True)
                except UnicodeDecodeError as exc:
                    return position - pending(decoder) + exc.start
                return None
            held = pending(decoder)
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return position - held + exc.start
            position += len(chunk)
    return None


def _line_at(path: Path, encoding: str, offset: int) -> int:
    """The line (from 1) holding byte `offset`. In UTF-8 and CP949 the byte 0x0A is never
    part of another character, so counting it is exact; UTF-16 is decoded to count."""
    wide = encoding.startswith("utf-16")
    decoder = codecs.getincrementaldecoder(CODECS[encoding])("replace") if wide else None
    line = 1
    with path.open("rb") as handle:
        remaining = offset
        while remaining > 0:
            chunk = handle.read(min(CHUNK, remaining))
            if not chunk:
                break
            line += decoder.decode(chunk).count("\n") if decoder else chunk.count(b"\n")
            remaining -= len(chunk)
    return line


def _decode_error(path: Path, name: str, encoding: str, offset: int) -> Exception:
    with path.open("rb") as handle:
        handle.seek(offset)
        bad = handle.read(2).hex(" ")
    return bad_file("{file} line {line}: bytes {bytes} (offset {offset}) are not valid {encoding}",
                    file=name, code="bad_encoding", line=_line_at(path, encoding, offset),
                    bytes=bad, offset=offset, encoding=LABELS[encoding])


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


def usable_names(header: list[str]) -> tuple[list[str], dict[str, str]]:
    """Column names as given, trimmed; blanks named `column_N`. A name already used — compared
    without case, as SQL compares names, so `id, ID` — or the hub's own `_source_file` gets
    a suffix (`ID_2`, `_source_file_2`): the data is kept, and the hub's provenance column
    is never overwritten by a file's. Returns the names and {new name: the file's name}."""
    taken = {SOURCE_COLUMN.lower()}
    names: list[str] = []
    renamed: dict[str, str] = {}
    for index, raw in enumerate(header, start=1):
        name = raw.replace("\ufeff", "").strip() or f"column_{index}"
        if name.lower() in taken:
            number = 2
            while f"{name}_{number}".lower() in taken:
                number += 1
            renamed[f"{name}_{number}"] = name
            name = f"{name}_{number}"
        taken.add(name.lower())
        names.append(name)
    return names, renamed


# --- Excel (read in a child: see `confine`) -------------------------------------------------

# calamine holds a sheet as a dense grid of its extent (the rectangle from its first to its
# last filled cell), 32 bytes a cell, filled or not: cells at A1 and XFD1048576 ask 512 GiB
CELL_BYTES = 32
BATCH_ROWS = 65_536
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([A-Z]{1,4})([0-9]{1,10})'
                       rb'(?::([A-Z]{1,4})([0-9]{1,10}))?"')
ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]{1,10})"')
CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,4})([0-9]{1,10})"')


def stage_excel(path: Path, name: str, scratch: Path, *, limits: Limits,
                sheet: str | None = None, watch: Watch | None = None) -> Staged:
    """A legacy .xls workbook's sheet, staged in a child (an .xlsx comes by `open_archive`)."""
    answer = confine.run("excel", {
        "path": str(path), "name": name, "scratch": str(scratch), "sheet": sheet,
        "max_rows": limits.max_rows, "max_columns": limits.max_columns,
        "memory_mb": limits.memory_mb}, file=name, memory_mb=limits.memory_mb,
        scratch=scratch, watch=watch)
    return _staged_parquet(name, answer)


def _staged_parquet(name: str, answer: dict[str, Any]) -> Staged:
    return Staged(name, f"read_parquet({sql_string(answer['parquet'])})", answer["columns"],
                  extra=answer.get("extra") or {}, renamed=answer.get("renamed") or {})


def excel_task(*, path: str, name: str, scratch: str, sheet: str | None, max_rows: int,
               max_columns: int, memory_mb: int) -> dict[str, Any]:
    """(In the child.) Check the sheet's extent where the format lets us (.xlsx: the sheet's
    XML, streamed), then read it row by row into a Parquet file of text."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_path(path)
    except Exception as exc:  # calamine raises its own types for damaged files
        raise bad_file("{file} is not a readable Excel workbook ({reason})", file=name,
                       code="bad_excel", reason=str(exc)[:200]) from None
    names = book.sheet_names
    chosen = sheet or (names[0] if names else "")
    if chosen not in names:
        if chosen.isdigit() and 1 <= int(chosen) <= len(names):
            chosen = names[int(chosen) - 1]
        else:
            raise bad_file("{file} has no sheet {sheet}; its sheets are: {sheets}", file=name,
                           code="no_such_sheet", sheet=chosen, sheets=", ".join(names))
    if zipfile.is_zipfile(path):
        check_extent(Path(path), name, chosen, max_rows=max_rows, max_columns=max_columns,
                     memory_mb=memory_mb)
    try:
        grid = book.get_sheet_by_name(chosen)
    except Exception as exc:
        if isinstance(exc, MemoryError):
            raise
        raise bad_file("{file} is not a readable Excel workbook ({reason})", file=name,
                       code="bad_excel", reason=str(exc)[:200]) from None
    target = Path(scratch) / f"{Path(path).name}.sheet.parquet"
    columns, renamed = _write_sheet(grid.iter_rows(), target, name, chosen, max_rows)
    return {"parquet": str(target), "columns": columns, "renamed": renamed,
            "extra": {"sheet": chosen}}


def _write_sheet(rows: Any, target: Path, name: str, sheet: str, max_rows: int
                 ) -> tuple[list[str], dict[str, str]]:
    """The first row with a value is the header; the rows after it are written in batches."""
    header = next((row for row in rows if any(_cell_text(c) for c in row)), None)
    if header is None:
        raise bad_file("Sheet {sheet} of {file} is empty", file=name, code="empty_file",
                       sheet=sheet)
    columns, renamed = usable_names([_cell_text(c) or "" for c in header])
    width = len(columns)
    schema = pa.schema([(c, pa.string()) for c in columns])
    batch: list[list[str | None]] = [[] for _ in range(width)]
    count = 0
    with pq.ParquetWriter(target, schema) as writer:
        for line, row in enumerate(rows, start=2):
            if len(row) > width and any(_cell_text(c) for c in row[width:]):
                raise bad_file("{file} sheet {sheet} row {line}: more cells than header columns",
                               file=name, code="ragged_row", line=line, sheet=sheet)
            for index in range(width):
                batch[index].append(_cell_text(row[index]) if index < len(row) else None)
            count += 1
            if count > max_rows:
                raise bad_file("The files hold more than {limit} rows", code="too_many_rows",
                               file=name, limit=max_rows)
            if len(batch[0]) >= BATCH_ROWS:
                writer.write_table(_text_table(batch, schema))
                batch = [[] for _ in range(width)]
        writer.write_table(_text_table(batch, schema))
    return columns, renamed


def _text_table(columns: list[list[str | None]], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_arrays([pa.array(v, pa.string()) for v in columns], schema=schema)


def check_extent(path: Path, name: str, sheet: str, *, max_rows: int, max_columns: int,
                 memory_mb: int) -> None:
    """Refuse an .xlsx sheet too large to read, from its XML alone (streamed, a few MiB at a
    time): first the extent it declares (`<dimension ref>`), then the extent its cells span,
    against the row and column limits and, since the reader holds every cell of the extent,
    against the memory limit."""
    with zipfile.ZipFile(path) as archive:
        part = _sheet_part(archive, sheet)
        if part is None:
            return  # an unusual layout: the child's memory limit is the only guard
        rows: tuple[int, int] | None = None
        columns: tuple[int, int] | None = None
        declared_seen = False
        with archive.open(part) as stream:
            carry = b""
            while chunk := stream.read(CHUNK):
                data = carry + chunk
                cut = data.rfind(b"<")  # a tag cut by the chunk's end is read with the next
                if cut <= 0 or len(data) - cut > 65536:  # (a long text is no tag: not kept)
                    cut = len(data)
                scan, carry = data[:cut], data[cut:]
                if not declared_seen and (found := DIMENSION.search(scan)):
                    declared_seen = True
                    first, last = found.group(1, 2), found.group(3, 4)
                    if last[0] is None:
                        last = first
                    _refuse_extent(name, sheet, (int(first[1]), int(last[1])),
                                   (_column_number(first[0]), _column_number(last[0])),
                                   max_rows, max_columns, None)
                cells = CELL_REF.findall(scan)
                numbers = [int(r) for r in ROW_REF.findall(scan)]
                numbers += [int(r) for _, r in cells]
                letters = {c for c, _ in cells}
                if numbers:
                    low, high = min(numbers), max(numbers)
                    rows = (min(rows[0], low), max(rows[1], high)) if rows else (low, high)
                if letters:
                    found_columns = [_column_number(c) for c in letters]
                    low, high = min(found_columns), max(found_columns)
                    columns = (min(columns[0], low), max(columns[1], high)) if columns else \
                        (low, high)
                if rows and columns:  # stop reading as soon as the sheet is too large
                    _refuse_extent(name, sheet, rows, columns, max_rows, max_columns,
                                   memory_mb)


def _refuse_extent(name: str, sheet: str, rows: tuple[int, int], columns: tuple[int, int],
                   max_rows: int, max_columns: int, memory_mb: int | None) -> None:
    """`memory_mb` None: a declared extent (the reader does not allocate for it)."""
    height, width = rows[1] - rows[0] + 1, columns[1] - columns[0] + 1
    extent = f"{_column_letters(columns[0])}{rows[0]}:{_column_letters(columns[1])}{rows[1]}"
    if (height - 1 > max_rows or width > max_columns) and memory_mb is None:
        raise bad_file("{file} sheet {sheet} declares the extent {extent}, {rows} rows × "
                       "{columns} columns; the limits are {max_rows} rows and {max_columns} "
                       "columns", file=name, code="sheet_too_large", sheet=sheet, extent=extent,
                       rows=height, columns=width, max_rows=max_rows, max_columns=max_columns)
    if height - 1 > max_rows or width > max_columns:
        raise bad_file("{file} sheet {sheet} has cells over {extent}, {rows} rows × {columns} "
                       "columns; the limits are {max_rows} rows and {max_columns} columns",
                       file=name, code="sheet_too_large", sheet=sheet, extent=extent,
                       rows=height, columns=width, max_rows=max_rows, max_columns=max_columns)
    need = height * width * CELL_BYTES
    if memory_mb is not None and need > memory_mb << 20:
        raise bad_file("{file} sheet {sheet} has cells over {extent}, {rows} rows × {columns} "
                       "columns: reading it needs about {need_mb} MiB, more than the job "
                       "memory limit of {limit_mb} MiB", file=name, code="sheet_too_large",
                       sheet=sheet, extent=extent, rows=height, columns=width,
                       need_mb=need >> 20, limit_mb=memory_mb)


def _sheet_part(archive: zipfile.ZipFile, sheet: str) -> str | None:
    """The path inside the .xlsx of the named sheet's XML (workbook.xml names the sheets,
    its relationships give their parts)."""
    import posixpath
    import xml.etree.ElementTree as ET

    names = set(archive.namelist())
    book = "xl/workbook.xml"
    relations = "xl/_rels/workbook.xml.rels"
    if book not in names or relations not in names:
        return None
    try:
        ids = {el.get("name"): next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
               for el in ET.fromstring(archive.read(book)).iter() if el.tag.endswith("}sheet")}
        targets = {el.get("Id"): el.get("Target")
                   for el in ET.fromstring(archive.read(relations)).iter()
                   if el.tag.endswith("}Relationship")}
    except ET.ParseError:
        return None
    target = targets.get(ids.get(sheet))
    if not target:
        return None
    part = target.lstrip("/") if target.startswith("/") else \
        posixpath.normpath(posixpath.join("xl", target))
    return part if part in names else None


def _column_number(letters: str | bytes) -> int:
    text = letters.decode() if isinstance(letters, bytes) else letters
    number = 0
    for char in text:
        number = number * 26 + ord(char) - 64
    return number


def _column_letters(number: int) -> str:
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


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


# --- JSON and Parquet (read in a child: see `confine`) ---------------------------------------

JSON_OPTIONS = "format='auto', records=true"


def stage_json(path: Path, name: str, scratch: Path, *, limits: Limits,
               watch: Watch | None = None) -> Staged:
    """An array of objects or NDJSON, staged in a child; nested values are kept as JSON text."""
    answer = confine.run("json", {"path": str(path), "name": name, "scratch": str(scratch),
                                  "memory_mb": limits.memory_mb}, file=name,
                         memory_mb=limits.memory_mb, scratch=scratch, watch=watch)
    return _staged_parquet(name, answer)


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


def stage_parquet(path: Path, name: str, scratch: Path, *, limits: Limits,
                  watch: Watch | None = None) -> Staged:
    """A Parquet file: its footer is read in a child (a hostile one may declare anything),
    its rows by DuckDB as text."""
    answer = confine.run("parquet", {"path": str(path), "name": name}, file=name,
                         memory_mb=limits.memory_mb, scratch=scratch, watch=watch)
    found = answer["columns"]
    columns, renamed = usable_names(found)
    # positional aliases: DuckDB itself would rename a second "ID" to "ID_1"
    aliases = ", ".join(quote_ident(f"c{i}") for i in range(len(found)))
    casts = ", ".join(f"CAST({quote_ident(f'c{i}')} AS VARCHAR) AS {quote_ident(c)}"
                      for i, c in enumerate(columns))
    return Staged(name, f"(SELECT {casts} FROM read_parquet({sql_string(str(path))}) "
                        f"AS t({aliases}))", columns, renamed=renamed)


def parquet_task(*, path: str, name: str) -> dict[str, Any]:
    """(In the child.) The file's column names, from its footer."""
    try:
        schema = pq.read_schema(path)
    except (pa.ArrowException, OSError) as exc:
        raise bad_file("{file} is not a readable Parquet file: {reason}", file=name,
                       code="bad_parquet", reason=str(exc).splitlines()[0][:300]) from None
    return {"columns": list(schema.names)}

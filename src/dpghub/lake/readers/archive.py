"""Zip archives (and .xlsx workbooks, which are zip archives too), opened in a child process.

Reading a zip's directory and its members' codecs allocates what the archive declares, so it
happens under `confine`'s memory limit: a workbook is staged there, an archive's files are
extracted there, refusing bombs.
"""

from __future__ import annotations

import lzma
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import confine
from ..errors import bad_file
from .excel import excel_task
from .staged import CHUNK, Limits, Staged, Watch, staged_parquet

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
        return Opened("excel", staged=staged_parquet(name, answer["staged"]))
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

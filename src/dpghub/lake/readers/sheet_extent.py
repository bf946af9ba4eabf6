"""Refuse an .xlsx sheet too large to read, before calamine allocates its whole extent."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from ..errors import bad_file
from .staged import CHUNK

# calamine holds a sheet as a dense grid of its extent (the rectangle from its first to its
# last filled cell), 32 bytes a cell, filled or not: cells at A1 and XFD1048576 ask 512 GiB
CELL_BYTES = 32
DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*?\bref="([A-Z]{1,4})([0-9]{1,10})'
                       rb'(?::([A-Z]{1,4})([0-9]{1,10}))?"')
ROW_REF = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]{1,10})"')
CELL_REF = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="([A-Z]{1,4})([0-9]{1,10})"')


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

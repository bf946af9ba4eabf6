"""Files made to exhaust memory fail their job with the reason; the hub keeps answering and
keeps what it stored. (Before, a 1.5 KB .xlsx aborted the hub's process.)"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import build_hub
from tests.support.lake import Lake

GOOD = b"a,b\n1,2\n"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def xlsx(cells: list[tuple[str, str]], dimension: str | None = None) -> bytes:
    """The smallest workbook Excel opens: one sheet, `cells` as (reference, text)."""
    rows: dict[int, list[tuple[str, str]]] = {}
    for ref, text in cells:
        rows.setdefault(int(re.sub("[A-Z]", "", ref)), []).append((ref, text))
    data = "".join(
        f'<row r="{number}">' + "".join(f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
                                        for ref, text in row) + "</row>"
        for number, row in sorted(rows.items()))
    parts = {
        "[Content_Types].xml":
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
            'officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/'
            'sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels":
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{OFFICE}/'
            'officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml":
            f'<workbook xmlns="{MAIN}" xmlns:r="{OFFICE}"><sheets><sheet name="Sheet1" '
            'sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels":
            f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{OFFICE}/worksheet" '
            'Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml":
            f'<worksheet xmlns="{MAIN}">'
            + (f'<dimension ref="{dimension}"/>' if dimension else "")
            + f"<sheetData>{data}</sheetData></worksheet>",
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + text)
    return buffer.getvalue()


def _refused(lake: Lake, dataset: str, payload: tuple[str, bytes], code: str) -> dict:
    """Upload into a dataset holding one good version: the job fails with `code`, the hub
    answers, and the stored version still reads."""
    lake.create(dataset)
    lake.ingest_ok(dataset, ("good.csv", GOOD))
    job = lake.upload(dataset, payload)
    assert job["state"] == "failed", job
    assert job["error"]["code"] == code, job["error"]
    assert job["error"]["file"] == payload[0]
    shown = lake.dataset(dataset)
    assert shown["current_version"] == 1
    rows = lake.rows(dataset).json()
    assert rows["total"] == 1 and rows["rows"][0]["a"] == 1
    assert lake.hub.client.get("/api/v1/datasets", headers=lake.auth).status_code == 200
    return job["error"]


def test_a_sheet_with_cells_at_a1_and_xfd1048576_is_refused(lake: Lake) -> None:
    grid = xlsx([("A1", "a"), ("XFD1048576", "b")])
    assert len(grid) < 2000
    error = _refused(lake, "grid", ("grid.xlsx", grid), "sheet_too_large")
    message = error["message"]
    assert "grid.xlsx sheet Sheet1" in message and "A1:XFD1048576" in message
    assert "1048576 rows × 16384 columns" in message
    assert "the limits are 50000000 rows and 2000 columns" in message


def test_a_sheet_that_declares_a_huge_extent_is_refused_before_it_is_read(lake: Lake) -> None:
    declared = xlsx([("A1", "a"), ("B2", "b")], dimension="A1:XFD10")
    error = _refused(lake, "declared", ("declared.xlsx", declared), "sheet_too_large")
    assert "declares the extent A1:XFD10, 10 rows × 16384 columns" in error["message"]


@pytest.fixture
def small_lake(tmp_path: Path, db_url: str, kr: Path) -> Iterator[Lake]:
    """A hub whose jobs may take 64 MiB."""
    for hub in build_hub(tmp_path, db_url, job_memory_mb=64):
        yield Lake(hub)


def test_a_sparse_sheet_larger_than_the_memory_limit_is_refused(small_lake: Lake) -> None:
    # 100 columns × 200,000 rows from two cells: 1.5 KB that took 789 MB to read
    sparse = xlsx([("A1", "a"), ("CV200000", "b")], dimension="A1:CV200000")
    error = _refused(small_lake, "sparse", ("sparse.xlsx", sparse), "sheet_too_large")
    assert "has cells over A1:CV200000, 200000 rows × 100 columns" in error["message"]
    assert "needs about 610 MiB, more than the job memory limit of 64 MiB" in error["message"]


def test_a_reader_that_runs_out_of_memory_takes_down_only_its_child(small_lake: Lake) -> None:
    # within every limit the sheet's XML shows, but one cell holds 200 MB of text
    heavy = xlsx([("A1", "a"), ("A2", "x" * (200 << 20))])
    assert len(heavy) < 1 << 20
    error = _refused(small_lake, "heavy", ("heavy.xlsx", heavy), "file_too_complex")
    assert error["message"] == ("heavy.xlsx needs more memory to read than the job limit of "
                                "64 MiB; it may be hostile, or too large or complex for this hub")
    small_lake.ingest_ok("heavy", ("small.xlsx", xlsx([("A1", "a"), ("A2", "3")])))
    assert small_lake.rows("heavy").json()["total"] == 2

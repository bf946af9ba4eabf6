"""CSV meant for a spreadsheet never carries a live formula; the API's CSV stays exact."""

from __future__ import annotations

import csv
import io

from tests.conftest import PASSWORD, Hub
from tests.support.identity import csrf_of, sign_in
from tests.support.lake import Lake

HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1)", "\t=1", "정상 값", "a=b"]


def upload(hub: Hub) -> Lake:
    lake = Lake(hub)
    lake.create("notes")
    body = io.StringIO()
    writer = csv.writer(body)
    writer.writerow(["메모", "수량"])
    for i, value in enumerate(HOSTILE):
        writer.writerow([value, -i])
    lake.ingest_ok("notes", ("notes.csv", body.getvalue().encode()))
    return lake


def cells(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))[1:]


def test_the_api_csv_keeps_every_value_exact(sqlite_hub: Hub) -> None:
    upload(sqlite_hub)
    exact = sqlite_hub.client.get("/api/v1/datasets/molit/notes/rows", params={"format": "csv"})
    assert [row[0] for row in cells(exact.content)] == HOSTILE


def test_portal_downloads_defuse_formulas_in_text_only(sqlite_hub: Hub) -> None:
    lake = upload(sqlite_hub)
    page = sqlite_hub.client.get("/datasets/molit/notes").text
    link = next(part.split('"')[0] for part in page.split('href="')
                if "format=csv" in part.split('"')[0])
    safe = sqlite_hub.client.get(link.replace("&amp;", "&"))
    rows = cells(safe.content)
    assert [row[0] for row in rows] == ["'" + v if v[0] in "=+-@\t" else v for v in HOSTILE]
    assert [row[1] for row in rows] == [str(-i) for i in range(len(HOSTILE))]  # numbers stay
    browser = sqlite_hub.browser()
    sign_in(browser, lake.owner.email, PASSWORD)
    console = browser.get("/query").text
    download = browser.post("/query/download", data={
        "sql": "SELECT 메모 FROM molit.notes", "format": "csv", "csrf_token": csrf_of(console)})
    assert not any(row[0][0] in "=+-@\t" for row in cells(download.content))

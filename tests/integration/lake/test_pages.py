"""The lake portal: new dataset, upload form, job page, dataset page with charts, restore."""

from __future__ import annotations

import csv
import html
import re
import time

from tests.conftest import PASSWORD
from tests.support.identity import csrf_of, sign_in
from tests.support.lake import LIBRARY, Lake


def _follow_job(browser, path: str) -> str:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + 60
    while True:
        page = browser.get(path)
        if 'data-job-running' not in page.text:
            return page.text
        assert time.monotonic() < deadline
        time.sleep(0.1)


def _preview(page: str) -> tuple[list[str], list[list[str]]]:
    """The dataset page's preview table: its header and its rows, as the reader sees them."""
    table = re.search(r'<table class="preview">(.*?)</table>', page, re.S)
    assert table, "no preview table on the page"
    header = [html.unescape(h)
              for h in re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", table.group(1))]
    body = table.group(1).split("<tbody>", 1)[1]
    rows = [[html.unescape(c) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
            for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)]
    return header, rows


def _file_rows(path) -> tuple[list[str], list[list[str]]]:  # type: ignore[no-untyped-def]
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp949")
    header, *rows = csv.reader(text.splitlines())
    return header, rows


def test_provider_uploads_from_the_portal(lake: Lake) -> None:
    hub = lake.hub
    browser = hub.browser()
    sign_in(browser, lake.owner.email, PASSWORD)
    form = browser.get("/orgs/molit/datasets/new")
    created = browser.post("/orgs/molit/datasets/new", data={
        "slug": "libraries", "title_ko": "전국도서관표준데이터", "keywords": "도서관, 문화",
        "access": "open", "csrf_token": csrf_of(form.text)})
    assert created.url.path == "/datasets/molit/libraries/upload"
    job_page = browser.post("/datasets/molit/libraries/upload",
                            data={"mode": "append", "encoding": "auto",
                                  "csrf_token": csrf_of(created.text)},
                            files=[("files", (LIBRARY.name, LIBRARY.read_bytes()))])
    assert re.search(r"/jobs/\d+$", str(job_page.url))
    finished = _follow_job(browser, job_page.url.path)
    assert "3,517" in finished and "완료" in finished

    page = browser.get("/datasets/molit/libraries")
    assert page.status_code == 200
    assert "molit.libraries" in page.text and "열람좌석수" in page.text
    assert page.text.count("<svg") >= 10  # a chart per profiled column
    # the preview shows the uploaded rows, in the file's order, with the file's columns
    header, rows = _preview(page.text)
    file_header, file_rows = _file_rows(LIBRARY)
    assert header[:3] == file_header[:3] == ["도서관명", "시도명", "시군구명"]
    assert len(rows) >= 5
    assert [row[:3] for row in rows] == [row[:3] for row in file_rows[:len(rows)]]
    assert "/openapi/molit/libraries" in page.text

    second = browser.post("/datasets/molit/libraries/upload",
                          data={"mode": "replace", "csrf_token": csrf_of(page.text)},
                          files=[("files", ("small.csv", "도서관명,시도명\n작은도서관,세종특별자치시\n"
                                            .encode("cp949")))])
    _follow_job(browser, second.url.path)
    page = browser.get("/datasets/molit/libraries")
    assert [row[:2] for row in _preview(page.text)[1]] == [["작은도서관", "세종특별자치시"]]
    restored = browser.post("/datasets/molit/libraries/versions/1/restore",
                            data={"csrf_token": csrf_of(page.text)})
    done = _follow_job(browser, restored.url.path)
    assert "3,517" in done
    assert browser.get("/datasets?org=molit").text.count("molit.libraries") == 1


def test_failed_upload_shows_position(lake: Lake) -> None:
    browser = lake.hub.browser()
    sign_in(browser, lake.owner.email, PASSWORD)
    lake.create("broken")
    form = browser.get("/datasets/molit/broken/upload")
    job = browser.post("/datasets/molit/broken/upload", data={"csrf_token": csrf_of(form.text)},
                       files=[("files", ("ragged.csv", b"a,b\n1,2\n3\n"))])
    text = _follow_job(browser, job.url.path)
    assert "ragged.csv" in text and "<dt>줄</dt>" in text and "테이블은 바뀌지 않았습니다" in text


def test_restricted_preview_is_not_shown_to_outsiders(lake: Lake) -> None:
    lake.create("secret", access="sensitive")
    lake.ingest_ok("secret", ("a.csv", "이름,값\n비밀,1\n".encode()))
    anonymous = lake.hub.browser().get("/datasets/molit/secret")
    assert anonymous.status_code == 200 and "비밀" not in anonymous.text


def test_home_page_shows_the_newest_datasets(lake: Lake) -> None:
    lake.create("older", title_ko="예전 데이터")
    lake.create("newer", title_ko="새 데이터")
    lake.ingest_ok("newer", ("a.csv", b"a\n1\n"))
    home = lake.hub.browser().get("/").text
    assert home.index("새 데이터") < home.index("예전 데이터")


def test_a_running_job_page_never_reloads_itself(tmp_path, sqlite_url) -> None:  # type: ignore[no-untyped-def]
    """WCAG 2.2.1: no timed refresh; the reader looks again when they choose."""
    from tests.conftest import build_hub

    for hub in build_hub(tmp_path, sqlite_url, job_workers=0):   # nobody runs the job
        lake = Lake(hub)
        lake.create("waiting")
        answer = hub.client.post("/api/v1/datasets/molit/waiting/ingest", headers=lake.auth,
                                 files=[("files", ("a.csv", b"a\n1\n"))])
        browser = hub.browser()
        sign_in(browser, lake.owner.email, PASSWORD)
        page = browser.get(f"/jobs/{answer.json()['id']}", params={"wait": 0}).text
        assert 'http-equiv="refresh"' not in page
        assert "data-job-running" in page and "다시 보기" in page

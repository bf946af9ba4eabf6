"""The SQL console and the lineage page, as a browser without JavaScript uses them."""

from __future__ import annotations

import re
import time

from tests.conftest import PASSWORD
from tests.support.identity import csrf_of, sign_in
from tests.support.lake import LIBRARY, Lake


def test_console_runs_charts_saves_and_derives(lake: Lake) -> None:
    lake.create("libraries")
    lake.ingest_ok("libraries", LIBRARY)
    browser = lake.hub.browser()
    sign_in(browser, lake.owner.email, PASSWORD)
    page = browser.get("/query")
    assert page.status_code == 200 and "molit.libraries" in page.text
    sql = "SELECT 시도명, count(*) AS n FROM molit.libraries GROUP BY 1 ORDER BY 2 DESC"
    result = browser.post("/query", data={"sql": sql, "limit": "1000",
                                          "csrf_token": csrf_of(page.text)})
    assert result.status_code == 200 and "서울특별시" in result.text and "<svg" in result.text
    assert "546" in result.text
    bad = browser.post("/query", data={"sql": "SELECT * FROM read_csv('/etc/passwd')",
                                       "csrf_token": csrf_of(result.text)})
    assert bad.status_code == 403 and "read_csv" in bad.text
    download = browser.post("/query/download", data={"sql": sql, "format": "csv",
                                                     "csrf_token": csrf_of(result.text)})
    assert download.content.decode("utf-8-sig").startswith('"시도명","n"')
    saved = browser.post("/query/save", data={"sql": sql, "name": "시도별 도서관",
                                              "csrf_token": csrf_of(result.text)})
    assert "시도별 도서관" in saved.text and sql.split()[0] in saved.text
    job = browser.post("/query/derive", data={"sql": sql, "org": "molit", "slug": "by-sido",
                                              "title_ko": "시도별 도서관 수",
                                              "csrf_token": csrf_of(result.text)})
    assert re.search(r"/jobs/\d+$", str(job.url))
    deadline = time.monotonic() + 30
    while 'data-job-running' in browser.get(job.url.path).text:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    derived = browser.get("/datasets/molit/by-sido")
    assert "파생 데이터셋" in derived.text and "molit/libraries" in derived.text
    lineage = browser.get("/lineage")
    assert lineage.status_code == 200 and "<svg" in lineage.text and "molit/by-sido" in lineage.text

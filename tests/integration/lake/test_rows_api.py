"""The rows API and the data.go.kr-compatible front, on the real library file."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pyarrow.parquet as pq
import pytest

from tests.support.lake import LIBRARY, Lake


@pytest.fixture
def libraries(lake: Lake) -> Lake:
    lake.create("libraries", title_ko="전국도서관표준데이터")
    lake.ingest_ok("libraries", LIBRARY)
    return lake


def test_paging_with_cursor_is_complete_and_stable(libraries: Lake) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 1000, "sort": "도서관명,소재지도로명주소", "columns": "도서관명"}
        if cursor:
            params["cursor"] = cursor
        page = libraries.rows("libraries", **params).json()
        seen += [r["도서관명"] for r in page["rows"]]
        pages += 1
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert pages == 4 and len(seen) == 3_517 and seen == sorted(seen)


def test_filters(libraries: Lake) -> None:
    equals = libraries.rows("libraries", 시도명="세종특별자치시").json()
    assert equals["total"] > 0 and {r["시도명"] for r in equals["rows"]} == {"세종특별자치시"}
    within = libraries.rows("libraries", **{"시도명__in": "제주특별자치도,울산광역시"}).json()
    assert {r["시도명"] for r in within["rows"]} <= {"제주특별자치도", "울산광역시"}
    ranged = libraries.rows("libraries", **{"열람좌석수__gte": 1000, "열람좌석수__lt": 1100,
                                            "limit": 1000}).json()
    assert ranged["total"] > 0
    assert all(1000 <= r["열람좌석수"] < 1100 for r in ranged["rows"])
    contains = libraries.rows("libraries", **{"도서관명__contains": "어린이"}).json()
    assert contains["total"] > 0 and all("어린이" in r["도서관명"] for r in contains["rows"])
    dated = libraries.rows("libraries", **{"데이터기준일자__gte": "2025-01-01"}).json()
    assert all(r["데이터기준일자"] >= "2025-01-01" for r in dated["rows"])
    bad = libraries.rows("libraries", **{"열람좌석수__gte": "many"})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_filter"
    unknown = libraries.rows("libraries", 없는열="x")
    assert unknown.status_code == 422 and unknown.json()["field"] == "없는열"


def test_streamed_formats(libraries: Lake) -> None:
    csv_answer = libraries.rows("libraries", format="csv")
    assert csv_answer.headers["content-type"].startswith("text/csv")
    text = csv_answer.content.decode("utf-8-sig")
    assert text.count("\n") == 3_518 and text.startswith('"도서관명","시도명"')
    ndjson = libraries.rows("libraries", format="ndjson", limit=5).text.splitlines()
    assert len(ndjson) == 5 and "도서관명" in json.loads(ndjson[0])
    xml = ET.fromstring(libraries.rows("libraries", format="xml", limit=3).content)
    assert len(xml.findall("item")) == 3 and xml.find("item/도서관명") is not None
    parquet = pq.read_table(io.BytesIO(libraries.rows("libraries", format="parquet").content))
    assert parquet.num_rows == 3_517 and parquet.schema.field("열람좌석수").type == "int64"


def test_time_travel_by_version(libraries: Lake) -> None:
    libraries.ingest_ok("libraries", LIBRARY)
    assert libraries.rows("libraries").json()["total"] == 7_034
    assert libraries.rows("libraries", version=1).json()["total"] == 3_517
    cursor = libraries.rows("libraries", version=1).json()["next_cursor"]
    mixed = libraries.rows("libraries", version=2, cursor=cursor)
    assert mixed.status_code == 422 and mixed.json()["code"] == "invalid_cursor"
    assert libraries.rows("libraries", version=9).status_code == 404


def test_profile(libraries: Lake) -> None:
    profile = libraries.hub.client.get("/api/v1/datasets/molit/libraries/profile").json()
    assert profile["rows"] == 3_517
    columns = {c["name"]: c for c in profile["columns"]}
    seats = columns["열람좌석수"]
    assert seats["type"] == "integer" and seats["nulls"] == 0
    assert sum(seats["histogram"]["counts"]) == 3_517
    sido = columns["시도명"]
    assert 17 <= sido["distinct"] <= 19
    assert sido["top"][:2] == [{"value": "서울특별시", "count": 546},
                              {"value": "경기도", "count": 508}]


def test_datagokr_front_xml_and_json(libraries: Lake) -> None:
    token = libraries.hub.make_token(libraries.owner, ("read",))
    client = libraries.hub.client
    xml = client.get("/openapi/molit/libraries", params={"serviceKey": token, "pageNo": 2,
                                                         "numOfRows": 10})
    assert xml.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(xml.content)
    assert root.findtext("header/resultCode") == "00"
    assert root.findtext("header/resultMsg") == "NORMAL SERVICE."
    assert len(root.findall("body/items/item")) == 10
    assert root.findtext("body/totalCount") == "3517" and root.findtext("body/pageNo") == "2"
    page = client.get("/openapi/molit/libraries", params={
        "serviceKey": token, "type": "json", "numOfRows": 5, "시도명": "제주특별자치도"}).json()
    body = page["response"]["body"]
    assert page["response"]["header"]["resultCode"] == "00"
    assert len(body["items"]["item"]) == 5
    assert {i["시도명"] for i in body["items"]["item"]} == {"제주특별자치도"}
    from urllib.parse import quote

    doubly = client.get(f"/openapi/molit/libraries?serviceKey={quote(quote(token))}&_type=json")
    assert doubly.json()["response"]["header"]["resultCode"] == "00"


@pytest.mark.parametrize(("params", "code"), [
    ({}, "30"),
    ({"serviceKey": "dpg_not-a-key"}, "30"),
    ({"numOfRows": "1001"}, "10"),
    ({"pageNo": "zero"}, "10"),
])
def test_datagokr_errors(libraries: Lake, params: dict, code: str) -> None:
    if "serviceKey" not in params and code != "30":
        params = {**params, "serviceKey": libraries.hub.make_token(libraries.owner)}
    answer = libraries.hub.client.get("/openapi/molit/libraries", params=params)
    assert answer.status_code == 200
    assert ET.fromstring(answer.content).findtext("header/resultCode") == code


def test_datagokr_unknown_dataset_and_access(libraries: Lake) -> None:
    hub = libraries.hub
    token = hub.make_token(libraries.owner)
    unknown = hub.client.get("/openapi/molit/nothing", params={"serviceKey": token,
                                                               "type": "json"}).json()
    assert unknown["response"]["header"] == {"resultCode": "12",
                                             "resultMsg": "NO_OPENAPI_SERVICE_ERROR"}
    hub.client.patch("/api/v1/datasets/molit/libraries", headers=libraries.auth,
                     json={"access": "restricted"})
    outsider = hub.make_token(hub.make_user())
    denied = hub.client.get("/openapi/molit/libraries", params={"serviceKey": outsider,
                                                                "type": "json"}).json()
    assert denied["response"]["header"]["resultCode"] == "20"


def test_reading_every_row_by_cursor_gives_the_stored_rows(libraries: Lake) -> None:
    """In stored order the pages after the first are joined from the JSON kept with the row
    groups; over HTTP, on the real file, they hold exactly the rows the NDJSON file does, and
    a column asked for twice comes once."""
    stored = [json.loads(line) for line in
              libraries.rows("libraries", format="ndjson").text.splitlines()]
    seen: list[dict] = []
    cursor = None
    while True:
        page = libraries.rows("libraries", limit=400,
                              **({"cursor": cursor} if cursor else {})).json()
        seen += page["rows"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(stored) == 3_517 and seen == stored
    twice = libraries.rows("libraries", limit=3, columns="도서관명,시도명,도서관명").json()
    assert [list(r) for r in twice["rows"]] == [["도서관명", "시도명"]] * 3
    assert [c["name"] for c in twice["columns"]] == ["도서관명", "시도명"]

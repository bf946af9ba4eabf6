"""Searching the registry the way people do: Korean with particles, words inside compounds,
English for Korean-only records, facets, sorts, and an index that follows every change."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Hub
from tests.support.lake import Lake

# Korean-only titles, as most public datasets have them.
RECORDS = [
    ("libraries", "전국도서관표준데이터", ["도서관", "문화"], "culture"),
    ("ev-chargers", "전국전기차충전소표준데이터", ["전기차", "충전"], "transport"),
    ("parking", "전국주차장정보표준데이터", ["주차장"], "transport"),
    ("air", "대기오염 측정소별 실시간 측정정보", ["대기", "미세먼지"], "environment"),
    ("population", "주민등록 인구 및 세대현황", ["인구", "세대"], "administration"),
    ("hospitals", "병원 및 약국 위치정보", ["병원", "약국"], "health"),
    ("shelters", "지진 옥외 대피장소", ["지진", "대피소"], "safety"),
]


@pytest.fixture
def registry(hub: Hub) -> Lake:
    lake = Lake(hub)
    for slug, title, keywords, theme in RECORDS:
        lake.create(slug, title_ko=title, keywords=keywords, theme=theme,
                    description_ko=f"{title}를 제공합니다.")
    return lake


def search(hub: Hub, **params: Any) -> dict[str, Any]:
    answer = hub.client.get("/api/v1/search", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def slugs(page: dict[str, Any]) -> list[str]:
    return [item["slug"] for item in page["items"]]


def test_a_query_with_particles_finds_the_compound_title(registry: Lake) -> None:
    page = search(registry.hub, q="도서관의 위치")
    assert slugs(page)[0] == "libraries"
    assert "<mark>도서관</mark>" in page["items"][0]["title_html"]


def test_a_word_inside_a_compound_is_found(registry: Lake) -> None:
    assert slugs(search(registry.hub, q="충전소"))[0] == "ev-chargers"
    assert slugs(search(registry.hub, q="주차장"))[0] == "parking"
    assert "libraries" not in slugs(search(registry.hub, q="충전소"))


@pytest.mark.parametrize(("query", "expected"), [
    ("EV charging stations", "ev-chargers"),
    ("public library", "libraries"),
    ("parking lot", "parking"),
    ("air pollution", "air"),
    ("earthquake shelter", "shelters"),
    ("hospital", "hospitals"),
])
def test_english_queries_find_korean_only_records(registry: Lake, query: str,
                                                  expected: str) -> None:
    assert slugs(search(registry.hub, q=query))[0] == expected


def test_a_korean_query_finds_an_english_only_service(hub: Hub) -> None:
    owner = hub.make_user()
    hub.make_org("kma", admin=owner)
    document = {"openapi": "3.0.3", "info": {"title": "Weather", "version": "1"},
                "paths": {"/forecast": {"get": {"summary": "Short-term weather forecast",
                                                 "responses": {"200": {"description": "ok"}}}}}}
    created = hub.client.post("/api/v1/orgs/kma/services", headers=hub.bearer(owner), json={
        "slug": "forecast", "title_ko": "Weather forecast API", "upstream_url": "https://x.test",
        "description": "Village forecasts", "openapi": document})
    assert created.status_code == 201, created.text
    page = search(hub, q="날씨 예보")
    assert slugs(page) == ["forecast"] and page["items"][0]["kind"] == "service"
    assert page["items"][0]["url"] == "/services/kma/forecast"
    # operation summaries are searched and shown as the match
    found = search(hub, q="short-term")
    assert found["items"][0]["matches_html"] == [
        "<mark>Short</mark>-<mark>term</mark> weather forecast"]


def test_unrelated_queries_find_nothing(registry: Lake) -> None:
    assert search(registry.hub, q="우주 발사체 궤도")["total"] == 0


def test_facets_count_the_result_and_narrow_it(registry: Lake) -> None:
    page = search(registry.hub, q="표준데이터")
    assert page["total"] == 3
    themes = {f["value"]: f["count"] for f in page["facets"]["theme"]}
    assert themes == {"transport": 2, "culture": 1}
    assert {f["value"]: f["label"] for f in page["facets"]["theme"]}["transport"] == "교통"
    assert [(f["value"], f["count"]) for f in page["facets"]["org"]] == [("molit", 3)]
    assert page["facets"]["kind"] == [{"value": "dataset", "count": 3, "label": "데이터"}]
    narrowed = search(registry.hub, q="표준데이터", theme="transport")
    assert sorted(slugs(narrowed)) == ["ev-chargers", "parking"]
    assert search(registry.hub, q="", keyword="인구")["total"] == 1
    assert search(registry.hub, kind="service")["total"] == 0
    english = registry.hub.client.get("/api/v1/search", params={"q": "표준데이터"},
                                      headers={"Accept-Language": "en"}).json()
    assert {f["value"]: f["label"] for f in english["facets"]["theme"]}["transport"] == \
        "Transport"


def test_bad_search_input_is_named(registry: Lake) -> None:
    client = registry.hub.client
    wrong_sort = client.get("/api/v1/search", params={"q": "x", "sort": "popular"})
    assert wrong_sort.status_code == 422 and wrong_sort.json()["field"] == "sort"
    wrong_kind = client.get("/api/v1/search", params={"kind": "table"})
    assert wrong_kind.status_code == 422 and wrong_kind.json()["field"] == "kind"
    bad_cursor = client.get("/api/v1/search", params={"cursor": "!!"})
    assert bad_cursor.status_code == 422 and bad_cursor.json()["field"] == "cursor"
    too_long = client.get("/api/v1/search", params={"q": "가" * 501})
    assert too_long.status_code == 422 and too_long.json()["field"] == "q"


def test_pages_follow_the_cursor(registry: Lake) -> None:
    first = search(registry.hub, limit=3)
    assert first["total"] == len(RECORDS) and len(first["items"]) == 3
    seen = slugs(first)
    cursor = first["next_cursor"]
    while cursor:
        page = search(registry.hub, limit=3, cursor=cursor)
        seen += slugs(page)
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted(r[0] for r in RECORDS)


def test_the_index_follows_changes(registry: Lake) -> None:
    hub = registry.hub
    assert search(hub, q="자전거")["total"] == 0
    changed = hub.client.patch("/api/v1/datasets/molit/parking", headers=registry.auth,
                               json={"title_ko": "공공자전거 대여소 정보", "keywords": ["자전거"],
                                     "description_ko": "따릉이 대여소 위치"})
    assert changed.status_code == 200, changed.text
    assert slugs(search(hub, q="자전거")) == ["parking"]
    assert "parking" not in slugs(search(hub, q="주차장"))
    registry.create("bikes", title_ko="따릉이 자전거 이용 현황")
    assert sorted(slugs(search(hub, q="자전거"))) == ["bikes", "parking"]


def test_newest_and_most_used_sorts(registry: Lake) -> None:
    hub = registry.hub
    assert slugs(search(hub, sort="newest"))[0] == RECORDS[-1][0]
    registry.upload("air", ("air.csv", "측정소명,농도\n종로구,12\n중구,15\n".encode("cp949")))
    for _ in range(3):
        assert hub.client.get("/api/v1/datasets/molit/air/rows").status_code == 200
    page = search(hub, sort="most_used")
    assert page["items"][0]["slug"] == "air" and page["items"][0]["uses"] == 3
    # the upload also made it the newest, with its format and columns searchable
    newest = search(hub, sort="newest")["items"][0]
    assert newest["slug"] == "air" and newest["formats"] == ["CSV"]
    assert "<mark>측정소</mark>명" in search(hub, q="측정소")["items"][0]["matches_html"]


def test_titles_are_escaped_in_highlights(hub: Hub) -> None:
    lake = Lake(hub)
    lake.create("xss", title_ko="<script>alert(1)</script> 도서관")
    html = search(hub, q="도서관")["items"][0]["title_html"]
    assert "<script>" not in html and "&lt;script&gt;" in html and "<mark>도서관</mark>" in html


def test_the_portal_search_page(registry: Lake) -> None:
    hub = registry.hub
    page = hub.client.get("/search", params={"q": "도서관의 위치"})
    assert page.status_code == 200
    assert "전국<mark>도서관</mark>표준데이터" in page.text
    assert 'href="/datasets/molit/libraries"' in page.text
    facet = hub.client.get("/search", params={"q": "표준데이터", "theme": "transport"})
    assert 'href="/datasets/molit/libraries"' not in facet.text
    assert 'href="/datasets/molit/parking"' in facet.text
    assert "교통" in facet.text
    home = hub.client.get("/")
    assert "지진 옥외 대피장소" in home.text and 'action="/search"' in home.text


def test_ckan_package_search_uses_the_same_search(registry: Lake) -> None:
    answer = registry.hub.client.get("/api/3/action/package_search",
                                     params={"q": "EV charging stations"})
    body = answer.json()
    assert body["success"] and body["result"]["results"][0]["name"] == "molit__ev-chargers"


def test_the_search_page_in_english(registry: Lake) -> None:
    page = registry.hub.client.get("/search", params={"q": "library"},
                                   headers={"Accept-Language": "en"})
    assert page.status_code == 200 and "전국<mark>도서관</mark>표준데이터" not in page.text
    assert "전국도서관표준데이터" in page.text
    assert "Relevance" in page.text and "Transport" not in page.text  # only the hit's facets

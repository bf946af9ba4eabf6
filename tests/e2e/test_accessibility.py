"""Every main portal page passes axe-core's WCAG 2.0/2.1 A and AA rules, in a real browser.

One hub (`dpghub serve`) gets sample content through its own command line and API: a
provider organization with a wide dataset (so its rows table scrolls sideways), its profile
charts, an ingestion job, a dataset derived from it (lineage), an API service, an app asking
for it, and an invitation. Headless Debian Chromium then opens each page — signed in as the
provider, as the operator, or signed out; in Korean and, for some pages, in English — injects
axe-core (installed by `make browser` from package-lock.json) and fails on any violation,
naming the rule, its impact, the failing elements and where the rule is explained.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api

from tests.e2e.conftest import (
    OPERATOR_EMAIL,
    OPERATOR_PASSWORD,
    WAIT_MS,
    axe_violations,
    describe,
    hub_env,
    init_hub,
    serving,
    wait_job,
)

pytestmark = pytest.mark.browser

ORG = "seoul-lib"
DATASET = "libraries"  # SQL table seoul_lib.libraries
DERIVED = "libraries-by-district"
SERVICE = "library-api"
SUPPLIER = "ai-lab"
PROVIDER = "provider@example.kr"
PROVIDER_PASSWORD = "provider-pass-1"


# --- sample content ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Portal:
    """A running hub with sample content, and where to find its pieces."""

    base: str
    job_id: int
    app_id: int
    app_key: str
    invite_path: str

    def paths(self) -> dict[str, str]:
        return {"org": ORG, "dataset": f"{ORG}/{DATASET}", "service": f"{ORG}/{SERVICE}",
                "job": str(self.job_id), "app": str(self.app_id), "invite": self.invite_path}


def _libraries_csv() -> bytes:
    """Forty libraries with a dozen columns of long Korean text: wider than any screen, so the
    page's rows table must scroll sideways. Numbers give histograms, districts top values."""
    districts = ["종로구", "중구", "용산구", "성동구", "광진구", "동대문구", "중랑구", "성북구"]
    kinds = ["공공도서관", "작은도서관", "어린이도서관"]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["도서관명", "시도명", "시군구명", "도서관유형", "소재지도로명주소", "운영기관명",
                     "열람좌석수", "자료수(도서)", "연간대출건수", "개관일", "홈페이지주소",
                     "법정동코드"])
    for i in range(40):
        district = districts[i % len(districts)]
        writer.writerow([
            f"서울특별시립 {district} 시민 열린 {i + 1}번째 도서관", "서울특별시", district,
            kinds[i % len(kinds)], f"서울특별시 {district} 세종대로 {100 + i}길 {i + 7} 문화복합센터",
            f"서울특별시 {district}청 문화체육과 도서관운영팀", 40 + (i * 37) % 400,
            10_000 + i * 1_733, 2_000 + (i * 911) % 50_000, f"20{10 + i % 15:02d}-0{1 + i % 9}-15",
            f"https://lib.{i}.example.seoul.go.kr/information/main/index.do", f"11{110 + i:03d}10100",
        ])
    return out.getvalue().encode("utf-8")


OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "도서관 정보 조회", "version": "1.0"},
    "paths": {"/libraries": {"get": {
        "summary": "시군구별 도서관 목록",
        "parameters": [{"name": "sigungu", "in": "query", "required": True,
                        "description": "시군구명", "schema": {"type": "string"}}],
        "responses": {"200": {"description": "도서관 목록"}}}}},
}


def _ok(answer: httpx.Response) -> dict[str, Any]:
    assert answer.is_success, f"{answer.request.method} {answer.request.url}: " \
                              f"{answer.status_code} {answer.text}"
    return answer.json()


def _load_content(base: str, token: str) -> Portal:
    """The provider's content, made through the hub's API as a provider would."""
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                      timeout=30) as api:
        _ok(api.post(f"/api/v1/orgs/{ORG}/datasets", json={
            "slug": DATASET, "title_ko": "서울시 공공도서관 현황", "title_en": "Seoul public libraries",
            "description_ko": "서울시 자치구별 공공도서관의 위치와 장서 현황입니다.",
            "description_en": "Where Seoul's public libraries are and what they hold.",
            "keywords": ["도서관", "문화"], "license": "KOGL-1", "theme": "culture",
            "update_frequency": "annual", "spatial": "서울특별시",
            "contact_name": "서울도서관 데이터팀", "contact_email": "data@example.kr"}))
        job = _ok(api.post(f"/api/v1/datasets/{ORG}/{DATASET}/ingest",
                           files={"files": ("도서관.csv", _libraries_csv(), "text/csv")}))
        wait_job(api, job["id"])
        derived = _ok(api.post(f"/api/v1/orgs/{ORG}/derived", json={
            "slug": DERIVED, "title_ko": "자치구별 도서관 수",
            "sql": f"SELECT 시군구명, count(*) AS 도서관수 FROM {ORG.replace('-', '_')}.{DATASET} "
                   "GROUP BY 1"}))
        wait_job(api, derived["job"]["id"])
        _ok(api.post(f"/api/v1/orgs/{ORG}/services", json={
            "slug": SERVICE, "title_ko": "도서관 정보 조회 API", "title_en": "Library lookup API",
            "description": "시군구별 공공도서관 목록을 돌려줍니다.",
            "upstream_url": "http://127.0.0.1:9/v1", "openapi": OPENAPI, "access": "approval"}))
        app = _ok(api.post(f"/api/v1/orgs/{ORG}/apps", json={
            "name": "우리동네 도서관 찾기", "description": "가까운 도서관을 알려 주는 앱"}))
        _ok(api.post(f"/api/v1/apps/{app['id']}/subscriptions", json={
            "service": f"{ORG}/{SERVICE}", "plan": "production",
            "purpose": "시민에게 가까운 도서관 안내"}))
        invitation = _ok(api.post(f"/api/v1/orgs/{ORG}/invitations", json={
            "email": "newcomer@example.kr", "role": "editor"}))
    return Portal(base=base, job_id=job["id"], app_id=app["id"], app_key=app["key"],
                  invite_path="/invite/" + invitation["url"].rsplit("/invite/", 1)[1])


@pytest.fixture(scope="module")
def portal(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("a11y")
    env = hub_env(folder / "home")
    *_, token = init_hub(
        env,
        ("org", "create", ORG, "--name-ko", "서울도서관", "--name-en", "Seoul Library",
         "--kind", "public", "--verified"),
        ("org", "create", SUPPLIER, "--name-ko", "에이아이랩", "--name-en", "AI Lab",
         "--kind", "company"),      # supplies an AI service in the /ai page's lead case
        ("user", "create", PROVIDER, "--org", ORG, "--role", "admin", "--password",
         PROVIDER_PASSWORD, "--name", "김사서"),
        ("token", "create", PROVIDER, "--name", "sample content", "--scope", "read",
         "--scope", "write", "--days", "1"))
    token = token.strip()
    with serving(env, folder / "serve.log") as base:
        yield _load_content(base, token)


# --- the browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def visitor(portal: Portal, browser: sync_api.Browser) -> Iterator[Callable[..., sync_api.Page]]:
    """visitor(who, lang): a page in a browser context signed in as `who` (None: signed out),
    reading the portal in `lang`. One context per pair, kept for the module."""
    contexts: dict[tuple[str | None, str], sync_api.BrowserContext] = {}

    def open_page(who: str | None, lang: str) -> sync_api.Page:
        if (who, lang) not in contexts:
            context = browser.new_context(base_url=portal.base,
                                          locale="ko-KR" if lang == "ko" else "en-US")
            context.set_default_timeout(WAIT_MS)
            context.set_default_navigation_timeout(WAIT_MS)
            if who is not None:
                _sign_in(context.new_page(), who)
            # The portal's language button stores the choice in this cookie (signing in sets
            # it to the user's setting, so it is set after).
            context.add_cookies([{"name": "dpghub_lang", "value": lang, "url": portal.base}])
            contexts[(who, lang)] = context
        return contexts[(who, lang)].new_page()

    yield open_page
    for context in contexts.values():
        context.close()


def _sign_in(page: sync_api.Page, who: str) -> None:
    email, password = {"provider": (PROVIDER, PROVIDER_PASSWORD),
                       "operator": (OPERATOR_EMAIL, OPERATOR_PASSWORD)}[who]
    page.goto("/signin")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    sync_api.expect(page).not_to_have_url(re.compile(r"/signin"))
    page.close()


# --- the pages ---------------------------------------------------------------------------------


def _run_query(page: sync_api.Page, portal: Portal) -> None:
    page.locator("#sql").fill(f"SELECT * FROM {ORG.replace('-', '_')}.{DATASET} ORDER BY 열람좌석수")
    page.locator("form[action='/query'] button[type=submit]").click()


def _sign_in_wrongly(page: sync_api.Page, portal: Portal) -> None:
    page.locator("#email").fill("nobody@example.kr")
    page.locator("#password").fill("not-the-password")
    page.locator("main form button[type=submit]").click()


def _try_service(page: sync_api.Page, portal: Portal) -> None:
    """Send a call through the gateway from the service's page; its answer is shown there."""
    page.locator("#try-query").fill("sigungu=종로구")
    page.locator("#try-key").fill(portal.app_key)
    page.locator("#try button[type=submit]").click()


def _record_support(page: sync_api.Page, portal: Portal) -> None:
    """On /ai, the programme's staff record a session and a public lead case with the forms."""
    page.locator("#s-kind").select_option("education")
    page.locator("#s-title").fill("초거대 AI 프롬프트 실습")
    page.locator("#s-held").fill("2026-05-12")
    page.locator("#s-hours").fill("3")
    page.locator("#s-orgs").fill(ORG)
    page.locator("#s-materials").fill("https://example.kr/prompt-101.pdf")
    page.locator("form[action='/ai/sessions'] button[type=submit]").click()
    sync_api.expect(page.locator("main .flash")).to_be_visible()
    page.locator("#n-agency").fill(ORG)
    page.locator("#n-supplier").fill(SUPPLIER)
    page.locator("#n-title").fill("도서 추천 AI 상담원")
    page.locator("form[action='/ai/lead-cases'] input[name=public]").check()
    page.locator("form[action='/ai/lead-cases'] button[type=submit]").click()
    sync_api.expect(page.locator("main .flash")).to_be_visible()


@dataclass(frozen=True)
class Screen:
    """One page to check: who looks, where, what they do there first, and an element that
    shows the page is the real one (not an error page)."""

    name: str
    who: str | None
    path: str
    shows: str
    status: int = 200
    act: Callable[[sync_api.Page, Portal], None] | None = None


SCREENS = [
    Screen("home", "provider", "/", "form[role=search]"),
    Screen("sign-in", None, "/signin", "#password"),
    Screen("sign-in-refused", None, "/signin", "#form-error", act=_sign_in_wrongly),
    Screen("sign-up", None, "/signup", "#password"),
    Screen("account", "provider", "/account", "main form"),
    Screen("organizations", "provider", "/orgs", "main a[href='/orgs/{org}']"),
    Screen("organization", "provider", "/orgs/{org}", "main table"),
    Screen("new-organization", "provider", "/orgs/new", "main form"),
    Screen("invitation", None, "{invite}", "main a.button"),
    Screen("datasets", "provider", "/datasets", "main a[href='/datasets/{dataset}']"),
    Screen("new-dataset", "provider", "/orgs/{org}/datasets/new", "main form"),
    Screen("dataset", "provider", "/datasets/{dataset}", "table.preview"),
    Screen("derived-dataset", "provider", "/datasets/{org}/" + DERIVED, "table.preview"),
    Screen("upload", "provider", "/datasets/{dataset}/upload", "input[type=file]"),
    Screen("job", "provider", "/jobs/{job}", "main .flash"),
    Screen("search", "provider", "/search?q=도서관", "main a[href='/datasets/{dataset}']"),
    Screen("services", "provider", "/services", "main a[href='/services/{service}']"),
    Screen("service", "provider", "/services/{service}", "#try"),
    Screen("service-tried", "provider", "/services/{service}", "#tried-heading",
           act=_try_service),
    Screen("apps", "provider", "/apps", "main a[href='/apps/{app}']"),
    Screen("app", "provider", "/apps/{app}", "#sub-purpose"),
    Screen("received-subscriptions", "provider", "/orgs/{org}/subscriptions", "main table"),
    Screen("sql-console", "provider", "/query", "table.preview", act=_run_query),
    Screen("lineage", "provider", "/lineage", "main a[href='/datasets/{org}/" + DERIVED + "']"),
    Screen("admin", "operator", "/admin", "main table"),
    Screen("ai-programme", "operator", "/ai", "main article form", act=_record_support),
    Screen("ai-programme-public", None, "/ai", "#cases-h"),
    Screen("ai-usage", "provider", "/ai/usage", "main h1"),
    Screen("ai-ask-data", "provider", "/ai/ask-data", "main form"),
    Screen("programmes", None, "/programmes", "main h1"),
    Screen("programmes-dashboard", None, "/programmes/dashboard", "#hub-h"),
    Screen("agile", "provider", "/agile", "main h1"),
    Screen("agile-new", "provider", "/agile/new", "main form"),
    Screen("notices", "provider", "/notices", "main h1"),
    Screen("not-found", "provider", "/datasets/{org}/no-such-dataset", "main h1", status=404),
]
IN_ENGLISH_TOO = {"home", "sign-in-refused", "organization", "dataset", "service", "app", "sql-console",
                  "admin", "ai-programme", "programmes-dashboard", "ai-usage"}
CASES = [pytest.param(s, "ko", id=f"ko-{s.name}") for s in SCREENS] + \
    [pytest.param(s, "en", id=f"en-{s.name}") for s in SCREENS if s.name in IN_ENGLISH_TOO]


@pytest.mark.parametrize(("screen", "lang"), CASES)
def test_page_has_no_wcag_violations(screen: Screen, lang: str, axe_js: Path, portal: Portal,
                                     visitor: Callable[..., sync_api.Page]) -> None:
    page = visitor(screen.who, lang)
    try:
        path = screen.path.format(**portal.paths())
        answer = page.goto(path)
        assert answer is not None and answer.status == screen.status, \
            f"{path}: HTTP {answer.status if answer else None}"
        if screen.act:
            screen.act(page, portal)
        sync_api.expect(page.locator("html")).to_have_attribute("lang", lang)
        sync_api.expect(page.locator(screen.shows.format(**portal.paths())).first) \
            .to_be_visible()
        violations = axe_violations(page, axe_js)
        assert not violations, \
            f"{path} ({lang}, {screen.who or 'signed out'}) breaks WCAG 2.x A/AA rules:\n" \
            + describe(violations)
    finally:
        page.close()


def test_keyboard_user_scrolls_the_wide_rows_table(portal: Portal,
                                                   visitor: Callable[..., sync_api.Page]) -> None:
    """The dataset's rows table is wider than the screen: Tab reaches it as a named region and
    the arrow keys scroll it sideways."""
    page = visitor("provider", "ko")
    try:
        page.goto(f"/datasets/{ORG}/{DATASET}")
        region = page.get_by_role("region", name="미리보기")
        sync_api.expect(region).to_have_count(1)
        assert region.evaluate("e => e.scrollWidth > e.clientWidth"), "the rows table fits the screen: nothing to scroll"
        for _ in range(200):  # the links before it: header, keywords, downloads, versions
            page.keyboard.press("Tab")
            if region.evaluate("e => e === document.activeElement"):
                break
        else:
            pytest.fail("Tab never reached the rows table")
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.wait_for_function("e => e.scrollLeft > 0", arg=region.element_handle())
    finally:
        page.close()

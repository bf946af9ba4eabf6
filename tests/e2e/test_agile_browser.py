"""An agile project's board and a service's feedback form, in a real browser (Debian's
Chromium) against a real `dpghub serve` process, with no script on the pages.

Before the browser opens, a ministry, one of its editors (the team), a citizen, the service the
team builds and its agile project with a small backlog are made through the hub's command line
and JSON API, as the team would have them. Then, in Korean as both people read the portal:
the team adds a backlog item with the board's form and moves a card from backlog to done, one
column at a time; the citizen gives feedback on the service's page and votes on it (a second
vote is refused); the team plans the feedback through the API and the citizen finds the notice
on /agile. The board and the service's page pass axe-core's WCAG 2.0/2.1 A and AA rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api

from tests.e2e.conftest import (
    WAIT_MS,
    axe_violations,
    describe,
    hub_env,
    init_hub,
    serving,
)

pytestmark = pytest.mark.browser

ORG = "mois"
SERVICE = "minwon-guide"
SERVICE_TITLE = "민원 안내 API"
TEAM = "team@mois.example.kr"
TEAM_PASSWORD = "team-pass-1234"
CITIZEN = "citizen@example.kr"
CITIZEN_PASSWORD = "citizen-pass-1234"
BACKLOG = ("민원 진행 상황 알림", "처리 기관 안내 지도", "자주 묻는 질문 검색")
NEW_ITEM = "민원 서류 미리 확인"
FEEDBACK = "지도가 모바일에서 열리지 않아요"
OPENAPI = {
    "openapi": "3.0.3",
    "info": {"title": "민원 안내", "version": "1.0"},
    "paths": {"/guides": {"get": {"summary": "민원 안내 목록",
                                  "responses": {"200": {"description": "안내 목록"}}}}},
}
# the board's columns, as their headings read in Korean: "<state> (<cards>)"
COLUMNS = {"backlog": "백로그", "selected": "선정", "in_progress": "진행 중", "done": "완료"}


@dataclass(frozen=True)
class Hub:
    base: str
    token: str           # the team member's API token (read, write)
    project_id: int


def _ok(answer: httpx.Response) -> Any:
    assert answer.is_success, f"{answer.request.method} {answer.request.url}: " \
                              f"{answer.status_code} {answer.text}"
    return answer.json()


def _api(hub: Hub) -> httpx.Client:
    return httpx.Client(base_url=hub.base, headers={"Authorization": f"Bearer {hub.token}"},
                        timeout=30)


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """The ministry, its editor, a citizen, the service and its agile project with a backlog."""
    folder = tmp_path_factory.mktemp("agile")
    env = hub_env(folder / "home")
    *_, token = init_hub(
        env,
        ("org", "create", ORG, "--name-ko", "행정안전부", "--name-en",
         "Ministry of the Interior and Safety", "--kind", "public", "--verified"),
        ("user", "create", TEAM, "--org", ORG, "--role", "editor", "--password",
         TEAM_PASSWORD, "--name", "김팀원"),
        ("user", "create", CITIZEN, "--password", CITIZEN_PASSWORD, "--name", "이시민"),
        ("token", "create", TEAM, "--name", "agile setup", "--scope", "read",
         "--scope", "write", "--days", "1"))
    token = token.strip()
    with serving(env, folder / "serve.log") as base:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"},
                          timeout=30) as api:
            _ok(api.post(f"/api/v1/orgs/{ORG}/services", json={
                "slug": SERVICE, "title_ko": SERVICE_TITLE, "title_en": "Civil petition guide",
                "description": "민원 절차와 처리 기관을 안내합니다.",
                "upstream_url": "http://127.0.0.1:9/v1", "openapi": OPENAPI,
                "access": "open"}))
            project = _ok(api.post("/api/v1/agile/projects", json={
                "org": ORG, "name": "민원 안내 서비스 개선", "goal": "민원 처리 시간을 절반으로",
                "service": f"{ORG}/{SERVICE}", "starts_on": "2026-01-01",
                "ends_on": "2026-12-31"}))
            for priority, title in enumerate(BACKLOG, start=1):
                _ok(api.post(f"/api/v1/agile/projects/{project['id']}/items", json={
                    "title": title, "priority": priority, "estimate": 3}))
        yield Hub(base=base, token=token, project_id=project["id"])


def _signed_in(browser: sync_api.Browser, hub: Hub, email: str,
               password: str) -> sync_api.BrowserContext:
    """A browser of its own for one person, signed in with the portal's form."""
    context = browser.new_context(base_url=hub.base, locale="ko-KR")
    context.set_default_timeout(WAIT_MS)
    context.set_default_navigation_timeout(WAIT_MS)
    page = context.new_page()
    page.goto("/signin")
    page.locator("#email").fill(email)
    page.locator("#password").fill(password)
    page.locator("main form button[type=submit]").click()
    sync_api.expect(page).not_to_have_url(re.compile(r"/signin"))
    page.close()
    return context


def _column(page: sync_api.Page, state: str) -> sync_api.Locator:
    """A board column: the region its heading names, e.g. "진행 중 (1)"."""
    return page.get_by_role("region", name=re.compile(rf"^{COLUMNS[state]} \(\d+\)$"))


def _card(page: sync_api.Page, state: str, title: str) -> sync_api.Locator:
    return _column(page, state).get_by_role("listitem").filter(has_text=title)


def _assert_accessible(page: sync_api.Page, axe_js: Path, what: str) -> None:
    violations = axe_violations(page, axe_js)
    assert not violations, f"{what} ({page.url}) breaks WCAG 2.x A/AA rules:\n" \
        + describe(violations)


def test_team_moves_cards_and_citizen_gives_feedback(hub: Hub, browser: sync_api.Browser,
                                                     axe_js: Path) -> None:
    expect = sync_api.expect
    board = f"/agile/projects/{hub.project_id}"
    service_page = f"/services/{ORG}/{SERVICE}"
    team = _signed_in(browser, hub, TEAM, TEAM_PASSWORD)
    citizen = _signed_in(browser, hub, CITIZEN, CITIZEN_PASSWORD)
    try:
        # 1. The team opens the board: the backlog holds the three items made before.
        page = team.new_page()
        page.goto(board)
        expect(page.locator("html")).to_have_attribute("lang", "ko")
        expect(page.get_by_role("heading", level=1)).to_have_text("민원 안내 서비스 개선")
        expect(page.get_by_role("heading", name="보드", level=2)).to_be_visible()
        for title in BACKLOG:
            expect(_card(page, "backlog", title)).to_have_count(1)
        expect(_column(page, "done")).to_contain_text("항목이 없습니다.")

        # 2. A backlog item, added with the plain form.
        form = page.get_by_role("region", name="백로그 항목 추가")
        form.get_by_label("제목").fill(NEW_ITEM)
        form.get_by_label("사용자 스토리").fill("민원인으로서 서류가 빠짐없는지 미리 알고 싶다")
        form.get_by_label(re.compile(r"^우선순위")).fill("1")
        form.get_by_label(re.compile(r"^추정")).fill("5")
        form.get_by_label(re.compile(r"^라벨")).fill("서류, 모바일")
        form.get_by_role("button", name="추가", exact=True).click()
        expect(page).to_have_url(f"{hub.base}{board}")
        expect(page.get_by_role("status")).to_have_text("항목을 추가했습니다.")
        card = _card(page, "backlog", NEW_ITEM)
        expect(card).to_have_count(1)
        expect(card).to_contain_text("P1")
        expect(card).to_contain_text("모바일")
        expect(_column(page, "backlog")).to_have_accessible_name("백로그 (4)")

        # 3. The new card crosses the board, one column at a time, with its own form.
        before = "backlog"
        for state in ("selected", "in_progress", "done"):
            card = _card(page, before, NEW_ITEM)
            card.get_by_label("이동할 상태").select_option(state)
            card.get_by_role("button", name="이동", exact=True).click()
            expect(page.get_by_role("status")).to_have_text("카드를 옮겼습니다.")
            expect(page).to_have_url(re.compile(rf"{re.escape(board)}#item-\d+$"))
            expect(_card(page, state, NEW_ITEM)).to_have_count(1)
            expect(_card(page, before, NEW_ITEM)).to_have_count(0)
            expect(_column(page, state)).to_have_accessible_name(f"{COLUMNS[state]} (1)")
            before = state
        expect(_column(page, "backlog")).to_have_accessible_name("백로그 (3)")
        _assert_accessible(page, axe_js, "the board")
        page.close()

        with _api(hub) as api:
            done = _ok(api.get(f"/api/v1/agile/projects/{hub.project_id}/items",
                               params={"state": "done"}))
        assert [(i["title"], i["labels"]) for i in done] == [(NEW_ITEM, ["서류", "모바일"])]

        # 4. A citizen gives feedback on the service's page…
        page = citizen.new_page()
        page.goto(service_page)
        expect(page.get_by_role("heading", level=1)).to_contain_text(SERVICE_TITLE)
        section = page.get_by_role("region", name="의견", exact=True)
        expect(section).to_contain_text("아직 의견이 없습니다.")
        section.get_by_label("유형").select_option("bug")
        section.get_by_label("의견 내용").fill(FEEDBACK)
        section.get_by_label(re.compile(r"^평점")).select_option("2")
        section.get_by_role("button", name="의견 보내기").click()
        expect(page).to_have_url(f"{hub.base}{service_page}#feedback")
        expect(page.get_by_role("status")).to_have_text("의견을 보내 주셔서 감사합니다.")
        given = section.get_by_role("listitem").filter(has_text=FEEDBACK)
        expect(given).to_have_count(1)
        expect(given).to_contain_text("오류")               # its kind, as the citizen chose
        expect(given).to_contain_text("투표 0")
        feedback_id = int((given.get_attribute("id") or "").removeprefix("feedback-"))

        # …votes on it, once: a second vote is refused.
        given.get_by_role("button", name="투표").click()
        expect(page).to_have_url(f"{hub.base}{service_page}#feedback-{feedback_id}")
        expect(page.get_by_role("status")).to_have_text("투표했습니다.")
        expect(given).to_contain_text("투표 1")
        given.get_by_role("button", name="투표").click()
        expect(page.get_by_role("status")).to_have_text(
            f"의견 {feedback_id}에 이미 투표했습니다")
        expect(given).to_contain_text("투표 1")
        _assert_accessible(page, axe_js, "the service's page with its feedback")

        # 5. The team plans the feedback through the API…
        with _api(hub) as api:
            planned = _ok(api.patch(f"/api/v1/feedback/{feedback_id}",
                                    json={"status": "planned"}))
        assert (planned["status"], planned["rating"], planned["kind"]) == ("planned", 2, "bug")

        # …and the citizen finds the notice on /agile, linking back to the feedback.
        page.goto("/agile")
        expect(page.get_by_role("heading", level=1)).to_have_text("애자일 사업")
        notices = page.get_by_role("region", name="알림")
        notice = notices.get_by_role("link", name=re.compile(
            rf"^{re.escape(SERVICE_TITLE)}에 남긴 의견 #{feedback_id}이\(가\) 개발 계획에 "
            r"반영되었습니다$"))
        expect(notice).to_have_attribute("href", f"{service_page}#feedback-{feedback_id}")
        notice.click()
        expect(page).to_have_url(f"{hub.base}{service_page}#feedback-{feedback_id}")
        expect(page.get_by_role("region", name="의견", exact=True)
               .get_by_role("listitem").filter(has_text=FEEDBACK)).to_contain_text("계획됨")
        page.close()
    finally:
        team.close()
        citizen.close()

"""The testbed's portal pages as a developer uses them without JavaScript: start a project on
the form, a key shown once, people added and invited, the project pointed at a server, the
inspector filtered, a question asked, answered by support staff, published as a FAQ — and
each refusal shown as a page with its reason. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
import shlex
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from dpghub.core.db import utcnow
from dpghub.identity import schemas, service
from dpghub.identity.policy import CLI
from tests.conftest import Hub
from tests.support.identity import csrf_of
from tests.support.sandbox import sqlite_only_hub  # noqa: F401 — `hub` is SQLite here
from tests.support.testbed_pages import PROJECT, Startup, start_project, supporter, visitor


@pytest.fixture
def startup(hub: Hub) -> Startup:
    return start_project(hub)


def test_a_project_started_on_the_form_shows_its_mock(startup: Startup) -> None:
    page = startup.browser.get(startup.page)
    assert page.status_code == 200
    assert f"<h1>{PROJECT}</h1>" in page.text
    assert "사업자 상태로 거래처를 확인한다" in page.text
    assert "<code>/sandbox/nts/nts-businessman/</code>" in page.text
    assert "김개발 &lt;dev@startup.kr&gt;" in page.text
    assert "/sandbox/nts/nts-businessman/status" in page.text          # the curl example
    home = startup.browser.get("/testbed")
    assert f'<a href="{startup.page}">{PROJECT}</a>' in home.text
    assert '<span class="tag">개발 중</span>' in home.text and "개발계정" not in home.text
    [project] = startup.browser.get("/api/v1/testbed/projects").json()
    assert (project["org"], project["stage"]) == ("startup", "development")


def test_a_duplicate_name_re_renders_the_form_with_the_reason(startup: Startup) -> None:
    again = startup.browser.submit("/testbed", "/testbed/projects", {
        "org": "startup", "name": PROJECT, "services": "nts/nts-businessman", "days": "30"})
    assert again.status_code == 409
    assert f"startup에 이미 {PROJECT} 프로젝트가 있습니다" in again.text
    assert 'action="/testbed/projects"' in again.text                  # the form, again
    assert len(startup.browser.get("/api/v1/testbed/projects").json()) == 1


def test_a_new_key_is_shown_once_and_works_on_the_sandbox(startup: Startup) -> None:
    key = startup.new_key()
    later = startup.browser.get(startup.page)
    assert key not in later.text and 'id="new-key"' not in later.text
    assert f"<code>{key[:12]}…</code>" in later.text
    called = _run_curl(startup, later.text, key)      # the page's own example, with the key
    assert called.status_code == 200, called.text
    assert called.headers["x-sandbox-mode"] == "mock"
    [listed] = startup.api("/keys")
    revoked = startup.act(f"/keys/{listed['id']}/revoke")
    assert revoked.status_code == 200 and "폐기됨" in revoked.text
    refused = startup.hub.client.post("/sandbox/nts/nts-businessman/status",
                                      headers={"X-API-Key": key},
                                      json={"b_no": ["2208162517"]})
    assert refused.status_code == 401


def _run_curl(startup: Startup, page: str, key: str):  # type: ignore[no-untyped-def]
    """Run the project page's curl example through the hub, $SANDBOX_KEY set to `key`."""
    found = re.search(r"<pre><code>(curl [^<]+)</code></pre>", page)
    assert found, "no curl example on the page"
    words = shlex.split(html.unescape(found.group(1)).replace("$SANDBOX_KEY", key))
    method, headers, body = "GET", {}, None
    for flag, value in zip(words[1:-1:2], words[2:-1:2], strict=True):
        if flag == "-X":
            method = value
        elif flag == "-H":
            name, _, text = value.partition(": ")
            headers[name] = text
        else:
            assert flag == "-d", flag
            body = value.encode()
    assert words[-1].startswith("http://testserver/sandbox/nts/nts-businessman/")
    return startup.hub.client.request(method, words[-1], headers=headers, content=body)


def test_a_colleague_joins_at_once_and_an_outsider_is_invited(startup: Startup) -> None:
    hub = startup.hub
    colleague = hub.make_user("qa@startup.kr", name="이검사")
    with hub.session() as s:
        service.add_member(s, actor=CLI, org=service.get_org_by_slug(s, "startup"),
                           data=schemas.MembershipCreate(email=colleague.email, role="member"))
    partner = hub.make_user("partner@agency.go.kr", name="박협력")
    assert startup.act("/members", {"email": colleague.email}).status_code == 200
    added = startup.act("/members", {"email": partner.email})
    assert added.status_code == 200
    assert "이검사 &lt;qa@startup.kr&gt; · 구성원" in added.text
    assert "박협력 &lt;partner@agency.go.kr&gt; · 외부 협력자 <span class=\"tag\">초대됨</span>" \
        in added.text
    twice = startup.act("/members", {"email": partner.email})
    assert twice.status_code == 409 and "partner@agency.go.kr" in twice.text
    # the invitation waits on the partner's testbed page
    browser = visitor(hub, partner)
    assert browser.get(startup.page).status_code == 403
    home = browser.get("/testbed")
    assert f"샌드박스 프로젝트 {PROJECT}에 초대되었습니다" in home.text
    assert f"{PROJECT} 참여" in home.text
    assert f'<a href="{startup.page}">{PROJECT}</a>' not in home.text   # not in it yet
    joined = browser.submit("/testbed", f"{startup.page}/accept")
    assert joined.status_code == 200 and f"<h1>{PROJECT}</h1>" in joined.text
    after = browser.get("/testbed").text
    assert f'<a href="{startup.page}">{PROJECT}</a>' in after and f"{PROJECT} 참여" not in after
    # the notice stays until read
    read = browser.submit("/testbed", "/testbed/notices/read")
    assert read.status_code == 200
    assert "초대되었습니다" not in read.text and 'action="/testbed/notices/read"' not in read.text


def test_a_service_is_pointed_at_a_server_and_back(startup: Startup) -> None:
    pointed = startup.act("/upstream", {"service": "nts/nts-businessman",
                                        "upstream_url": "http://127.0.0.1:9/api"})
    assert pointed.status_code == 200
    assert "검증 프록시 대상 <code>http://127.0.0.1:9/api</code>" in pointed.text
    wrong = startup.act("/upstream", {"service": "nts/nts-businessman",
                                      "upstream_url": "ftp://127.0.0.1/api"})
    assert wrong.status_code == 422
    assert "upstream_url은 http:// 또는 https:// 주소여야 합니다" in wrong.text
    back = startup.act("/upstream", {"service": "nts/nts-businessman", "upstream_url": ""})
    assert back.status_code == 200 and "검증 프록시 대상" not in back.text


def test_the_inspector_shows_only_the_calls_that_broke_the_contract(startup: Startup) -> None:
    key = startup.new_key()
    client = startup.hub.client
    for body in ({"b_no": ["2208162517"]}, {"numbers": ["2208162517"]}):
        client.post("/sandbox/nts/nts-businessman/status", headers={"X-API-Key": key},
                    json=body)
    every = startup.browser.get(startup.page)
    assert every.text.count("<code>POST /sandbox/nts/nts-businessman/status</code>") == 2
    broken = startup.browser.get(startup.page, params={"valid": "no"})
    assert broken.text.count("<code>POST /sandbox/nts/nts-businessman/status</code>") == 1
    assert '<option value="no" selected>' in broken.text
    assert "b_no" in broken.text and "<td>400</td>" in broken.text
    assert '<ul lang="en">' in broken.text          # the contract's words, said in English
    kept = startup.browser.get(startup.page, params={"valid": "yes"})
    assert "<td>200</td>" in kept.text and "<td>400</td>" not in kept.text


def test_a_question_is_answered_published_and_found_in_the_faq(startup: Startup) -> None:
    hub = startup.hub
    helper = supporter(hub)
    asked = startup.act("/tickets", {
        "title": "목업이 400을 줍니다", "question": "b_no를 문자열로 보내면 왜 400인가요?",
        "category": "api", "priority": "high", "consent_to_publish": "on"})
    assert asked.status_code == 200
    assert '<p class="flash" role="status">문의를 지원 창구에 보냈습니다.</p>' in asked.text
    assert "목업이 400을 줍니다" in asked.text
    [ticket] = startup.browser.get("/api/v1/testbed/tickets").json()
    path = f"/testbed/tickets/{ticket['id']}"
    mine = startup.browser.get("/testbed/tickets")
    assert "<h1>내 문의</h1>" in mine.text and path in mine.text
    # support staff see it in the queue and answer it
    staff = visitor(hub, helper)
    queue = staff.get("/testbed/tickets")
    assert "<h1>지원 대기열</h1>" in queue.text and "목업이 400을 줍니다" in queue.text
    assert '<span class="tag">답변 대기</span>' in queue.text
    assert "새 지원 문의: 목업이 400을 줍니다" in staff.get("/testbed").text
    answered = staff.submit(path, f"{path}/answers",
                            {"body": "b_no는 문자열 배열입니다: [\"2208162517\"]"})
    assert answered.status_code == 200
    assert "b_no는 문자열 배열입니다" in answered.text
    # the asker is told on their testbed page
    home = startup.browser.get("/testbed")
    assert "문의에 답변이 달렸습니다: 목업이 400을 줍니다" in home.text
    # published, it is the FAQ (and found by a search)
    published = staff.submit(path, f"{path}/actions", {"action": "publish"})
    assert published.status_code == 200
    assert 'value="publish"' not in published.text
    public = visitor(hub)
    faq = public.get("/testbed/faq")
    assert "목업이 400을 줍니다" in faq.text and "b_no는 문자열 배열입니다" in faq.text
    assert "<h3>지원 창구의 답변</h3>" in faq.text
    assert "김개발" not in faq.text                                  # no names
    assert "목업이 400을 줍니다" in public.get("/testbed/faq", params={"q": "문자열"}).text
    nothing = public.get("/testbed/faq", params={"q": "합성데이터"})
    assert "목업이 400을 줍니다" not in nothing.text
    assert "아직 공개된 답변이 없습니다." in nothing.text
    assert f'href="/testbed/faq#q{ticket["id"]}"' in public.get("/testbed").text


def test_the_asker_closes_and_reopens_a_question(startup: Startup) -> None:
    startup.act("/tickets", {"title": "키가 안 됩니다", "question": "401이 옵니다",
                             "category": "api", "priority": "normal"})
    [ticket] = startup.browser.get("/api/v1/testbed/tickets").json()
    path = f"/testbed/tickets/{ticket['id']}"
    closed = startup.browser.submit(path, f"{path}/actions", {"action": "close"})
    assert closed.status_code == 200 and 'value="reopen"' in closed.text
    assert f'action="{path}/answers"' not in closed.text             # no answers to a closed one
    publish = startup.browser.client.post(f"{path}/actions", data={
        "csrf_token": csrf_of(closed.text), "action": "publish"})
    assert publish.status_code == 403                    # staff publish, and only with consent
    assert "테스트베드 지원 담당자만 할 수 있습니다" in publish.text
    reopened = startup.browser.submit(path, f"{path}/actions", {"action": "reopen"})
    assert reopened.status_code == 200 and f'action="{path}/answers"' in reopened.text


def test_strangers_get_a_page_saying_why(startup: Startup) -> None:
    hub = startup.hub
    startup.act("/tickets", {"title": "질문", "question": "내용", "category": "data",
                             "priority": "low"})
    [ticket] = startup.browser.get("/api/v1/testbed/tickets").json()
    stranger = visitor(hub, hub.make_user("stranger@example.com"))
    for path in (startup.page, f"/testbed/tickets/{ticket['id']}"):
        refused = stranger.get(path)
        assert refused.status_code == 403, path
        assert "이 프로젝트 또는 안심구역의 참여자만 할 수 있습니다" in refused.text
        assert "<code>forbidden</code>" in refused.text
    token = csrf_of(stranger.get("/testbed").text)
    posted = stranger.client.post(f"{startup.page}/keys", data={"csrf_token": token})
    assert posted.status_code == 403
    assert startup.api("/keys") == []
    missing = stranger.get("/testbed/projects/9999")
    assert missing.status_code == 404


@pytest.mark.parametrize("path", ["/testbed/projects/1", "/testbed/tickets",
                                  "/testbed/validations/1", "/testbed/tickets/1"])
def test_a_signed_out_visitor_is_sent_to_sign_in(sqlite_hub: Hub, path: str) -> None:
    answer = visitor(sqlite_hub).get(path, follow_redirects=False)
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert location.path == "/signin"
    assert parse_qs(location.query)["next"] == [path]


def test_pages_speak_korean_by_default_and_english_when_asked(sqlite_hub: Hub) -> None:
    korean = visitor(sqlite_hub)
    english = visitor(sqlite_hub, **{"accept-language": "en-US,en;q=0.9"})
    home_ko, home_en = korean.get("/testbed"), english.get("/testbed")
    assert '<html lang="ko">' in home_ko.text and "<h1>테스트베드</h1>" in home_ko.text
    assert "자주 묻는 질문" in home_ko.text
    assert '<html lang="en">' in home_en.text and "<h1>Testbed</h1>" in home_en.text
    assert "Frequently asked" in home_en.text
    faq_ko, faq_en = korean.get("/testbed/faq"), english.get("/testbed/faq")
    assert "<h1>테스트베드 FAQ</h1>" in faq_ko.text and "아직 공개된 답변이 없습니다." in faq_ko.text
    assert "<h1>Testbed FAQ</h1>" in faq_en.text and "No published answers yet." in faq_en.text


def test_the_first_answer_time_counts_on_the_hubs_clock(startup: Startup) -> None:
    hub = startup.hub
    helper = supporter(hub)
    now = utcnow()
    hub.app.state.clock = lambda: now
    startup.act("/tickets", {"title": "목업 응답이 느립니다", "question": "왜 그런가요?",
                             "category": "api", "priority": "normal"})
    [ticket] = startup.browser.get("/api/v1/testbed/tickets").json()
    path = f"/testbed/tickets/{ticket['id']}"
    hub.app.state.clock = lambda: now + timedelta(minutes=90)
    answered = visitor(hub, helper).submit(path, f"{path}/answers",
                                           {"body": "캐시를 확인해 보세요", "close": "on"})
    assert answered.status_code == 200
    assert "첫 답변: 90 분" in answered.text and "해결까지: 90 분" in answered.text


def test_a_member_who_reads_english_gets_the_project_in_english(startup: Startup) -> None:
    hub = startup.hub
    reader = hub.make_user("qa@startup.kr", name="Jane QA", language="en")
    with hub.session() as s:
        service.add_member(s, actor=CLI, org=service.get_org_by_slug(s, "startup"),
                           data=schemas.MembershipCreate(email=reader.email, role="member"))
    page = visitor(hub, reader).get(startup.page)
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert '<h2 id="keys">Sandbox keys</h2>' in page.text
    assert '<span class="tag">In development</span>' in page.text
    korean = startup.browser.get(startup.page).text
    assert '<h2 id="keys">샌드박스 키</h2>' in korean


def test_numbers_beyond_64_bits_in_the_forms_are_refused_naming_the_field(
        startup: Startup) -> None:
    huge = str(2**63)
    asked = startup.act("/tickets", {"title": "질문", "question": "내용", "category": "api",
                                     "priority": "normal", "request": huge})
    assert asked.status_code == 422 and "request: " in asked.text
    staged = startup.act("/stage", {"stage": "validated", "validation": huge})
    assert staged.status_code == 422 and "validation: " in staged.text
    filtered = startup.browser.get(startup.page, params={"status": "9" * 25})
    assert filtered.status_code == 200                       # no filter, not a 500
    assert startup.browser.get("/api/v1/testbed/tickets").json() == []

"""Portal notices: every domain leaves its lines in identity's one table; a person reads their
own — on a domain's page that domain's, on /notices all of them — and nobody else's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from dpghub.identity import service
from dpghub.identity.policy import ANONYMOUS
from tests.conftest import Hub
from tests.support.identity import csrf_of, sign_in

T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
INVITED = "You are invited to the sandbox project {name}"
SELECTED = "Your application {title} to {call} was selected: {reason}"
FEEDBACK = "Your feedback #{number} on {service} is now {status}"


def _leave(hub: Hub, user_id: int) -> None:
    """Three domains' notices to one person, an hour apart (the agile one newest)."""
    with hub.session() as s:
        service.notify(s, user_id, INVITED, "/testbed/projects/1", domain="testbed", now=T,
                       name="실험실")
        service.notify(s, user_id, SELECTED, "/programmes/applications/2",
                       domain="programmes", now=T + timedelta(hours=1), title="지원서",
                       call="공모", reason="평가 1위")
        service.notify(s, user_id, FEEDBACK, "", domain="agile", now=T + timedelta(hours=2),
                       number=7, service="민원", status="planned")


def test_a_domain_reads_its_own_notices_and_the_inbox_all_of_them_newest_first(
        hub: Hub) -> None:
    kim = hub.make_user()
    _leave(hub, kim.id)
    actor = hub.actor(kim)
    with hub.session() as s:
        everything = service.of_user(s, actor=actor)
        assert [(n.domain, n.text) for n in everything] == [
            ("agile", FEEDBACK), ("programmes", SELECTED), ("testbed", INVITED)]
        assert everything[2].params == {"name": "실험실"}
        assert everything[2].created_at == T                   # the caller's clock
        assert [n.text for n in service.of_user(s, actor=actor, domain="programmes")] == \
            [SELECTED]
        assert service.of_user(s, actor=actor, domain="privacy") == []
        assert [n.domain for n in service.of_user(s, actor=actor, limit=2)] == \
            ["agile", "programmes"]


def test_marking_read_touches_only_the_actors_notices_of_that_domain(hub: Hub) -> None:
    kim, lee = hub.make_user(), hub.make_user()
    _leave(hub, kim.id)
    _leave(hub, lee.id)
    kim_actor, lee_actor = hub.actor(kim), hub.actor(lee)
    with hub.session() as s:
        assert service.mark_read(s, actor=kim_actor, domain="testbed", now=T) == 1
    with hub.session() as s:
        unread = service.of_user(s, actor=kim_actor, unread_only=True)
        assert [n.domain for n in unread] == ["agile", "programmes"]
        read = service.of_user(s, actor=kim_actor, domain="testbed")[0]
        assert read.read_at == T
        assert service.unread_count(s, actor=kim_actor) == 2
        assert service.unread_count(s, actor=lee_actor) == 3     # lee's are untouched
        assert service.mark_read(s, actor=kim_actor) == 2         # every domain at once
    with hub.session() as s:
        assert service.unread_count(s, actor=kim_actor) == 0
        assert service.unread_count(s, actor=lee_actor) == 3
        assert service.mark_read(s, actor=ANONYMOUS) == 0


def test_nobody_reads_another_persons_notices(hub: Hub) -> None:
    kim, lee = hub.make_user(), hub.make_user()
    _leave(hub, kim.id)
    with hub.session() as s:
        assert service.of_user(s, actor=hub.actor(lee)) == []
        assert service.unread_count(s, actor=hub.actor(lee)) == 0
        assert service.of_user(s, actor=ANONYMOUS) == []
        assert service.unread_count(s, actor=ANONYMOUS) == 0


def test_a_visitor_is_sent_to_sign_in_for_the_inbox(hub: Hub) -> None:
    visitor = hub.browser()
    token = csrf_of(visitor.get("/signin").text)
    for method, data in (("GET", None), ("POST", {"csrf_token": token})):
        path = "/notices" if method == "GET" else "/notices/read"
        answer = visitor.request(method, path, data=data, follow_redirects=False)
        assert answer.status_code == 303
        location = urlsplit(answer.headers["location"])
        assert (location.path, parse_qs(location.query)["next"]) == ("/signin", [path])
    assert 'href="/notices"' not in visitor.get("/").text     # no inbox link signed out


def test_the_inbox_page_shows_every_domain_in_korean_and_marks_all_read(hub: Hub) -> None:
    kim, lee = hub.make_user(), hub.make_user()
    _leave(hub, kim.id)
    with hub.session() as s:
        service.notify(s, lee.id, INVITED, "/testbed/projects/9", domain="testbed",
                       name="남의 프로젝트")
    browser = hub.browser()
    assert sign_in(browser, kim.email).status_code == 303

    home = browser.get("/")
    assert '<a href="/notices">알림 <span class="tag warn">3</span></a>' in home.text
    page = browser.get("/notices")
    assert page.status_code == 200
    html = page.text
    lines = [html.index(text) for text in (
        "민원에 남긴 의견 #7의 상태가 planned(으)로 바뀌었습니다",
        "공모에 낸 신청서 지원서이(가) 선정되었습니다: 평가 1위",
        "샌드박스 프로젝트 실험실에 초대되었습니다")]
    assert lines == sorted(lines)                                   # newest first
    for label in ('href="/testbed">테스트베드', 'href="/programmes">공모·사업',
                  'href="/agile">애자일 사업', 'href="/testbed/projects/1"',
                  'href="/programmes/applications/2"'):
        assert label in html
    assert "남의 프로젝트" not in html                              # lee's notice is lee's

    read = browser.post("/notices/read", data={"csrf_token": csrf_of(html)})
    assert read.status_code == 200 and str(read.url).endswith("/notices")
    assert 'action="/notices/read"' not in read.text            # nothing left to mark
    assert '<a href="/notices">알림</a>' in read.text
    assert "샌드박스 프로젝트 실험실에 초대되었습니다" in read.text   # read, still listed
    with hub.session() as s:
        assert service.unread_count(s, actor=hub.actor(lee)) == 1


def test_a_domains_page_marks_only_its_own_notices_read(hub: Hub) -> None:
    kim = hub.make_user()
    _leave(hub, kim.id)
    browser = hub.browser()
    assert sign_in(browser, kim.email).status_code == 303
    testbed = browser.get("/testbed").text
    assert "샌드박스 프로젝트 실험실에 초대되었습니다" in testbed
    assert "선정되었습니다" not in testbed                          # programmes' stays there
    browser.post("/testbed/notices/read", data={"csrf_token": csrf_of(testbed)})
    with hub.session() as s:
        assert [n.domain for n in service.of_user(s, actor=hub.actor(kim), unread_only=True)] \
            == ["agile", "programmes"]

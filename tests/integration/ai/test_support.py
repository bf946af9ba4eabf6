"""The AI-support programme after its call: a company selected in an `ai_support` call is a
supported company (one selected in another programme's call is not); support staff record
consulting and education sessions, which the attending companies read and no one else; lead
cases are everyone's once public; bad input is refused naming its field; the programme's
figures are exact; the page (/ai) in Korean and English, with its forms."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dpghub.ai.service import ledger
from dpghub.core.audit import AuditEvent
from dpghub.identity.models import User
from tests.conftest import Hub
from tests.support.agile import DOCUMENT
from tests.support.programmes import CLOSES, World, make_world
from tests.support.testbed_pages import supporter, visitor

NOW = datetime(2026, 5, 20, 3, 0, tzinfo=UTC)       # May 2026 in Seoul


@dataclass
class Programme:
    w: World
    helper: User                 # the programme's support staff
    agreement: int               # alpha's agreement of the ai_support call
    call: int

    @property
    def hub(self) -> Hub:
        return self.w.hub

    def post(self, path: str, user: User | None, body: dict[str, Any]) -> httpx.Response:
        return self.hub.client.post(path, json=body,
                                    headers=self.hub.bearer(user) if user else {})

    def get(self, path: str, user: User | None = None, **params: Any) -> httpx.Response:
        return self.hub.client.get(path, params=params,
                                   headers=self.hub.bearer(user) if user else {})

    def session(self, user: User | None = None, **overrides: Any) -> httpx.Response:
        body = {"kind": "consulting", "title": "RAG 구성 컨설팅", "topics": ["RAG"],
                "held_on": "2026-04-10", "hours": 2.5, "orgs": ["alpha"], "attendees": 3,
                "materials": ["https://hub.example.kr/files/rag.pdf"], **overrides}
        return self.post("/api/v1/ai/support/sessions", user or self.helper, body)

    def case(self, user: User | None = None, **overrides: Any) -> httpx.Response:
        body = {"agency": "mois", "supplier": "alpha", "title": "민원 안내 AI 상담원",
                "description": "정부24 민원 안내", "status": "in_progress", **overrides}
        return self.post("/api/v1/ai/lead-cases", user or self.helper, body)


def _selected(w: World, programme: str, winner: tuple[User, str], loser: tuple[User, str]
              ) -> tuple[int, int]:
    """A call of the programme, two applicants, the winner selected: (call, agreement)."""
    w.at(CLOSES - timedelta(days=10))
    call = w.call(programme=programme, title=f"2026 {programme} 공모")
    chosen = w.apply(winner[0], call["id"], winner[1])
    other = w.apply(loser[0], call["id"], loser[1])
    w.at(CLOSES + timedelta(hours=1))
    decided = w.hub.client.post(f"/api/v1/programmes/calls/{call['id']}/selection", json={
        "selected": [{"application": chosen["id"], "reason": "평가 1위"}],
        "declined": [{"application": other["id"], "reason": "점수 미달"}],
        "starts_on": "2026-04-01", "ends_on": "2026-12-31", "deliverables": ["AI 서비스"]},
        headers=w.hub.bearer(w.operator))
    assert decided.status_code == 200, decided.text
    return call["id"], decided.json()["agreements"][0]


def make_programme(hub: Hub, language: str = "ko") -> Programme:
    """alpha wins the ai_support call (gamma does not); beta wins an agile call."""
    w = make_world(hub, language=language)
    call, agreement = _selected(w, "ai_support", (w.company_a_admin, "alpha"),
                                (w.rival_editor, "gamma"))
    _selected(w, "agile", (w.company_b_admin, "beta"), (w.agency_editor, "mois"))
    w.at(NOW)
    return Programme(w, supporter(hub, "ai-help@nia.or.kr"), agreement, call)


def test_a_company_selected_in_an_ai_support_call_is_supported(hub: Hub) -> None:
    p = make_programme(hub)
    found = p.get("/api/v1/ai/programme").json()         # public, no sign-in
    assert found["companies"] == 1
    assert [(c["org"]["slug"], [k["id"] for k in c["calls"]], c["granted_tokens"])
            for c in found["supported"]] == [("alpha", [p.call], None)]


def test_sessions_are_read_by_the_attending_companies_and_the_staff_only(hub: Hub) -> None:
    p = make_programme(hub)
    w = p.w
    made = p.session(orgs=["alpha", "beta"], attendees=4)
    assert made.status_code == 201, made.text
    assert [o["slug"] for o in made.json()["orgs"]] == ["alpha", "beta"]
    assert made.json()["hours"] == 2.5
    assert p.session(w.company_a_admin).status_code == 403      # companies do not record

    def titles(user: User, **params: Any) -> list[str]:
        answer = p.get("/api/v1/ai/support/sessions", user, **params)
        assert answer.status_code == 200, answer.text
        return [s["title"] for s in answer.json()]

    for reader in (w.company_a_admin, w.conflicted, w.company_b_admin, p.helper, w.operator):
        assert titles(reader) == ["RAG 구성 컨설팅"], reader.email
    assert titles(w.company_a_admin, org="alpha") == ["RAG 구성 컨설팅"]
    assert titles(w.rival_editor) == []                          # gamma attended none
    assert titles(w.agency_editor) == []
    assert p.get("/api/v1/ai/support/sessions", w.rival_editor, org="alpha").status_code == 403
    assert p.get("/api/v1/ai/support/sessions").status_code == 401
    with hub.session() as s:
        event = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "ai.support.session.create")).one()
    assert event.details["orgs"] == ["alpha", "beta"] and event.details["hours"] == 2.5


def test_a_lead_case_is_everyones_once_public(hub: Hub) -> None:
    p = make_programme(hub)
    w = p.w
    shown = p.case(public=True, title="공개 사례")
    hidden = p.case(supplier="beta", title="준비 중 사례", status="planned")
    assert shown.status_code == 201 and hidden.status_code == 201, hidden.text
    assert p.case(w.agency_editor).status_code == 403            # staff record them

    def titles(user: User | None) -> set[str]:
        return {c["title"] for c in p.get("/api/v1/ai/lead-cases", user).json()}

    assert titles(None) == titles(w.rival_editor) == titles(w.company_a_admin) == {"공개 사례"}
    both = {"공개 사례", "준비 중 사례"}
    # the agency's and the supplier's people, the staff and operators see it before
    assert titles(w.agency_editor) == titles(w.company_b_admin) == titles(p.helper) == both
    assert titles(w.operator) == both

    case = hidden.json()["id"]
    refused = hub.client.patch(f"/api/v1/ai/lead-cases/{case}", json={"public": True},
                               headers=hub.bearer(w.agency_editor))
    assert refused.status_code == 403
    missing = hub.client.patch("/api/v1/ai/lead-cases/999", json={"public": True},
                               headers=hub.bearer(p.helper))
    assert missing.status_code == 404
    changed = hub.client.patch(f"/api/v1/ai/lead-cases/{case}", json={
        "public": True, "status": "completed", "outcome": "상담 대기 40% 단축"},
        headers=hub.bearer(p.helper))
    assert changed.status_code == 200, changed.text
    assert (changed.json()["status"], changed.json()["public"]) == ("completed", True)
    assert titles(None) == both
    with hub.session() as s:
        event = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "ai.leadcase.update")).one()
    assert event.details["changes"]["status"] == ["planned", "completed"]
    assert event.details["changes"]["public"] == [False, True]
    assert set(event.details["changes"]) == {"status", "public", "outcome"}


def test_a_lead_case_names_a_registered_service(hub: Hub) -> None:
    p = make_programme(hub)
    registered = p.post("/api/v1/orgs/alpha/services", p.w.company_a_admin, {
        "slug": "minwon-bot", "title_ko": "민원 챗봇", "upstream_url": "https://x.test/api",
        "openapi": DOCUMENT})
    assert registered.status_code == 201, registered.text
    made = p.case(service="alpha/minwon-bot")
    assert made.status_code == 201, made.text
    assert made.json()["service"] == "alpha/minwon-bot"
    unlinked = hub.client.patch(f"/api/v1/ai/lead-cases/{made.json()['id']}",
                                json={"service": None}, headers=hub.bearer(p.helper))
    assert unlinked.json()["service"] is None


REFUSALS = [
    ("session", {"hours": -1}, "hours", "invalid"),
    ("session", {"hours": 0}, "hours", "invalid"),
    ("session", {"held_on": "2026-02-30"}, "held_on", "invalid"),
    ("session", {"held_on": "지난주"}, "held_on", "invalid"),
    ("session", {"held_on": 20260410}, "held_on", "invalid"),
    ("session", {"orgs": ["alpha", "nobody"]}, "orgs.1", "unknown_org"),
    ("session", {"orgs": ["alpha", "alpha"]}, "orgs.1", "duplicate_org"),
    ("session", {"orgs": []}, "orgs", "invalid"),
    ("session", {"materials": ["ftp://hub.example.kr/a.pdf"]}, "materials.0", "invalid"),
    ("session", {"materials": ["javascript:alert(1)"]}, "materials.0", "invalid"),
    ("session", {"kind": "party"}, "kind", "invalid"),
    ("session", {"title": "a\x00b"}, "title", "invalid"),        # PostgreSQL keeps no NUL
    ("session", {"topics": ["RAG", "\x00"]}, "topics.1", "invalid"),
    ("case", {"agency": "nobody"}, "agency", "unknown_org"),
    ("case", {"agency": "alpha", "supplier": "beta"}, "agency", "not_an_agency"),
    ("case", {"supplier": "nobody"}, "supplier", "unknown_org"),
    ("case", {"supplier": "mois"}, "supplier", "supplier_is_agency"),
    ("case", {"service": "minwon-bot"}, "service", "bad_reference"),
    ("case", {"service": "alpha/none"}, "service", "unknown_service"),
    ("case", {"service": "alpha/\x00"}, "service", "invalid"),
    ("case", {"outcome": "\x00"}, "outcome", "invalid"),
    ("case", {"status": "finished"}, "status", "invalid"),
    ("case", {"public": "yes"}, "public", "invalid"),
]


def test_bad_input_is_refused_naming_the_field(hub: Hub) -> None:
    p = make_programme(hub)
    for kind, overrides, field, code in REFUSALS:
        answer = p.session(**overrides) if kind == "session" else p.case(**overrides)
        assert answer.status_code == 422, (overrides, answer.text)
        assert (answer.json()["field"], answer.json()["code"]) == (field, code), overrides
    assert p.get("/api/v1/ai/support/sessions", p.helper).json() == []   # nothing kept
    assert p.get("/api/v1/ai/lead-cases", p.helper).json() == []
    case = p.case().json()["id"]
    for body, field in (({"status": None}, "status"), ({"agency": "beta"}, "agency"),
                        ({"service": "alpha/none"}, "service")):
        answer = hub.client.patch(f"/api/v1/ai/lead-cases/{case}", json=body,
                                  headers=hub.bearer(p.helper))
        assert (answer.status_code, answer.json()["field"]) == (422, field), body
    kept = p.get("/api/v1/ai/lead-cases", p.helper).json()[0]
    assert (kept["agency"]["slug"], kept["status"]) == ("mois", "in_progress")


def _grant(p: Programme, org: str, month: str, tokens: int) -> None:
    granted = p.hub.client.put(f"/api/v1/ai/budgets/{org}", json={"tokens": tokens,
                                                                  "month": month},
                               headers=p.hub.bearer(p.w.operator))
    assert granted.status_code == 200, granted.text


def _spend(p: Programme, org_id: int, at: datetime, tokens_in: int, tokens_out: int) -> None:
    with p.hub.session() as s:
        ledger.write(s, [{"at": at.timestamp(), "request_id": f"r{at.timestamp()}",
                          "org_id": org_id, "alias": "hcx", "input_tokens": tokens_in,
                          "output_tokens": tokens_out, "status": 200, "outcome": "ok"}])


def test_the_programme_figures_are_exact(hub: Hub) -> None:
    p = make_programme(hub)
    w = p.w
    _grant(p, "alpha", "2026-04", 1_000_000)
    _grant(p, "alpha", "2026-05", 500_000)
    _grant(p, "gamma", "2026-05", 9_999)          # not selected: not the programme's
    _grant(p, "beta", "2026-05", 7_777)           # selected, but in an agile call
    # 2026-04-30 16:00 UTC is already May in Seoul
    _spend(p, w.company_a.id, datetime(2026, 4, 12, 5, tzinfo=UTC), 1000, 200)
    _spend(p, w.company_a.id, datetime(2026, 4, 30, 16, tzinfo=UTC), 300, 100)
    _spend(p, w.rival.id, datetime(2026, 5, 2, tzinfo=UTC), 50, 50)
    assert p.session().status_code == 201                                 # April, 2.5 h
    assert p.session(kind="education", title="프롬프트 실습", held_on="2026-05-12",
                     hours=3.25, orgs=["alpha", "gamma"], attendees=14).status_code == 201
    assert p.session(held_on="2025-01-05", hours=1).status_code == 201   # before the window
    assert p.case(public=True).status_code == 201
    assert p.case(status="planned").status_code == 201

    public = p.get("/api/v1/ai/programme").json()
    assert (public["companies"], public["granted_tokens"], public["spent_tokens"]) == (
        1, 1_500_000, 1600)
    assert (public["sessions"], public["consulting"], public["education"], public["hours"],
            public["attendees"]) == (3, 2, 1, 6.75, 20)
    assert public["lead_cases"] == {"planned": 0, "in_progress": 1, "completed": 0,
                                    "stopped": 0}
    months = {m["month"]: m for m in public["months"]}
    assert list(months)[0] == "2025-06" and list(months)[-1] == "2026-05"
    assert months["2026-04"] == {"month": "2026-04", "granted_tokens": 1_000_000,
                                 "spent_tokens": 1200, "sessions": 1, "hours": 2.5}
    assert months["2026-05"] == {"month": "2026-05", "granted_tokens": 500_000,
                                 "spent_tokens": 400, "sessions": 1, "hours": 3.25}
    assert sum(m["sessions"] for m in months.values()) == 2
    assert public["supported"][0]["spent_tokens"] is None       # each company's: staff only

    for staff in (p.helper, w.operator):
        seen = p.get("/api/v1/ai/programme", staff).json()
        assert [(c["org"]["slug"], c["granted_tokens"], c["spent_tokens"], c["sessions"])
                for c in seen["supported"]] == [("alpha", 1_500_000, 1600, 3)]
        assert seen["lead_cases"]["planned"] == 1
    window = p.get("/api/v1/ai/programme", **{"from": "2026-04", "to": "2026-05"}).json()
    assert [m["month"] for m in window["months"]] == ["2026-04", "2026-05"]
    assert window["granted_tokens"] == 1_500_000                # totals: every month
    bad = p.get("/api/v1/ai/programme", **{"from": "2026-13"})
    assert (bad.status_code, bad.json()["field"]) == (422, "from")


def _words(page: str) -> str:
    import html
    import re

    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


@pytest.mark.parametrize("language", ["ko", "en"])
def test_the_programme_page(hub: Hub, language: str) -> None:
    p = make_programme(hub, language=language)
    w = p.w
    _grant(p, "alpha", "2026-05", 500_000)
    reported = p.post(f"/api/v1/programmes/agreements/{p.agreement}/reports",
                      w.company_a_admin, {"text": "챗봇 1차 배포", "figures": {"users": 120}})
    assert reported.status_code == 201, reported.text

    anonymous = visitor(hub, **{"accept-language": language})
    page = anonymous.get("/ai")
    assert page.status_code == 200, page.text
    assert f'<html lang="{language}">' in page.text
    shown = _words(page.text)
    assert ("기관 alpha" if language == "ko" else "Org alpha") in shown
    assert ("진행 보고" if language == "ko" else "Progress reports") not in shown
    assert 'action="/ai/sessions"' not in page.text and "<svg" in page.text
    assert "500,000" in shown

    company = visitor(hub, w.company_a_admin)
    assert "챗봇 1차 배포" in _words(company.get("/ai").text)     # its agreement's reports

    staff = visitor(hub, p.helper)
    refused = staff.submit("/ai", "/ai/sessions", {
        "kind": "education", "title": "프롬프트 실습", "held_on": "2026-05-12", "hours": "-2",
        "orgs": "alpha"})
    assert refused.status_code == 422 and "hours" in _words(refused.text)
    assert 'value="프롬프트 실습"' in refused.text                  # what was typed stays
    recorded = staff.submit("/ai", "/ai/sessions", {
        "kind": "education", "title": "프롬프트 실습", "topics": "프롬프트, RAG",
        "held_on": "2026-05-12", "hours": "3.5", "orgs": "alpha, beta", "attendees": "12",
        "materials": "https://hub.example.kr/files/a.pdf\nhttps://hub.example.kr/b"})
    assert recorded.status_code == 200, recorded.text
    assert 'href="https://hub.example.kr/b"' in recorded.text
    made = staff.submit("/ai", "/ai/lead-cases", {
        "agency": "mois", "supplier": "alpha", "title": "민원 AI 상담원",
        "status": "in_progress"})
    assert made.status_code == 200, made.text
    case = p.get("/api/v1/ai/lead-cases", p.helper).json()[0]
    assert (case["title"], case["public"]) == ("민원 AI 상담원", False)
    assert "민원 AI 상담원" not in _words(anonymous.get("/ai").text)
    staff.submit("/ai", f"/ai/lead-cases/{case['id']}", {
        "status": "completed", "outcome": "대기 40% 단축", "public": "on"})
    seen = _words(anonymous.get("/ai").text)
    assert "민원 AI 상담원" in seen and "대기 40% 단축" in seen
    assert "프롬프트 실습" not in seen                        # sessions: not for visitors
    assert "프롬프트 실습" in _words(company.get("/ai").text)

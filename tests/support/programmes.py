"""The people of the programmes journey: an operator of the hub; a public agency (행정안전부)
leading a consortium with two companies; a rival startup applying alone; two reviewers from
outside, and a third who works at one of the consortium's companies (a conflict). The hub's
clock is the test's: it stands still unless the test moves it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from dpghub.identity.models import Organization, Role, User
from tests.conftest import Hub

OPENS = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)          # 09:00 in Seoul
CLOSES = datetime(2026, 3, 31, 9, 0, tzinfo=UTC)        # 18:00 in Seoul
CRITERIA = [{"id": "feasibility", "name": "실현 가능성", "weight": 40, "max_score": 10},
            {"id": "impact", "name": "공공 효과", "weight": 60, "max_score": 20}]
QUESTIONS = [{"id": "plan", "text": "추진 계획", "required": True},
             {"id": "team", "text": "참여 인력", "required": False}]


@dataclass
class World:
    hub: Hub
    operator: User
    agency_editor: User
    company_a_admin: User
    company_b_admin: User
    rival_editor: User
    reviewers: list[User]
    conflicted: User
    agency: Organization
    company_a: Organization
    company_b: Organization
    rival: Organization
    now: list[datetime] = field(default_factory=lambda: [OPENS + timedelta(days=1)])

    def at(self, when: datetime) -> None:
        self.now[0] = when

    def call(self, **overrides: Any) -> dict[str, Any]:
        body = {"programme": "agile", "title": "2026 애자일 혁신 서비스 공모",
                "description": "국민 체감형 서비스를 애자일로 개발합니다",
                "eligibility": "공공기관 주관 컨소시엄", "opens_at": OPENS.isoformat(),
                "closes_at": CLOSES.isoformat(), "questions": QUESTIONS,
                "criteria": CRITERIA, "select_count": 1, "budget_krw": 400_000_000,
                **overrides}
        made = self.hub.client.post("/api/v1/programmes/calls", json=body,
                                    headers=self.hub.bearer(self.operator))
        assert made.status_code == 201, made.text
        return made.json()

    def apply(self, user: User, call_id: int, org: str, members: list[str] | None = None,
              answers: dict[str, str] | None = None, submit: bool = True) -> dict[str, Any]:
        made = self.hub.client.post(
            f"/api/v1/programmes/calls/{call_id}/applications",
            json={"org": org, "title": f"{org}의 서비스", "members": members or [],
                  "answers": {"plan": "2주 단위 반복으로 개발"} if answers is None else answers},
            headers=self.hub.bearer(user))
        assert made.status_code == 201, made.text
        if submit:
            sent = self.hub.client.post(
                f"/api/v1/programmes/applications/{made.json()['id']}/submit",
                headers=self.hub.bearer(user))
            assert sent.status_code == 200, sent.text
            return sent.json()
        return made.json()

    def assign(self, call_id: int, user: User) -> dict[str, Any]:
        made = self.hub.client.post(f"/api/v1/programmes/calls/{call_id}/reviewers",
                                    json={"email": user.email},
                                    headers=self.hub.bearer(self.operator))
        assert made.status_code == 201, made.text
        return made.json()

    def score(self, user: User, application_id: int, feasibility: float, impact: float):  # type: ignore[no-untyped-def]
        return self.hub.client.post(
            f"/api/v1/programmes/applications/{application_id}/scores",
            json={"feasibility": {"score": feasibility, "comment": "계획이 구체적"},
                  "impact": {"score": impact, "comment": "효과가 큼"}},
            headers=self.hub.bearer(user))


def make_world(hub: Hub, language: str = "ko") -> World:
    operator = hub.make_user("ops@nia.or.kr", operator=True, name="운영자", language=language)
    agency_editor = hub.make_user("editor@mois.go.kr", name="행안부 담당", language=language)
    company_a_admin = hub.make_user("ceo@alpha.co.kr", name="알파 대표", language=language)
    company_b_admin = hub.make_user("ceo@beta.co.kr", name="베타 대표", language=language)
    rival_editor = hub.make_user("dev@gamma.co.kr", name="감마 개발", language=language)
    reviewers = [hub.make_user(f"reviewer{i}@univ.ac.kr", name=f"평가위원 {i}",
                               language=language) for i in (1, 2)]
    conflicted = hub.make_user("reviewer@alpha.co.kr", name="알파 소속 위원",
                               language=language)
    agency = hub.make_org("mois", members={agency_editor: Role.editor})
    company_a = hub.make_org("alpha", kind="company",
                             members={company_a_admin: Role.admin, conflicted: Role.member})
    company_b = hub.make_org("beta", kind="company", members={company_b_admin: Role.admin})
    rival = hub.make_org("gamma", kind="company", members={rival_editor: Role.editor})
    world = World(hub, operator, agency_editor, company_a_admin, company_b_admin, rival_editor,
                  reviewers, conflicted, agency, company_a, company_b, rival)
    hub.app.state.clock = lambda: world.now[0]
    return world

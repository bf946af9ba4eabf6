"""The people of the agile journey: an agency (행정안전부) leading a consortium with two
companies, building the registered service `mois/minwon-guide`; two citizens; an outsider; an
operator. The hub's clock is the test's: it stands still unless the test moves it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from dpghub.identity.models import Organization, Role, User
from tests.conftest import Hub

START = datetime(2026, 5, 4, 0, 0, tzinfo=UTC)            # Monday 09:00 in Seoul
DOCUMENT = {"openapi": "3.0.3", "info": {"title": "민원 안내", "version": "1"},
            "paths": {"/guide": {"get": {"summary": "안내", "responses": {
                "200": {"description": "ok"}}}}}}


@dataclass
class World:
    hub: Hub
    operator: User
    lead_editor: User
    alpha_admin: User
    beta_admin: User
    citizens: list[User]
    outsider: User
    agency: Organization
    alpha: Organization
    beta: Organization
    now: list[datetime] = field(default_factory=lambda: [START])
    tokens: dict[int, dict[str, str]] = field(default_factory=dict)

    def at(self, when: datetime) -> None:
        self.now[0] = when

    def auth(self, user: User) -> dict[str, str]:
        if user.id not in self.tokens:
            self.tokens[user.id] = self.hub.bearer(user)
        return self.tokens[user.id]

    def post(self, path: str, user: User | None, body: dict[str, Any] | None = None,
             **headers: str) -> Any:
        sent = {**(self.auth(user) if user else {}), **headers}
        return self.hub.client.post(path, json=body or {}, headers=sent)

    def patch(self, path: str, user: User, body: dict[str, Any]) -> Any:
        return self.hub.client.patch(path, json=body, headers=self.auth(user))

    def get(self, path: str, user: User | None = None) -> Any:
        return self.hub.client.get(path, headers=self.auth(user) if user else {})

    def project(self, **overrides: Any) -> dict[str, Any]:
        body = {"org": "mois", "name": "민원 안내 서비스", "goal": "민원 처리 시간을 절반으로",
                "members": ["alpha", "beta"], "service": "mois/minwon-guide",
                "starts_on": "2026-05-01", "ends_on": "2026-12-31", **overrides}
        made = self.post("/api/v1/agile/projects", self.lead_editor, body)
        assert made.status_code == 201, made.text
        return made.json()

    def ci_token(self, project_id: int) -> str:
        made = self.post(f"/api/v1/agile/projects/{project_id}/tokens", self.lead_editor,
                         {"name": "github-actions"})
        assert made.status_code == 201, made.text
        return str(made.json()["token"])

    def item(self, project_id: int, title: str, estimate: float | None = None,
             **more: Any) -> dict[str, Any]:
        made = self.post(f"/api/v1/agile/projects/{project_id}/items", self.alpha_admin,
                         {"title": title, "estimate": estimate, **more})
        assert made.status_code == 201, made.text
        return made.json()

    def feedback(self, user: User | None, text: str = "진행 상황을 알 수 없어요",
                 kind: str = "idea", **more: Any) -> Any:
        return self.post("/api/v1/services/mois/minwon-guide/feedback", user,
                         {"text": text, "kind": kind, **more})

    def deploy(self, project_id: int, token: str, version: str, commits: list[datetime],
               deployed_at: datetime, status: str = "success") -> Any:
        return self.hub.client.post(
            f"/api/v1/agile/projects/{project_id}/deployments",
            headers={"X-Agile-Token": token},
            json={"version": version, "deployed_at": deployed_at.isoformat(), "status": status,
                  "commits": [{"sha": f"{i:07x}abc", "committed_at": c.isoformat()}
                              for i, c in enumerate(commits, start=1)]})


def make_world(hub: Hub, language: str = "ko") -> World:
    operator = hub.make_user("ops@nia.or.kr", operator=True, name="운영자", language=language)
    lead_editor = hub.make_user("pm@mois.go.kr", name="행안부 PM", language=language)
    alpha_admin = hub.make_user("dev@alpha.co.kr", name="알파 개발", language=language)
    beta_admin = hub.make_user("ux@beta.co.kr", name="베타 디자인", language=language)
    citizens = [hub.make_user(f"citizen{i}@example.com", name=f"시민 {i}", language=language)
                for i in (1, 2, 3)]
    outsider = hub.make_user("someone@gamma.co.kr", name="감마", language=language)
    agency = hub.make_org("mois", members={lead_editor: Role.editor})
    alpha = hub.make_org("alpha", kind="company", members={alpha_admin: Role.admin})
    beta = hub.make_org("beta", kind="company", members={beta_admin: Role.admin})
    hub.make_org("gamma", kind="company", members={outsider: Role.admin})
    world = World(hub, operator, lead_editor, alpha_admin, beta_admin, citizens, outsider,
                  agency, alpha, beta)
    hub.app.state.clock = lambda: world.now[0]
    registered = world.post("/api/v1/orgs/mois/services", lead_editor, {
        "slug": "minwon-guide", "title_ko": "민원 안내", "upstream_url": "https://x.test/api",
        "openapi": DOCUMENT})
    assert registered.status_code == 201, registered.text
    return world

"""A company on the AI gateway, as the AI tests make it: an operator who registered the
scripted provider (aliases `hcx` for chat, `embed` for embeddings), an organization `startup`
with a member and an app's key, and the `openai` SDK over the hub's test client."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import openai
from sqlalchemy import select

from dpghub.ai.models import LedgerEntry
from tests.conftest import Hub
from tests.support.scripted_model import ScriptedModel

NOW = datetime(2026, 5, 14, 3, 0, tzinfo=UTC)      # May in Seoul


@dataclass
class Company:
    hub: Hub
    model: ScriptedModel
    operator: Any
    member: Any
    key: str
    app_id: int

    def sdk(self, key: str | None = None) -> openai.OpenAI:
        """The SDK as users make it; its HTTP client is the hub's test client."""
        return openai.OpenAI(base_url="http://testserver/ai/v1", api_key=key or self.key,
                             http_client=self.hub.client, max_retries=0)

    def grant(self, tokens: int, org: str = "startup") -> httpx.Response:
        return self.hub.client.put(f"/api/v1/ai/budgets/{org}", json={"tokens": tokens},
                                   headers=self.hub.bearer(self.operator))

    def ledger(self) -> list[LedgerEntry]:
        self.hub.app.state.ai.flush()
        with self.hub.session() as s:
            return list(s.scalars(select(LedgerEntry).order_by(LedgerEntry.id)))

    def budget(self) -> dict[str, Any]:
        self.hub.app.state.ai.flush()
        return self.hub.client.get("/api/v1/ai/budgets/startup",
                                   headers=self.hub.bearer(self.member)).json()


def make_company(hub: Hub, model: ScriptedModel, **provider: Any) -> Company:
    hub.app.state.clock = lambda: NOW
    operator = hub.make_user(operator=True)
    registered = hub.client.post("/api/v1/ai/providers", headers=hub.bearer(operator), json={
        "name": "scripted", "base_url": model.base_url, "api_key": model.key,
        "models": [{"alias": "hcx", "model": "scripted-chat", "context": 4096,
                    "price_in": 0.5, "price_out": 2.0},
                   {"alias": "embed", "model": "scripted-embed", "kind": "embedding",
                    "context": 8192, "price_in": 0.1, "price_out": 0}], **provider})
    assert registered.status_code == 201, registered.text
    member = hub.make_user()
    hub.make_org("startup", admin=member, kind="company")
    made = hub.client.post("/api/v1/orgs/startup/apps", headers=hub.bearer(member),
                           json={"name": "민원 챗봇"})
    assert made.status_code == 201, made.text
    return Company(hub, model, operator, member, made.json()["key"], made.json()["id"])


MESSAGES = [{"role": "system", "content": "당신은 민원 안내원입니다"},
            {"role": "user", "content": "여권 발급 서류를 알려 주세요"}]

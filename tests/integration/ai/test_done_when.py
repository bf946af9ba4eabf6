"""Issue 18's "done when", in one path as a new company meets it: it applies to the AI-support
call, two reviewers score, it is selected, the operator grants 1,000,000 tokens under its
agreement, the company makes an app, uses the `openai` SDK against `/ai/v1` with the app's key
(a whole answer and a stream), reads its usage and what is left, and is refused with a clear
message once the credit is spent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import openai
import pytest

from tests.conftest import Hub
from tests.support import programmes
from tests.support.ai import MESSAGES
from tests.support.scripted_model import ScriptedModel, usage

MAY = datetime(2026, 5, 14, 3, 0, tzinfo=UTC)


def test_a_company_from_application_to_spent_credit(hub: Hub,
                                                    scripted_model: ScriptedModel) -> None:
    w = programmes.make_world(hub)
    operator = hub.bearer(w.operator)
    call = w.call(programme="ai_support", title="2026 초거대 AI 활용지원")
    applied = w.apply(w.rival_editor, call["id"], "gamma",
                      answers={"plan": "민원 상담 챗봇을 HyperCLOVA X로 만듭니다"})
    for reviewer in w.reviewers:
        w.assign(call["id"], reviewer)
    w.at(programmes.CLOSES + timedelta(hours=1))
    for reviewer, marks in zip(w.reviewers, ((8, 9), (7, 8)), strict=True):
        assert w.score(reviewer, applied["id"], *marks).status_code == 200
    selected = hub.client.post(f"/api/v1/programmes/calls/{call['id']}/selection", json={
        "selected": [{"application": applied["id"], "reason": "실현 가능성 우수"}],
        "starts_on": "2026-04-01", "ends_on": "2026-12-31"}, headers=operator)
    assert selected.status_code == 200, selected.text
    agreement = selected.json()["agreements"][0]

    registered = hub.client.post("/api/v1/ai/providers", headers=operator, json={
        "name": "clova-studio", "base_url": scripted_model.base_url,
        "api_key": scripted_model.key,
        "models": [{"alias": "hcx", "model": "scripted-chat", "context": 4096,
                    "price_in": 0.5, "price_out": 2.0}]})
    assert registered.status_code == 201, registered.text
    w.at(MAY)
    granted = hub.client.put("/api/v1/ai/budgets/gamma", headers=operator,
                             json={"tokens": 1_000_000, "agreement": agreement})
    assert granted.status_code == 200, granted.text
    assert granted.json()["month"] == "2026-05"

    member = hub.bearer(w.rival_editor)
    app = hub.client.post("/api/v1/orgs/gamma/apps", headers=member, json={"name": "민원 챗봇"})
    assert app.status_code == 201, app.text
    sdk = openai.OpenAI(base_url="http://testserver/ai/v1", api_key=app.json()["key"],
                        http_client=hub.client, max_retries=0)
    answer = sdk.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    assert answer.choices[0].message.content == "echo: 여권 발급 서류를 알려 주세요"
    chunks = list(sdk.chat.completions.create(
        model="hcx", messages=MESSAGES, stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == \
        "echo: 여권 발급 서류를 알려 주세요"
    per_call = usage(MESSAGES, "echo: 여권 발급 서류를 알려 주세요")["total_tokens"]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == per_call

    hub.app.state.ai.flush()               # the ledger's writer, without waiting half a second
    budget = hub.client.get("/api/v1/ai/budgets/gamma", headers=member).json()
    assert (budget["granted"], budget["used"], budget["left"]) == (
        1_000_000, 2 * per_call, 1_000_000 - 2 * per_call)
    used = hub.client.get("/api/v1/ai/usage", params={"org": "gamma"}, headers=member).json()
    assert (used["calls"], used["input_tokens"] + used["output_tokens"]) == (2, 2 * per_call)
    assert [(r["day"], r["model"], r["calls"]) for r in used["rows"]] == [
        ("2026-05-14", "hcx", 2)]

    # the operator's grant is lowered to what is spent: the next call is refused, before it
    # reaches the provider, in words the company can act on
    lowered = hub.client.put("/api/v1/ai/budgets/gamma", headers=operator,
                             json={"tokens": 2 * per_call, "agreement": agreement})
    assert lowered.status_code == 200, lowered.text
    before = len(scripted_model.calls())
    with pytest.raises(openai.RateLimitError) as refused:
        sdk.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    assert refused.value.code == "insufficient_quota"
    assert f"0 of {2 * per_call} tokens left for 2026-05" in refused.value.message
    assert len(scripted_model.calls()) == before

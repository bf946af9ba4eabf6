"""The AI gateway as a company uses it: the `openai` SDK, unchanged, with `base_url` at the
hub's `/ai/v1` and an app's key, against a scripted provider process on loopback. Answers,
streams and usage pass through; the ledger holds the provider's own token counts; credit
runs out with a clear 429; faults come back in OpenAI's shape."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import openai
import pytest
from sqlalchemy import select

from dpghub.ai.limits import TokenRate
from dpghub.ai.models import Provider
from dpghub.ai.wire import estimate_tokens
from dpghub.core.audit import AuditEvent
from tests.conftest import Hub
from tests.support.ai import MESSAGES, Company, make_company
from tests.support.scripted_model import ScriptedModel, usage


@pytest.fixture
def company(hub: Hub, scripted_model: ScriptedModel) -> Company:
    return make_company(hub, scripted_model)


def test_a_call_and_a_stream_with_the_sdk_and_their_ledger(company: Company) -> None:
    assert company.grant(1_000_000).status_code == 200
    client = company.sdk()
    answer = client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    assert answer.choices[0].message.content == "echo: 여권 발급 서류를 알려 주세요"
    expected = usage(MESSAGES, "echo: 여권 발급 서류를 알려 주세요")
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (  # type: ignore[union-attr]
        expected["prompt_tokens"], expected["completion_tokens"])

    # a stream whose caller asks for the usage chunk gets it, last, then [DONE]
    chunks = list(client.chat.completions.create(
        model="hcx", messages=MESSAGES, stream=True,  # type: ignore[arg-type]
        stream_options={"include_usage": True}))
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: 여권 발급 서류를 알려 주세요"
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == expected["total_tokens"]  # type: ignore[union-attr]
    # one that does not ask gets none, but the hub counts it all the same
    quiet = list(client.chat.completions.create(model="hcx", messages=MESSAGES, stream=True))  # type: ignore[arg-type]
    assert all(c.usage is None for c in quiet) and quiet[-1].choices
    sent = company.model.calls()[-1]["body"]
    assert sent["stream_options"] == {"include_usage": True} and sent["model"] == "scripted-chat"
    assert "authorization" not in company.model.calls()[-1]["headers"]  # shown to no one

    rows = company.ledger()
    assert [(r.alias, r.stream, r.input_tokens, r.output_tokens, r.outcome) for r in rows] == [
        ("hcx", False, expected["prompt_tokens"], expected["completion_tokens"], "ok"),
        ("hcx", True, expected["prompt_tokens"], expected["completion_tokens"], "ok"),
        ("hcx", True, expected["prompt_tokens"], expected["completion_tokens"], "ok")]
    cost = (expected["prompt_tokens"] * 0.5 + expected["completion_tokens"] * 2.0) / 1000
    assert float(rows[0].cost_krw) == pytest.approx(cost)
    assert all(r.app_id == company.app_id and r.ttft_ms is not None for r in rows)
    left = company.budget()
    assert (left["granted"], left["used"]) == (1_000_000, 3 * expected["total_tokens"])
    with company.hub.session() as s:
        batches = list(s.scalars(select(AuditEvent).where(AuditEvent.action == "ai.ledger.batch")))
    assert sum(b.details["calls"] for b in batches) == 3    # every row under the audit chain

    used = company.hub.client.get("/api/v1/ai/usage", params={"org": "startup"},
                                  headers=company.hub.bearer(company.member)).json()
    assert (used["calls"], used["rows"][0]["day"], used["rows"][0]["model"]) == (
        3, "2026-05-14", "hcx")


def test_embeddings_and_the_models_a_key_may_use(company: Company) -> None:
    client = company.sdk()
    assert [m.id for m in client.models.list()] == []        # no credit, no models
    company.grant(10_000)
    assert [m.id for m in client.models.list()] == ["embed", "hcx"]
    vectors = client.embeddings.create(model="embed", input=["서울 도서관", "부산 충전소"])
    assert len(vectors.data) == 2 and vectors.usage.prompt_tokens == 4
    assert company.ledger()[-1].kind == "embedding"
    with pytest.raises(openai.BadRequestError) as wrong:
        client.embeddings.create(model="hcx", input="x")
    assert wrong.value.code == "wrong_model_kind"


def test_the_credit_runs_out_with_a_clear_429(company: Company) -> None:
    client = company.sdk()
    with pytest.raises(openai.RateLimitError) as none:
        client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    assert none.value.code == "insufficient_quota" and "no AI credit for 2026-05" in str(
        none.value)
    one_call = usage(MESSAGES, "echo: 여권 발급 서류를 알려 주세요")["total_tokens"]
    needed = estimate_tokens({"messages": MESSAGES})       # the hub's cautious guess, before
    assert needed > one_call                               # the provider counts
    company.grant(needed + 5)
    client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    calls = len(company.model.calls())
    with pytest.raises(openai.RateLimitError) as over:
        client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    assert "would go over your organization's AI credit" in str(over.value)
    assert len(company.model.calls()) == calls             # refused before it was sent
    assert company.budget()["left"] == needed + 5 - one_call


def test_refusals_in_openais_shape(company: Company) -> None:
    company.grant(1_000_000)
    with pytest.raises(openai.AuthenticationError) as bad_key:
        company.sdk("dpk_not-a-key").chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    assert bad_key.value.code == "invalid_api_key"
    client = company.sdk()
    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="gpt-9", messages=MESSAGES)  # type: ignore[arg-type]
    assert unknown.value.code == "model_not_found"
    long = [{"role": "user", "content": "가" * 20_000}]
    with pytest.raises(openai.BadRequestError) as too_long:
        client.chat.completions.create(model="hcx", messages=long)  # type: ignore[arg-type]
    assert too_long.value.code == "context_length_exceeded"
    assert company.model.calls() == []                      # none of it reached the provider
    raw = company.hub.client.post("/ai/v1/chat/completions", content=b"{not json",
                                  headers={"Authorization": f"Bearer {company.key}"})
    assert raw.status_code == 400 and raw.json()["error"]["code"] == "invalid_json"
    # a revoked key is refused from the next call
    keys = company.hub.client.get(f"/api/v1/apps/{company.app_id}",
                                  headers=company.hub.bearer(company.member)).json()["keys"]
    revoked = company.hub.client.delete(f"/api/v1/apps/{company.app_id}/keys/{keys[0]['id']}",
                                        headers=company.hub.bearer(company.member))
    assert revoked.status_code == 200, revoked.text
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]


def test_retries_fallbacks_and_a_provider_that_fails(
        hub: Hub, scripted_model: ScriptedModel) -> None:
    company = make_company(hub, scripted_model)
    company.grant(1_000_000)
    client = company.sdk()
    # two 503s, then an answer: retried with back-off on the same provider
    scripted_model.script({"status": 503}, {"status": 429})
    answer = client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    assert answer.choices[0].message.content.startswith("echo:")  # type: ignore[union-attr]
    assert [c["status"] for c in scripted_model.calls()] == [503, 429, 200]
    # three failures: the provider's own words come back
    scripted_model.reset()
    scripted_model.script(*[{"status": 500, "error": {"message": "GPU 부족"}}] * 3)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    # an answer that is not JSON is a 502 naming the fault, not a string in the SDK's hands
    scripted_model.script({"non_json": True})
    with pytest.raises(openai.APIStatusError) as broken:
        client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    assert broken.value.status_code == 502 and broken.value.code == "provider_bad_answer"
    # a stream broken off after 3 chunks: the SDK raises, the ledger keeps what was sent
    scripted_model.script({"broken_stream_after": 3})
    with pytest.raises(openai.APIError):
        list(client.chat.completions.create(model="hcx", messages=MESSAGES, stream=True))  # type: ignore[arg-type]
    last = company.ledger()[-1]
    assert (last.outcome, last.fault) == ("provider_error", "provider_broken_stream")
    # no usage chunk came: the hub's estimate of the prompt, one token per piece sent
    assert (last.input_tokens, last.output_tokens) == (estimate_tokens({"messages": MESSAGES}),
                                                       2)


def test_the_secret_is_sealed_and_never_shown(company: Company) -> None:
    listed = company.hub.client.get("/api/v1/ai/providers",
                                    headers=company.hub.bearer(company.operator))
    assert listed.status_code == 200 and listed.json()[0]["has_secret"] is True
    assert company.model.key not in listed.text
    with company.hub.session() as s:
        stored = s.scalars(select(Provider)).one()
        assert company.model.key.encode() not in (stored.secret_sealed or b"")
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.action ==
                                                          "ai.provider.create")))
    assert company.model.key not in str(events[0].details)
    member = company.hub.client.get("/api/v1/ai/providers",
                                    headers=company.hub.bearer(company.member))
    assert member.status_code == 403


def test_credit_granted_under_an_ai_support_selection(hub: Hub) -> None:
    """The programme's path: a company selected in an `ai_support` call gets its credit under
    that agreement (the budget's source says so); an agreement of another programme, or of
    another organization, is refused and changes nothing."""
    from tests.support import programmes

    p = programmes.make_world(hub)
    support = p.call(programme="ai_support", title="초거대 AI 활용지원")
    agile = p.call(programme="agile")
    picked = p.apply(p.rival_editor, support["id"], "gamma")
    other = p.apply(p.rival_editor, agile["id"], "gamma")
    p.at(programmes.CLOSES + timedelta(hours=1))
    agreements = {}
    for call, application in ((support, picked), (agile, other)):
        decided = hub.client.post(f"/api/v1/programmes/calls/{call['id']}/selection", json={
            "selected": [{"application": application["id"], "reason": "선정"}],
            "starts_on": "2026-04-01", "ends_on": "2026-12-31"},
            headers=hub.bearer(p.operator))
        assert decided.status_code == 200, decided.text
        agreements[call["programme"]] = decided.json()["agreements"][0]
    path, operator = "/api/v1/ai/budgets/gamma", hub.bearer(p.operator)
    wrong = hub.client.put(path, headers=operator, json={"tokens": 1_000_000,
                                                         "agreement": agreements["agile"]})
    assert (wrong.status_code, wrong.json()["code"], wrong.json()["field"]) == (
        422, "not_an_ai_support_selection", "agreement")
    foreign = hub.client.put("/api/v1/ai/budgets/mois", headers=operator, json={
        "tokens": 5, "agreement": agreements["ai_support"]})
    assert foreign.status_code == 422
    granted = hub.client.put(path, headers=operator, json={
        "tokens": 1_000_000, "month": "2026-05", "agreement": agreements["ai_support"]})
    assert granted.status_code == 200, granted.text
    assert (granted.json()["granted"], granted.json()["source"]) == (
        1_000_000, f"ai_support:agreement:{agreements['ai_support']}")
    member = hub.client.put(path, headers=hub.bearer(p.rival_editor), json={"tokens": 10**9})
    assert member.status_code == 403                      # no one grants themselves credit


def test_requests_and_tokens_per_minute(company: Company) -> None:
    company.grant(1_000_000)
    client = company.sdk()
    company.hub.app.state.settings.ai_requests_per_minute = 1
    client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    with pytest.raises(openai.RateLimitError) as fast:
        client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    assert fast.value.code == "rate_limit_exceeded" and "1 calls a minute" in str(fast.value)
    assert int(fast.value.response.headers["retry-after"]) >= 1
    company.hub.app.state.settings.ai_requests_per_minute = 0
    # tokens: a minute's worth at once, then wait; the clock is the test's
    now = [1000.0]
    company.hub.app.state.ai.tokens = TokenRate(100, clock=lambda: now[0])
    client.chat.completions.create(model="hcx", messages=MESSAGES)   # type: ignore[arg-type]
    with pytest.raises(openai.RateLimitError) as heavy:
        client.chat.completions.create(model="hcx", messages=MESSAGES * 4)  # type: ignore[arg-type]
    assert "100 tokens a minute" in str(heavy.value)
    now[0] += 60
    client.chat.completions.create(model="hcx", messages=MESSAGES)   # type: ignore[arg-type]


def test_personal_data_in_prompts_is_masked_when_the_organization_asks(
        company: Company) -> None:
    company.grant(1_000_000)
    client = company.sdk()
    said = [{"role": "user", "content": "제 주민번호 900101-1234567, 전화 010-1234-5678, "
                                        "메일 hong@example.com 카드 4111 1111 1111 1111"}]
    client.chat.completions.create(model="hcx", messages=said)  # type: ignore[arg-type]
    assert "900101-1234567" in company.model.calls()[-1]["body"]["messages"][0]["content"]
    path = "/api/v1/ai/settings/startup"
    outsider = company.hub.make_user()
    refused = company.hub.client.put(path, json={"mask_prompts": True},
                                     headers=company.hub.bearer(outsider))
    assert refused.status_code == 403
    turned = company.hub.client.put(path, json={"mask_prompts": True},
                                    headers=company.hub.bearer(company.member))
    assert turned.status_code == 200 and turned.json()["mask_prompts"] is True
    client.chat.completions.create(model="hcx", messages=said)  # type: ignore[arg-type]
    left = company.model.calls()[-1]["body"]["messages"][0]["content"]
    assert left == ("제 주민번호 900101-1******, 전화 010-****-5678, 메일 h***@example.com "
                    "카드 4111 **** **** 1111")
    client.embeddings.create(model="embed", input=["연락처 010-9876-5432"])
    assert company.model.calls()[-1]["body"]["input"] == ["연락처 010-****-5432"]

    # typed in full-width mode, or cut across two text parts of one message: found all the same
    client.chat.completions.create(model="hcx", messages=[  # type: ignore[arg-type]
        {"role": "user", "content": "주민번호 ９００１０１－１２３４５６７ 입니다"},
        {"role": "user", "content": [
            {"type": "text", "text": "전화는 010-1234-"},
            {"type": "text", "text": "5678 이고 "},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            {"type": "text", "text": "끝"}]}])
    first, second = company.model.calls()[-1]["body"]["messages"]
    assert first["content"] == "주민번호 900101-1****** 입니다"
    assert second["content"] == [
        {"type": "text", "text": "전화는 010-****-5678 이고 "},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
        {"type": "text", "text": "끝"}]


def test_a_dead_provider_falls_back_to_the_next_and_a_slow_one_times_out(
        hub: Hub, scripted_model: ScriptedModel) -> None:
    from tests.support.loopback import free_port

    company = make_company(hub, scripted_model, position=1)        # the scripted one second
    dead = hub.client.post("/api/v1/ai/providers", headers=hub.bearer(company.operator), json={
        "name": "down", "base_url": f"http://127.0.0.1:{free_port()}/v1", "position": 0,
        "models": [{"alias": "hcx", "model": "m", "context": 4096, "price_in": 9,
                    "price_out": 9}]})
    assert dead.status_code == 201, dead.text
    company.grant(1_000_000)
    client = company.sdk()
    answer = client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    assert answer.choices[0].message.content.startswith("echo:")  # type: ignore[union-attr]
    last = company.ledger()[-1]
    with hub.session() as s:
        served_by = s.get(Provider, last.provider_id).name  # type: ignore[union-attr]
    assert served_by == "scripted" and float(last.cost_krw) < 1    # its prices, not 9 KRW
    # a provider that hangs: 504 after the timeout, not asked again for that call
    hub.app.state.settings.ai_timeout_seconds = 1.0
    scripted_model.script({"hang": True})
    with pytest.raises(openai.APIStatusError) as slow:
        client.chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    assert (slow.value.status_code, slow.value.code) == (504, "provider_timeout")


def test_a_client_that_leaves_mid_stream_closes_the_providers_stream_and_is_counted(
        hub: Hub, scripted_model: ScriptedModel) -> None:
    """The ASGI handler itself, with a client that goes after the first pieces: the provider
    sees its connection closed, the ledger records what was used."""
    import asyncio
    import json

    from dpghub.ai.proxy import AiGateway

    company = make_company(hub, scripted_model)
    company.grant(1_000_000)
    long = [{"role": "user", "content": " ".join(["단어"] * 200)}]
    scripted_model.script({"token_delay_ms": 20})
    sent: list[dict[str, Any]] = []
    body = json.dumps({"model": "hcx", "messages": long, "stream": True}).encode()

    async def run() -> AiGateway:
        gateway = AiGateway(hub.app.state)
        pieces = asyncio.Event()
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop()
            await pieces.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if message["type"] == "http.response.body" and message.get("body", b"").count(
                    b"data:") and sum(m.get("body", b"").count(b"data:") for m in sent) >= 5:
                pieces.set()

        scope = {"type": "http", "method": "POST", "path": "/ai/v1/chat/completions",
                 "headers": [(b"authorization", f"Bearer {company.key}".encode()),
                             (b"content-type", b"application/json")], "query_string": b""}
        await gateway(scope, receive, send)
        await gateway.close()
        return gateway

    gateway = asyncio.run(run())
    gateway.flush()
    [row] = company.ledger()
    assert (row.outcome, row.status, row.stream) == ("client_gone", 499, True)
    assert 3 <= row.output_tokens < 200 and row.input_tokens > 0
    seen = scripted_model.wait_calls(lambda calls: bool(calls) and calls[-1]["disconnected"])
    assert seen[-1]["completed"] is False


def test_the_usage_page_shows_credit_days_and_models(company: Company) -> None:
    from tests.support.identity import sign_in

    company.grant(1_000_000)
    company.sdk().chat.completions.create(model="hcx", messages=MESSAGES)  # type: ignore[arg-type]
    company.sdk().embeddings.create(model="embed", input="도서관")
    company.ledger()                         # written, as the hub's loop does within 0.5 s
    browser = company.hub.browser()
    sign_in(browser, company.member.email)
    page = browser.get("/ai/usage")
    assert page.status_code == 200
    assert "2026-05-14" in page.text and "<svg" in page.text
    assert "<code>hcx</code>" in page.text and "<code>embed</code>" in page.text
    assert "1,000,000" in page.text                       # granted this month
    outsider = company.hub.browser()
    sign_in(outsider, company.hub.make_user().email)
    refused = outsider.get("/ai/usage?org=startup")
    assert refused.status_code == 403
    assert "AI 사용량을 볼 수 있는 기관에 속해 있지 않습니다" in outsider.get("/ai/usage").text

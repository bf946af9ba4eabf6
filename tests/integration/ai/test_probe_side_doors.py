"""Side doors of the AI domain, probed as an attacker with an account or an app key would.

Tests whose docstring starts "FINDING (severity)" fail on purpose until the hole is closed;
the others are regression guards of what holds."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from dpghub.ai.models import LedgerEntry
from dpghub.core.audit import AuditEvent
from tests.conftest import Hub
from tests.support.ai import MESSAGES, Company, make_company
from tests.support.identity import csrf_of
from tests.support.scripted_model import ScriptedModel
from tests.support.testbed_pages import supporter, visitor

SECRET = "sk-provider-secret-0123456789"


class Recorder:
    """A bare HTTP provider on loopback that keeps every request exactly as it came (head and
    body) and answers a fixed chat completion, so the tests see every header the hub sends."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(self.loop)
            self.server = self.loop.run_until_complete(
                asyncio.start_server(self._handle, "127.0.0.1", 0))
            self.port = self.server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()
        assert ready.wait(5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                found = re.search(rb"(?im)^content-length: *(\d+)", head)
                body = await reader.readexactly(int(found.group(1))) if found else b""
                self.requests.append(head + body)
                answer = json.dumps({
                    "id": "rec-1", "object": "chat.completion", "created": 0, "model": "rec",
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": "ok"}}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 1,
                              "total_tokens": 4}}).encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n" % len(answer) + answer)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    def head(self, i: int = -1) -> str:
        return self.requests[i].split(b"\r\n\r\n", 1)[0].decode("latin-1")

    def body(self, i: int = -1) -> Any:
        return json.loads(self.requests[i].split(b"\r\n\r\n", 1)[1])

    async def _stop(self) -> None:
        self.server.close()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self.loop).result(5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    found = Recorder()
    yield found
    found.close()


@pytest.fixture
def company(hub: Hub, scripted_model: ScriptedModel) -> Company:
    return make_company(hub, scripted_model)


def _provider(company: Company, name: str, base_url: str, alias: str, *,
              key: str | None = SECRET, position: int = 0, kind: str = "chat",
              user: Any = None) -> httpx.Response:
    body: dict[str, Any] = {"name": name, "base_url": base_url, "position": position,
                            "models": [{"alias": alias, "model": f"{name}-model", "kind": kind,
                                        "context": 100_000, "price_in": 1, "price_out": 1}]}
    if key is not None:
        body["api_key"] = key
    return company.hub.client.post("/api/v1/ai/providers", json=body,
                                   headers=company.hub.bearer(user or company.operator))


def _rival(company: Company) -> tuple[Any, str, int]:
    """Another company with its own admin and app: the attacker."""
    hub = company.hub
    admin = hub.make_user()
    hub.make_org("rival", admin=admin, kind="company")
    made = hub.client.post("/api/v1/orgs/rival/apps", headers=hub.bearer(admin),
                           json={"name": "경쟁사 앱"})
    assert made.status_code == 201, made.text
    return admin, made.json()["key"], made.json()["id"]


def _call(company: Company, key: str, body: Any, path: str = "chat/completions",
          **headers: str) -> httpx.Response:
    return company.hub.client.post(f"/ai/v1/{path}", headers={
        "authorization": f"Bearer {key}", **headers},
        content=body if isinstance(body, bytes) else json.dumps(body).encode())


# --- one organization and another ------------------------------------------------------------


def test_another_organization_reads_and_changes_nothing_of_ours(company: Company) -> None:
    """Budgets, settings and usage of `startup` (by slug, by its app's id, through the API
    and the usage page) are closed to the admin of `rival`; budgets to every non-operator."""
    hub = company.hub
    assert company.grant(100_000).status_code == 200
    assert _call(company, company.key, {"model": "hcx", "messages": MESSAGES}).status_code == 200
    admin, _, _ = _rival(company)
    them = hub.bearer(admin)
    assert hub.client.get("/api/v1/ai/budgets/startup", headers=them).status_code == 403
    assert hub.client.put("/api/v1/ai/budgets/rival", json={"tokens": 10**9},
                          headers=them).status_code == 403          # not even its own
    assert hub.client.put("/api/v1/ai/budgets/startup", json={"tokens": 0},
                          headers=hub.bearer(company.member)).status_code == 403
    assert hub.client.get("/api/v1/ai/settings/startup", headers=them).status_code == 403
    assert hub.client.put("/api/v1/ai/settings/startup", json={"mask_prompts": False},
                          headers=them).status_code == 403
    assert hub.client.get("/api/v1/ai/usage", params={"org": "startup"},
                          headers=them).status_code == 403
    by_app = hub.client.get("/api/v1/ai/usage", params={"app": company.app_id}, headers=them)
    assert by_app.status_code in (403, 404) and "hcx" not in by_app.text
    page = visitor(hub, admin).client
    for params in ({"org": "startup"}, {"app": company.app_id}):
        shown = page.get("/ai/usage", params=params)
        assert shown.status_code in (403, 404) and "hcx" not in shown.text
    mine = page.get("/ai/usage")
    assert mine.status_code == 200 and "startup" not in mine.text
    assert company.budget()["granted"] == 100_000


def test_an_app_key_spends_its_own_organizations_credit_only(company: Company) -> None:
    """A key of `rival` (no credit) is refused although `startup` has credit; a call of
    `startup`'s key is counted to `startup` alone."""
    assert company.grant(100_000).status_code == 200
    _, key, app_id = _rival(company)
    refused = _call(company, key, {"model": "hcx", "messages": MESSAGES})
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "insufficient_quota"
    models = company.hub.client.get("/ai/v1/models", headers={"authorization": f"Bearer {key}"})
    assert models.json()["data"] == []
    assert _call(company, company.key, {"model": "hcx", "messages": MESSAGES}).status_code == 200
    rows = company.ledger()
    with company.hub.session() as s:
        rival_id = s.scalar(select(LedgerEntry.org_id).where(LedgerEntry.app_id == app_id))
    assert [(r.app_id, r.input_tokens) for r in rows if r.org_id == rival_id] == [(app_id, 0)]
    assert company.budget()["used"] == sum(r.input_tokens + r.output_tokens for r in rows
                                           if r.app_id == company.app_id)


# --- what reaches the provider -----------------------------------------------------------------


def test_only_the_providers_own_secret_reaches_it(company: Company, recorder: Recorder,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """The provider gets its own secret as `Authorization`, the hub's own request id, and the
    JSON body: never the caller's key (Bearer or X-API-Key), cookies, or the caller's request
    id; the secret is in no answer, listing, audit event, ledger row or log line."""
    assert company.grant(100_000).status_code == 200
    assert _provider(company, "rec", recorder.base_url, "rec").status_code == 201
    answer = _call(company, company.key, {"model": "rec", "messages": MESSAGES},
                   **{"x-request-id": "attacker-chosen", "x-api-key": company.key,
                      "cookie": "dpghub_session=stolen", "x-forwarded-for": "10.0.0.1"})
    assert answer.status_code == 200, answer.text
    head = recorder.head().lower()
    assert head.count("authorization:") == 1 and f"authorization: bearer {SECRET}" in head
    assert company.key.lower() not in head and company.key not in recorder.requests[-1].decode()
    for leaked in ("attacker-chosen", "x-api-key", "cookie", "stolen", "x-forwarded-for"):
        assert leaked not in head
    hub_id = answer.headers["x-request-id"]
    assert hub_id.startswith("ai") and f"x-request-id: {hub_id}" in head
    assert recorder.body()["model"] == "rec-model"

    listed = company.hub.client.get("/api/v1/ai/providers",
                                    headers=company.hub.bearer(company.operator))
    everything = [answer.text, str(answer.headers), listed.text, caplog.text]
    with company.hub.session() as s:
        everything += [str(e.details) for e in s.scalars(select(AuditEvent))]
    everything += [str(vars(r)) for r in company.ledger()]
    assert not [t for t in everything if SECRET in t]


def test_a_fallback_never_gets_the_first_providers_secret(company: Company,
                                                         recorder: Recorder) -> None:
    """The first candidate of an alias (in a refused network, with a secret) fails; the
    fallback (no secret) is called without any `Authorization`."""
    assert company.grant(100_000).status_code == 200
    assert _provider(company, "first", "http://169.254.169.254/v1", "fb",
                     position=0).status_code == 201
    assert _provider(company, "second", recorder.base_url, "fb", key=None,
                     position=1).status_code == 201
    answer = _call(company, company.key, {"model": "fb", "messages": MESSAGES})
    assert answer.status_code == 200, answer.text
    head = recorder.head().lower()
    assert "authorization" not in head and SECRET.lower() not in head


@pytest.mark.parametrize("base_url", ["http://169.254.169.254/latest", "http://10.0.0.1/v1",
                                      "http://[fd00::1]:8080/v1"])
def test_a_provider_outside_the_allowed_networks_is_refused_at_call_time(
        company: Company, base_url: str) -> None:
    """Operators alone register providers; one in a network outside
    DPGHUB_GATEWAY_ALLOWED_NETWORKS (metadata, private) is never connected to: 502, and the
    error names neither the address's secret nor more than the alias."""
    hub = company.hub
    assert company.grant(100_000).status_code == 200
    for user in (company.member, supporter(hub)):
        assert _provider(company, "mine", base_url, "x", user=user).status_code == 403
    assert _provider(company, "meta", base_url, "meta").status_code == 201
    answer = _call(company, company.key, {"model": "meta", "messages": MESSAGES})
    assert answer.status_code == 502 and answer.json()["error"]["code"] == "provider_unreachable"
    assert SECRET not in answer.text and "AddressRefused" in answer.text


# --- odd requests ------------------------------------------------------------------------------


def test_odd_requests_inject_no_header_and_reach_no_other_model(company: Company,
                                                                recorder: Recorder) -> None:
    """CR/LF in `model` is an unknown model (nothing sent); top-level keys with CR/LF stay in
    the JSON body; of duplicate keys the last counts, once; non-object messages pass as
    JSON."""
    assert company.grant(1_000_000).status_code == 200
    assert _provider(company, "rec", recorder.base_url, "rec").status_code == 201
    for alias in ("rec\r\nX-Injected: 1", "rec\nHost: evil"):
        refused = _call(company, company.key, {"model": alias, "messages": MESSAGES})
        assert refused.status_code == 404, refused.text
    assert recorder.requests == []
    answer = _call(company, company.key, {"model": "rec", "messages": MESSAGES,
                                          "x-injected\r\nEvil": "1\r\nEvil2: 2"})
    assert answer.status_code == 200
    assert "evil" not in recorder.head().lower()
    duplicate = (b'{"model": "hcx", "messages": [{"role": "user", "content": "a"}], '
                 b'"model": "rec"}')
    assert _call(company, company.key, duplicate).status_code == 200
    assert recorder.body()["model"] == "rec-model"
    assert len(recorder.requests) == 2 and recorder.requests[-1].count(b'"model"') == 1
    odd = _call(company, company.key, {"model": "rec", "messages": ["hi", 3, None, [1]]})
    assert odd.status_code == 200 and recorder.body()["messages"] == ["hi", 3, None, [1]]


@pytest.mark.parametrize("body", [
    {"model": "hcx", "messages": MESSAGES, "stream": True, "stream_options": "yes"},
    {"model": "hcx", "messages": MESSAGES, "stream": True, "stream_options": [1]},
], ids=["stream_options-string", "stream_options-list"])
def test_a_malformed_stream_options_is_a_400_not_a_crash(company: Company,
                                                         body: dict[str, Any]) -> None:
    """FINDING (low): `stream_options` that is not an object crashes the gateway's handler
    (`(body.get("stream_options") or {}).get(...)` in `AiGateway._forward` raises
    AttributeError / TypeError): a 500 outside OpenAI's error shape, a traceback in the log
    for every such call, and the call's ledger row says `status 200, ok`. It should be 400
    `invalid_request_error` (param `stream_options`) before anything is sent.
    Fixed on branch ai-probe."""
    assert company.grant(1_000_000).status_code == 200
    client = TestClient(company.hub.app, raise_server_exceptions=False)
    answer = client.post("/ai/v1/chat/completions", json=body,
                         headers={"authorization": f"Bearer {company.key}"})
    assert answer.status_code == 400, (answer.status_code, answer.text)
    assert answer.json()["error"]["param"] == "stream_options"


def test_deeply_nested_json_is_a_400_not_a_crash(company: Company) -> None:
    """FINDING (low): a body of 100,000 nested arrays (200 KB, well under the 8 MiB limit)
    makes `json.loads` raise RecursionError, which `_read_json` does not catch (it catches
    ValueError): a 500 and a traceback per call. It should be 400 `invalid_json`.
    Fixed on branch ai-probe."""
    assert company.grant(1_000_000).status_code == 200
    client = TestClient(company.hub.app, raise_server_exceptions=False)
    answer = client.post("/ai/v1/chat/completions", content=b"[" * 100_000,
                         headers={"authorization": f"Bearer {company.key}"})
    assert answer.status_code == 400, (answer.status_code, answer.text[:200])
    assert answer.json()["error"]["code"] == "invalid_json"


@pytest.mark.parametrize("alias", ["hcx\x00", "h" * 101], ids=["nul", "long"])
def test_an_unknown_model_name_does_not_poison_the_ledger(company: Company,
                                                          alias: str) -> None:
    """FINDING (high): any app key could stop a hub process's ledger. The `model` a caller
    sends was kept in the call's ledger row as given, even when no provider serves it; on
    PostgreSQL a NUL byte, or more than 100 characters (`ai_ledger.alias` is VARCHAR(100)),
    fails the whole batch's INSERT, and `AiGateway.flush` puts the batch back in front of the
    queue, so every later flush fails too: no row of any organization is written again by
    that process (other processes no longer see its spending; a restart loses it), and
    `GET /api/v1/ai/usage` and `/ai/usage`, which flush first, answer 500 to everyone.
    Fixed on branch ai-probe."""
    assert company.grant(100_000).status_code == 200
    refused = _call(company, company.key, {"model": alias, "messages": MESSAGES})
    assert refused.status_code == 404
    assert _call(company, company.key, {"model": "hcx", "messages": MESSAGES}).status_code == 200
    rows = company.ledger()                     # flushes: must not raise
    assert [r.alias for r in rows][-1] == "hcx" and len(rows) == 2
    assert len(rows[0].alias) <= 100 and "\x00" not in rows[0].alias
    usage = company.hub.client.get("/api/v1/ai/usage", params={"org": "startup"},
                                   headers=company.hub.bearer(company.member))
    assert usage.status_code == 200 and usage.json()["calls"] == 2


# --- credit ------------------------------------------------------------------------------------


def test_concurrent_calls_do_not_spend_more_than_the_credit(company: Company) -> None:
    """FINDING (medium): the credit check reserves nothing. `_check_credit` compares the
    estimate with what is written plus what finished calls queued (`pending`, added in
    `_keep` when a call ends), so calls in flight are invisible to each other: with credit for
    one call, five at once all pass and the organization spends about five times its credit
    (with slow or streamed answers, as many times as it opens calls). Fix: add the estimate
    to `pending` when the call is let through and settle it to the provider's count when it
    ends (as `TokenRate.take`/`settle` already do for the per-minute limit).
    Fixed on branch ai-probe."""
    hub = company.hub
    body = {"model": "hcx", "messages": MESSAGES, "max_tokens": 50}
    needed = 50 + _estimate(body)
    assert company.grant(needed + 5).status_code == 200
    company.model.script(*[{"delay_ms": 400}] * 5)

    async def five() -> list[int]:
        transport = httpx.ASGITransport(app=hub.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            answers = await asyncio.gather(*[c.post(
                "/ai/v1/chat/completions", json=body,
                headers={"authorization": f"Bearer {company.key}"}) for _ in range(5)])
        return [a.status_code for a in answers]

    statuses = asyncio.run(five())
    spent = company.budget()
    assert statuses.count(200) == 1, statuses
    assert spent["used"] <= spent["granted"]


def _estimate(body: dict[str, Any]) -> int:
    from dpghub.ai.wire import estimate_tokens
    return estimate_tokens(body)


def test_embeddings_of_token_ids_are_estimated_by_their_length(company: Company) -> None:
    """FINDING (medium): `wire.estimate_tokens` counts only string inputs, so embeddings of
    token-id arrays (which OpenAI's API takes, and the SDK sends) are estimated at 1 token:
    with 1 token of credit left, one call of 2,048 arrays × 8,000 ids (~40 MB would be over
    the 8 MiB limit, but ~4 million ids fit) passes the credit and context checks and spends
    whatever the provider counts. Ids should count one token each.
    Fixed on branch ai-probe."""
    assert company.grant(100).status_code == 200
    answer = _call(company, company.key, {"model": "embed", "input": [[7] * 3000]},
                   path="embeddings")
    assert answer.status_code in (400, 429), (answer.status_code, answer.text[:200])
    assert company.budget()["used"] <= 100


def test_a_max_tokens_that_is_no_integer_is_not_ignored(company: Company) -> None:
    """FINDING (low): `_answer_max` takes `max_tokens` / `max_completion_tokens` only as a
    positive int; a float (`1e9`) or a string (`"1000000"`, which pydantic-based providers
    such as vLLM coerce) counts as 0 in the context and credit checks and is forwarded as
    given. It should be refused (400, param `max_tokens`) or counted.
    Fixed on branch ai-probe."""
    assert company.grant(10_000).status_code == 200
    for value in (1e9, "1000000"):
        answer = _call(company, company.key, {"model": "hcx", "messages": MESSAGES,
                                              "max_tokens": value})
        assert answer.status_code == 400, (value, answer.status_code, answer.text[:200])


# --- the pages' forms --------------------------------------------------------------------------


def test_the_ai_pages_forms_need_their_csrf_token(company: Company) -> None:
    """Support staff signed in, a form posted from elsewhere (no token, or another session's
    token): refused, nothing recorded, no model asked."""
    hub = company.hub
    hub.make_org("mois", admin=hub.make_user(), kind="public")
    staff = visitor(hub, supporter(hub)).client
    other = visitor(hub, company.member).client
    foreign = csrf_of(other.get("/ai").text)
    calls = len(company.model.calls())
    for token in (None, foreign):
        extra = {"csrf_token": token} if token else {}
        for path, form in (
                ("/ai/sessions", {"kind": "education", "title": "CSRF", "held_on": "2026-05-01",
                                  "hours": "1", "orgs": "startup", "attendees": "1"}),
                ("/ai/lead-cases", {"agency": "mois", "supplier": "startup",
                                    "title": "CSRF", "status": "planned"}),
                ("/ai/ask-data", {"question": "도서관 수"})):
            sent = staff.post(path, data={**form, **extra}, follow_redirects=False)
            assert sent.status_code == 403, (path, sent.status_code)
    shown = staff.get("/ai")
    assert shown.status_code == 200 and "CSRF" not in shown.text
    assert len(company.model.calls()) == calls


# --- the support programme ---------------------------------------------------------------------


def test_a_closed_lead_case_and_a_session_stay_with_their_parties(company: Company) -> None:
    """A lead case not yet public and a session `startup` attended: `rival`'s admin and
    anonymous visitors find neither in the API nor on /ai, cannot change the case, and
    cannot list `startup`'s sessions."""
    hub = company.hub
    hub.make_org("mois", admin=hub.make_user(), kind="public")
    staff = hub.bearer(supporter(hub))
    case = hub.client.post("/api/v1/ai/lead-cases", headers=staff, json={
        "agency": "mois", "supplier": "startup", "title": "비공개 선도 사례",
        "status": "planned", "public": False})
    assert case.status_code == 201, case.text
    held = hub.client.post("/api/v1/ai/support/sessions", headers=staff, json={
        "kind": "consulting", "title": "비공개 컨설팅", "held_on": "2026-05-01", "hours": 2,
        "orgs": ["startup"], "attendees": 3})
    assert held.status_code == 201, held.text
    admin, _, _ = _rival(company)
    them = hub.bearer(admin)
    assert "비공개" not in hub.client.get("/api/v1/ai/lead-cases", headers=them).text
    assert "비공개" not in hub.client.get("/api/v1/ai/lead-cases").text
    patched = hub.client.patch(f"/api/v1/ai/lead-cases/{case.json()['id']}", headers=them,
                               json={"public": True})
    assert patched.status_code == 403
    assert "비공개" not in hub.client.get("/api/v1/ai/support/sessions", headers=them).text
    assert hub.client.get("/api/v1/ai/support/sessions", params={"org": "startup"},
                          headers=them).status_code == 403
    assert hub.client.get("/api/v1/ai/support/sessions").status_code == 401
    for page in (visitor(hub, admin).client.get("/ai"), visitor(hub).client.get("/ai")):
        assert page.status_code == 200 and "비공개" not in page.text
    mine = hub.client.get("/api/v1/ai/lead-cases", headers=hub.bearer(company.member))
    assert "비공개 선도 사례" in mine.text                       # the supplier's own people

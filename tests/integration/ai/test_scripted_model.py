"""The scripted model provider the AI gateway's tests forward to, driven by the `openai` SDK:
OpenAI's wire shapes, exact token counts, and every scripted failure the SDK must see as
OpenAI's own."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import openai
import pytest

from tests.support.scripted_model import (
    ScriptedModel,
    embedding,
    prompt_tokens,
    tokens,
    usage,
    words,
)

CHAT = "scripted-chat"


@pytest.fixture
def client(scripted_model: ScriptedModel) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=scripted_model.base_url, api_key=scripted_model.key,
                       max_retries=0, timeout=5) as sdk:
        yield sdk


def ask(text: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": "You answer in Korean."},
            {"role": "user", "content": text}]


def test_counting_rules_are_the_documented_ones() -> None:
    assert tokens("SELECT *\nFROM  t ") == ["SELECT", " *", "\nFROM", "  t "]
    assert words("SELECT *\nFROM  t ") == 4
    assert prompt_tokens(ask("서울 인구는 몇 명?")) == (3 + 4) + (3 + 4)
    assert prompt_tokens([{"role": "user", "content": [{"type": "text", "text": "a b"},
                                                        {"type": "image_url"}]}]) == 5
    assert usage(ask("a"), "x y z", max_tokens=2)["completion_tokens"] == 2


def test_a_completion_echoes_the_last_user_message_with_exact_usage(
        client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(model=CHAT, messages=ask("서울 인구는 몇 명?"))
    assert answer.object == "chat.completion" and answer.model == CHAT
    assert answer.choices[0].message.content == "echo: 서울 인구는 몇 명?"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.role == "assistant"
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens,
            answer.usage.total_tokens) == (14, 5, 19)
    expected = usage(ask("서울 인구는 몇 명?"), "echo: 서울 인구는 몇 명?")
    assert answer.usage.model_dump(exclude_none=True) == expected


def test_max_tokens_cuts_the_answer_and_says_length(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(model=CHAT, messages=ask("one two three four"),
                                            max_tokens=3)
    assert answer.choices[0].message.content == "echo: one two"
    assert answer.choices[0].finish_reason == "length"
    assert answer.usage.completion_tokens == 3


def test_a_stream_is_one_token_a_chunk_then_usage_then_done(
        client: openai.OpenAI, scripted_model: ScriptedModel) -> None:
    chunks = list(client.chat.completions.create(
        model=CHAT, messages=ask("서울  인구\n몇 명"), stream=True,
        stream_options={"include_usage": True}))
    assert {c.object for c in chunks} == {"chat.completion.chunk"}
    assert len({c.id for c in chunks}) == 1
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    pieces = [c.choices[0].delta.content for c in chunks[1:-2]]
    assert pieces == ["echo:", " 서울", "  인구", "\n몇", " 명"]
    assert chunks[-2].choices[0].finish_reason == "stop" and chunks[-2].usage is None
    assert chunks[-1].choices == []
    assert chunks[-1].usage.model_dump()["total_tokens"] == prompt_tokens(ask("서울  인구\n몇 명")) + 5
    [call] = scripted_model.calls()
    assert call["stream"] and call["completed"] and not call["disconnected"]
    assert call["chunks"] == len(chunks) + 1                      # and [DONE]


def test_the_raw_stream_ends_with_done_and_has_no_usage_unless_asked(
        scripted_model: ScriptedModel) -> None:
    with httpx.stream("POST", f"{scripted_model.base_url}/chat/completions",
                      headers={"Authorization": f"Bearer {scripted_model.key}"},
                      json={"model": CHAT, "messages": ask("a b"), "stream": True}) as answer:
        assert answer.headers["content-type"].startswith("text/event-stream")
        events = [line for line in answer.read().decode().split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    chunks = [json.loads(e.removeprefix("data: ")) for e in events[:-1]]
    assert all("usage" not in c for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "echo: a b"


def test_embeddings_are_the_documented_vectors_in_both_encodings(
        client: openai.OpenAI) -> None:
    default = client.embeddings.create(model="scripted-embed", input=["서울 인구", "부산"])
    floats = client.embeddings.create(model="scripted-embed", input="서울 인구",
                                      encoding_format="float", dimensions=16)
    assert [d.embedding for d in default.data] == [embedding("서울 인구"), embedding("부산")]
    assert len(default.data[0].embedding) == 8
    assert abs(sum(v * v for v in default.data[0].embedding) - 1) < 1e-6
    assert default.usage.prompt_tokens == default.usage.total_tokens == 3
    assert floats.data[0].embedding == embedding("서울 인구", 16)
    assert floats.data[0].embedding[:8] != default.data[0].embedding


def test_the_models_are_listed_and_another_is_not_found(
        client: openai.OpenAI, scripted_model: ScriptedModel) -> None:
    assert [m.id for m in client.models.list()] == ["scripted-chat", "scripted-embed"]
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=ask("a"))
    assert raised.value.code == "model_not_found"
    scripted_model.serve_models("gpt-4o")
    assert client.chat.completions.create(model="gpt-4o", messages=ask("a")).model == "gpt-4o"


def test_scripted_errors_are_the_sdks_errors_then_answers_resume(
        client: openai.OpenAI, scripted_model: ScriptedModel) -> None:
    scripted_model.script({"status": 429, "headers": {"retry-after": "7"}}, {"status": 500},
                          {"status": 429, "error": {"code": "insufficient_quota",
                                                    "type": "insufficient_quota"}})
    with pytest.raises(openai.RateLimitError) as limited:
        client.chat.completions.create(model=CHAT, messages=ask("a"))
    assert limited.value.code == "rate_limit_exceeded"
    assert limited.value.response.headers["retry-after"] == "7"
    with pytest.raises(openai.InternalServerError) as failed:
        client.chat.completions.create(model=CHAT, messages=ask("a"), stream=True)
    assert failed.value.type == "server_error"
    with pytest.raises(openai.RateLimitError) as quota:
        client.embeddings.create(model="scripted-embed", input="a")
    assert (quota.value.code, quota.value.type) == ("insufficient_quota", "insufficient_quota")
    assert client.chat.completions.create(model=CHAT, messages=ask("a")).choices
    assert [c["status"] for c in scripted_model.calls()] == [429, 500, 429, 200]


def test_a_step_for_one_path_waits_for_a_request_to_it(
        client: openai.OpenAI, scripted_model: ScriptedModel) -> None:
    scripted_model.script({"path": "/v1/chat/completions", "answer": "SELECT 1"})
    client.models.list()
    assert client.chat.completions.create(
        model=CHAT, messages=ask("a")).choices[0].message.content == "SELECT 1"


def test_a_wrong_key_is_401_invalid_api_key_and_no_key_is_recorded(
        scripted_model: ScriptedModel) -> None:
    with openai.OpenAI(base_url=scripted_model.base_url, api_key="sk-wrong",
                       max_retries=0) as wrong, pytest.raises(openai.AuthenticationError) as raised:
        wrong.models.list()
    assert raised.value.code == "invalid_api_key"
    assert set(raised.value.body) == {"message", "type", "param", "code"}
    [call] = scripted_model.calls()
    assert call["authorized"] is False and "authorization" not in call["headers"]
    assert "sk-wrong" not in json.dumps(call)


def test_a_broken_stream_is_an_error_in_the_sdk(
        client: openai.OpenAI, scripted_model: ScriptedModel) -> None:
    scripted_model.script({"broken_stream_after": 2})
    seen = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in client.chat.completions.create(model=CHAT, messages=ask("a b c"),
                                                    stream=True):
            seen.append(chunk.choices[0].delta.content)
    assert seen == ["", "echo:"]
    [call] = scripted_model.calls()
    assert (call["chunks"], call["completed"], call["disconnected"]) == (2, False, False)


def test_when_rules_answer_by_content_until_reset(
        client: openai.OpenAI, scripted_model: ScriptedModel) -> None:
    sql = "SELECT sido, SUM(population) FROM population GROUP BY sido"
    scripted_model.when("인구", sql)
    scripted_model.script({"answer": "scripted first"})

    def answer(text: str) -> str | None:
        return client.chat.completions.create(
            model=CHAT, messages=ask(text)).choices[0].message.content

    assert answer("시도별 인구") == "scripted first"         # a step comes before a rule
    assert answer("시도별 인구") == sql
    assert answer("시도별 인구 합계") == sql
    assert answer("도서관 수") == "echo: 도서관 수"
    scripted_model.reset()
    assert answer("시도별 인구") == "echo: 시도별 인구"


def test_calls_show_what_left_the_client(
        client: openai.OpenAI, scripted_model: ScriptedModel) -> None:
    client.chat.completions.create(model=CHAT, messages=ask("주민번호 ******-*******"),
                                   extra_headers={"X-Hub-Request": "r-1"}, user="u-7")
    [call] = scripted_model.calls()
    assert (call["method"], call["path"], call["status"]) == ("POST", "/v1/chat/completions",
                                                              200)
    assert call["body"] == {"model": CHAT, "messages": ask("주민번호 ******-*******"),
                            "user": "u-7"}
    assert call["headers"]["x-hub-request"] == "r-1" and call["authorized"] is True
    assert scripted_model.key not in json.dumps(call)


def test_delays_slow_the_answer_and_the_chunks(
        client: openai.OpenAI, scripted_model: ScriptedModel) -> None:
    scripted_model.script({"delay_ms": 200}, {"token_delay_ms": 50})
    began = time.monotonic()
    client.chat.completions.create(model=CHAT, messages=ask("a"))
    assert time.monotonic() - began >= 0.2
    began = time.monotonic()
    chunks = list(client.chat.completions.create(model=CHAT, messages=ask("a b"), stream=True))
    assert len(chunks) == 5 and time.monotonic() - began >= 4 * 0.05


def test_a_client_leaving_a_stream_early_is_recorded(
        client: openai.OpenAI, scripted_model: ScriptedModel) -> None:
    scripted_model.script({"token_delay_ms": 100})
    stream = client.chat.completions.create(model=CHAT, messages=ask("a b c d e f"),
                                            stream=True)
    next(stream)
    next(stream)
    stream.close()
    [call] = scripted_model.wait_calls(lambda calls: calls[0]["disconnected"])
    assert not call["completed"] and call["chunks"] < 5


def test_a_hanging_request_never_answers_and_the_client_leaving_is_recorded(
        client: openai.OpenAI, scripted_model: ScriptedModel) -> None:
    scripted_model.script({"hang": True})
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model=CHAT, messages=ask("a"), timeout=0.3)
    [call] = scripted_model.wait_calls(lambda calls: calls[0]["disconnected"])
    assert call["status"] is None


def test_a_reset_answers_a_hanging_request_500(scripted_model: ScriptedModel) -> None:
    scripted_model.script({"hang": True})
    with ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(httpx.get, f"{scripted_model.base_url}/models", timeout=5,
                              headers={"Authorization": f"Bearer {scripted_model.key}"})
        scripted_model.wait_calls(lambda calls: len(calls) == 1)
        scripted_model.reset()
        assert waiting.result().status_code == 500


def test_non_json_is_an_html_page(scripted_model: ScriptedModel) -> None:
    scripted_model.script({"non_json": True, "status": 502})
    answer = httpx.get(f"{scripted_model.base_url}/models",
                       headers={"Authorization": f"Bearer {scripted_model.key}"})
    assert answer.status_code == 502 and answer.headers["content-type"] == "text/html"
    with pytest.raises(json.JSONDecodeError):
        answer.json()


def test_malformed_requests_are_400_invalid_request_error(scripted_model: ScriptedModel) -> None:
    auth = {"Authorization": f"Bearer {scripted_model.key}"}
    for path, body in [("/chat/completions", {"model": CHAT}),
                       ("/chat/completions", {"model": CHAT, "messages": []}),
                       ("/embeddings", {"model": "scripted-embed", "input": 5}),
                       ("/embeddings", b"{not json")]:
        answer = httpx.post(scripted_model.base_url + path, headers=auth,
                            **({"content": body} if isinstance(body, bytes) else {"json": body}))
        assert answer.status_code == 400, answer.text
        assert answer.json()["error"]["type"] == "invalid_request_error"
    assert all("error" not in call for call in scripted_model.calls())


def test_an_unknown_step_key_is_refused(scripted_model: ScriptedModel) -> None:
    with pytest.raises(AssertionError, match="unknown step keys"):
        scripted_model.script({"statuz": 429})

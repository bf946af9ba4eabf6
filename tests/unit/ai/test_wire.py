"""Reading OpenAI's server-sent events as they pass: whole payloads however the bytes are cut,
and the usage found only where a chunk carries one."""

from __future__ import annotations

import json

import pytest

from dpghub.ai import wire

CHUNK = {"id": "c1", "object": "chat.completion.chunk",
         "choices": [{"index": 0, "delta": {"content": "안녕"}}], "usage": None}
LAST = {"id": "c1", "object": "chat.completion.chunk", "choices": [],
        "usage": {"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15}}


def _stream() -> bytes:
    return b"".join(b"data: " + json.dumps(part, ensure_ascii=False).encode() + b"\n\n"
                    for part in (CHUNK, CHUNK, LAST)) + b"data: [DONE]\n\n"


@pytest.mark.parametrize("cut", [1, 7, 64, 10_000])
def test_payloads_are_whole_however_the_bytes_arrive(cut: int) -> None:
    events, data, payloads = wire.Events(), _stream(), []
    for start in range(0, len(data), cut):
        payloads += events.feed(data[start:start + cut])
    assert [json.loads(p) for p in payloads[:3]] == [CHUNK, CHUNK, LAST]
    assert payloads[3] == b"[DONE]"


@pytest.mark.parametrize("spacing", ["", " "])
def test_the_usage_is_read_only_from_the_chunk_that_has_one(spacing: str) -> None:
    text = json.dumps(CHUNK, ensure_ascii=False, separators=(",", ":" + spacing)).encode()
    assert wire.usage_of(text) is None and wire.has_text(text)
    last = json.dumps(LAST).encode()
    assert wire.usage_of(last) == LAST["usage"] and wire.is_usage_only(last)
    assert wire.usage_of(b"[DONE]") is None and wire.usage_of(b"{not json") is None
    # the word in the answer's text is no usage
    said = json.dumps({**CHUNK, "choices": [{"delta": {"content": '"usage": 3'}}]}).encode()
    assert wire.usage_of(said) is None

"""Security probe: a hostile OpenAPI document registered by anyone who may register a service
(an editor of any organization) must not let one registration or one sandbox call take the
hub down — path templates whose matching backtracks, answers of enormous minItems,
minLength or nested counts, patterns asking for endless strings, deep JSON bodies.

What would hang is first tried in a child process with a deadline and a memory limit, so a
hub that still has the fault fails the test instead of freezing the test run; the same call
then goes through the running hub."""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
from typing import Any

import pytest

from dpghub.catalog import service as catalog
from tests.conftest import Hub
from tests.support.sandbox import Sandbox, make_testbed

CHILD = """
import json, sys
from dpghub.testbed.mock import MockSpec
spec = MockSpec.build(json.load(sys.stdin))
match = spec.match(sys.argv[1], sys.argv[2])
out = {"kind": match.kind, "broken": sorted(spec.broken.values())}
if match.operation is not None:       # requests pick the seed: try as many as asked
    answers = [spec.respond(match, seed=bytes([i])) for i in range(int(sys.argv[3]))]
    out.update(status=answers[0].status, size=max(len(a.body) for a in answers))
print(json.dumps(out))
"""
CHILD_SECONDS = 120       # what takes milliseconds once fixed; hours before
CHILD_MEMORY = 1 << 30


@pytest.fixture
def world(hub: Hub) -> Sandbox:
    return make_testbed(hub)


def _register(world: Sandbox, slug: str, paths: dict[str, Any],
              version: str = "3.0.3") -> dict[str, Any]:
    document = {"openapi": version, "info": {"title": slug, "version": "1"}, "paths": paths}
    made = world.hub.client.post("/api/v1/orgs/startup/services", headers=world.developer,
                                 json={"slug": slug, "title_ko": slug, "openapi": document,
                                       "upstream_url": "https://x.test/api"})
    assert made.status_code == 201, made.text          # the catalogue takes the document
    with world.hub.factory() as s:
        return catalog.get_service(s, "startup", slug).openapi


def _call(world: Sandbox, slug: str, path: str, method: str = "GET", **kwargs: Any) -> Any:
    headers = {"X-API-Key": world.key, **kwargs.pop("headers", {})}
    return world.hub.client.request(method, f"/sandbox/startup/{slug}{path}", headers=headers,
                                    **kwargs)


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CHILD_MEMORY, CHILD_MEMORY))


def _in_child(document: dict[str, Any], method: str, path: str,
              seeds: int = 1) -> dict[str, Any]:
    done = None
    try:
        done = subprocess.run([sys.executable, "-c", CHILD, method, path, str(seeds)],
                              input=json.dumps(document), capture_output=True, text=True,
                              timeout=CHILD_SECONDS, preexec_fn=_limits)
    except subprocess.TimeoutExpired:
        pass
    if done is None:
        pytest.fail(f"{method} {path[:60]}… kept the mock busy past {CHILD_SECONDS} s")
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def _get(schema: dict[str, Any]) -> dict[str, Any]:
    return {"get": {"responses": {"200": {"description": "ok", "content": {
        "application/json": {"schema": schema}}}}}}


def _params(*names: str) -> list[dict[str, Any]]:
    return [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in names]


def test_a_path_template_cannot_make_matching_backtrack(world: Sandbox) -> None:
    ok = {"responses": {"200": {"description": "ok"}}}
    document = _register(world, "files", {
        "/files/{a}.{b}.{c}.{d}.json": {"get": {**ok, "parameters": _params(*"abcd")}},
        "/glued/{a}{b}{c}{d}{e}{f}.json": {"get": {**ok, "parameters": _params(*"abcdef")}},
    })
    for path in ("/files/" + "a." * 4000 + "jsox", "/glued/" + "a" * 4000 + ".jsox"):
        assert _in_child(document, "GET", path)["kind"] == "unknown"
        answer = _call(world, "files", path)
        assert answer.status_code == 404
    # the templates still serve what they describe
    assert _in_child(document, "GET", "/files/1.2.3.v4.json")["kind"] == "found"
    assert _call(world, "files", "/files/1.2.3.v4.json").status_code == 200
    # parameters side by side cannot be told apart: that path says so, the rest works
    glued = _call(world, "files", "/glued/abcdef.json")
    assert glued.status_code == 501
    assert "{a}{b}" in glued.json()["detail"]


@pytest.mark.parametrize("schema", [
    {"type": "array", "minItems": 50_000_000, "items": {"type": "integer"}},
    {"type": "string", "minLength": 200_000_000},
    {"type": "object", "minProperties": 50_000_000,
     "additionalProperties": {"type": "integer"}},
    {"type": "array", "prefixItems": [{"type": "integer"}], "items": {"type": "integer"},
     "minItems": 50_000_000},
    {"type": "array", "minItems": 1000, "items": {
        "type": "array", "minItems": 1000, "items": {
            "type": "array", "minItems": 1000, "items": {"type": "string", "minLength": 50}}}},
], ids=["minItems", "minLength", "minProperties", "prefixItems", "nested"])
def test_an_answer_too_large_to_build_is_refused_not_built(world: Sandbox,
                                                         schema: dict[str, Any]) -> None:
    version = "3.1.0" if "prefixItems" in schema else "3.0.3"
    document = _register(world, "huge", {"/x": _get(schema), "/fine": _get({"type": "integer"})},
                         version)
    child = _in_child(document, "GET", "/x")
    assert child["kind"] == "broken", child
    assert "than the mock builds" in " ".join(child["broken"]), child   # not out of memory
    answer = _call(world, "huge", "/x")
    assert answer.status_code == 501, answer.text[:200]
    assert "than the mock builds" in answer.text
    assert _call(world, "huge", "/fine").status_code == 200


@pytest.mark.parametrize("pattern", ["^a{200000000}$", "^(a{300}){300}$",
                                     "^((((((((a*)*)*)*)*)*)*)*)$"])
def test_patterns_asking_for_long_strings_stay_bounded(world: Sandbox, pattern: str) -> None:
    """Nested repeats multiply, and a request picks the seed: some seeds drew strings of
    many millions of characters. A pattern's strings are bounded now (the validator's own
    engine refuses the largest repeats outright)."""
    document = _register(world, "patterned", {"/x": _get({
        "type": "string", "pattern": pattern, "minLength": 60_000})})
    child = _in_child(document, "GET", "/x", seeds=64)
    assert child["kind"] == "broken" or child["size"] < 1 << 20, child
    for seed in range(8):
        answer = _call(world, "patterned", "/x", params={"seed": str(seed)})
        assert answer.status_code in (200, 501)
        assert len(answer.content) < 1 << 20


def test_a_deeply_nested_body_is_a_400_not_a_crash(world: Sandbox) -> None:
    document = _register(world, "deep", {"/echo": {"post": {
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"type": "array"}}}},
        "responses": {"200": {"description": "ok"}}}}})
    assert document["paths"]
    body = b"[" * 200_000 + b"]" * 200_000
    answer = _call(world, "deep", "/echo", "POST", content=body,
                   headers={"Content-Type": "application/json"})
    assert answer.status_code == 400, answer.text[:300]


def test_a_mock_is_compiled_off_the_event_loop(world: Sandbox,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """A 300-operation document took seconds to compile, and compiled on the event loop it
    stalled every other call of the hub meanwhile."""
    from dpghub.testbed import sandbox as module

    seen: list[bool] = []
    build = module.MockSpec.build

    def watched(document: Any) -> Any:
        try:
            asyncio.get_running_loop()
            seen.append(True)        # on the event loop's thread
        except RuntimeError:
            seen.append(False)
        return build(document)

    monkeypatch.setattr(module.MockSpec, "build", staticmethod(watched))
    assert world.mock("/status", json={"b_no": ["2208162517"]}).status_code == 200
    assert seen == [False]

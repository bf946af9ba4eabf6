"""The hub's own AI features as people use them, through the AI gateway to a scripted model:
ask the data (`POST /api/v1/ai/sql`, the `/ai/ask-data` page) and catalogue Q&A
(`POST /api/v1/ai/ask`). The model's SQL runs in the analysis sandbox with the asker's own
rights; what the prompt shows, what is refused, the one repair, citations and "I don't know"
are checked in what the hub sent to the model (`scripted_model.calls()`)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from dpghub.ai.models import LedgerEntry
from dpghub.ai.schemas import ModelSpec, ProviderCreate
from dpghub.ai.service import providers
from dpghub.identity.policy import CLI
from tests.conftest import Hub, build_hub
from tests.support.identity import csrf_of, sign_in
from tests.support.lake import LIBRARY, POPULATION
from tests.support.scripted_model import ScriptedModel

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "bench"))
from nl2sql_questions import QUESTIONS  # noqa: E402

NOW = datetime(2026, 5, 14, 3, 0, tzinfo=UTC)
DONE_WHEN = "구별 도서관 수와 인구 10만 명당 도서관 수"
REFERENCE = next(q.sql for q in QUESTIONS if q.question == DONE_WHEN)
LIBRARIES = ("시도명,시군구명,도서관명,열람좌석수\n서울특별시,은평구,은평구립도서관,300\n"
             "서울특별시,종로구,정독도서관,500\n서울특별시,은평구,구산동도서관마을,120\n"
             "부산광역시,해운대구,해운대도서관,250\n".encode())
CLINICS = ("환자번호,진료과,방문수\n1001,내과,3\n1002,외과,1\n1003,내과,2\n1004,안과,5\n"
           .encode())


@pytest.fixture
def assist_hub(tmp_path: Path, db_url: str) -> Iterator[Hub]:
    """A hub whose AI features use the alias `hcx`."""
    yield from build_hub(tmp_path, db_url, ai_assist_model="hcx")


@dataclass
class World:
    """Three organizations' data, an analyst who belongs to none of them, and the scripted
    model registered as the alias the hub's features use."""

    hub: Hub
    model: ScriptedModel
    analyst: Any
    doctor: Any               # a member of `health`, owner of a restricted dataset

    def ask_sql(self, question: str, user: Any = None) -> httpx.Response:
        return self.hub.client.post("/api/v1/ai/sql", json={"question": question},
                                    headers=self.hub.bearer(user or self.analyst, ("read",)))

    def ask(self, question: str, user: Any = None) -> httpx.Response:
        headers = self.hub.bearer(user, ("read",)) if user is not None else {}
        return self.hub.client.post("/api/v1/ai/ask", json={"question": question},
                                    headers=headers)

    def prompts(self) -> list[list[dict[str, Any]]]:
        return [c["body"]["messages"] for c in self.model.calls()]


def _dataset(hub: Hub, user: Any, org: str, slug: str, data: Path | tuple[str, bytes],
             **fields: Any) -> None:
    auth = hub.bearer(user)
    made = hub.client.post(f"/api/v1/orgs/{org}/datasets", headers=auth,
                           json={"slug": slug, **fields})
    assert made.status_code == 201, made.text
    upload = ("files", (data.name, data.read_bytes())) if isinstance(data, Path) else \
        ("files", data)
    job = hub.client.post(f"/api/v1/datasets/{org}/{slug}/ingest", headers=auth,
                          files=[upload]).json()
    deadline = time.monotonic() + 60
    while job["state"] not in ("succeeded", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
        job = hub.client.get(f"/api/v1/jobs/{job['id']}", headers=auth).json()
    assert job["state"] == "succeeded", job


def _world(hub: Hub, scripted_model: ScriptedModel, *, real: bool) -> World:
    """`real`: the sample data's libraries and population (else four libraries, no
    population)."""
    hub.app.state.clock = lambda: NOW
    with hub.session() as s:             # as an operator registers it (POST …/providers)
        providers.create(s, actor=CLI, secret=hub.settings.secret, data=ProviderCreate(
            name="scripted", base_url=scripted_model.base_url, api_key=scripted_model.key,
            models=[ModelSpec(alias="hcx", model="scripted-chat", context=32768,
                              price_in=0.5, price_out=2.0)]))
    librarian, doctor = hub.make_user(), hub.make_user()
    hub.make_org("mcst", admin=librarian)
    hub.make_org("health", admin=doctor)
    _dataset(hub, librarian, "mcst", "libraries",
             LIBRARY if real else ("libraries.csv", LIBRARIES),
             title_ko="전국도서관표준데이터", title_en="Public libraries of Korea",
             description_ko="전국 공공도서관의 위치, 열람좌석수와 자료수")
    if real:
        hub.make_org("mois", admin=librarian)
        _dataset(hub, librarian, "mois", "population", POPULATION,
                 title_ko="주민등록 인구 및 세대현황", title_en="Resident population")
    _dataset(hub, doctor, "health", "clinic-visits", ("clinics.csv", CLINICS),
             title_ko="도서관 이용자 진료 기록", access="restricted",
             description_ko="도서관 이용자의 진료과별 방문 기록")
    return World(hub, scripted_model, hub.make_user(), doctor)


def _ledger(hub: Hub, count: int) -> list[LedgerEntry]:
    """The ledger once it holds `count` rows (the hub's own writer may hold the queue)."""
    deadline = time.monotonic() + 10
    while True:
        hub.app.state.ai.flush()
        with hub.session() as s:
            rows = list(s.scalars(select(LedgerEntry).order_by(LedgerEntry.id)))
        if len(rows) >= count or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


@pytest.fixture
def world(assist_hub: Hub, scripted_model: ScriptedModel) -> World:
    return _world(assist_hub, scripted_model, real=False)


@pytest.fixture
def sqlite_world(tmp_path: Path, sqlite_url: str, scripted_model: ScriptedModel
                 ) -> Iterator[World]:
    """For the page, where the backend does not matter."""
    for hub in build_hub(tmp_path, sqlite_url, ai_assist_model="hcx"):
        yield _world(hub, scripted_model, real=False)


@pytest.fixture
def sample_world(assist_hub: Hub, scripted_model: ScriptedModel, kr: Path) -> World:
    return _world(assist_hub, scripted_model, real=True)


def test_the_done_when_question_runs_with_the_analysts_rights(sample_world: World) -> None:
    world = sample_world
    world.model.when(DONE_WHEN, f"```sql\n{REFERENCE}\n```")
    answer = world.ask_sql(DONE_WHEN)
    body = answer.json()
    assert answer.status_code == 200, body
    assert (body["sql"], body["refused"], body["repaired"]) == (REFERENCE.strip(), None, False)
    assert [c["name"] for c in body["columns"]] == ["시군구", "도서관수", "인구10만명당_도서관수"]
    assert len(body["rows"]) == 264 and body["truncated"] is False
    by_name = {row[0]: row[1:] for row in body["rows"]}
    assert by_name["서울특별시 은평구"][0] == 82
    assert body["chart"] is None                      # three columns: no simple chart

    # the prompt: the tables the analyst may read, as the engine names them, with values of
    # their columns and the region functions; nothing of the restricted dataset
    [messages] = world.prompts()
    system = messages[0]["content"]
    assert messages[-1] == {"role": "user", "content": DONE_WHEN}
    for shown in ("### mcst.libraries — 전국도서관표준데이터", "### mois.population",
                  "- 시군구명 text — e.g. ", '"2025년09월_총인구수" integer',
                  "sigungu_code(text [, text])", "region_name(code)", "```sql"):
        assert shown in system, shown
    assert "clinic" not in str(world.model.calls()) and "진료" not in system

    # it ran as the analyst's own query: in their history, and the model call in the ledger
    history = world.hub.client.get("/api/v1/query/history",
                                   headers=world.hub.bearer(world.analyst)).json()
    assert history[0]["sql"] == REFERENCE.strip() and history[0]["rows"] == 264
    assert [(r.fault, r.alias, r.outcome, r.app_id) for r in _ledger(world.hub, 1)] == [
        ("hub:nl2sql", "hcx", "ok", None)]

    # SQL naming another organization's restricted dataset is refused, never run nor repaired
    world.model.when("진료과별", "SELECT 진료과, sum(방문수) AS 방문 FROM health.clinic_visits "
                                 "GROUP BY 1")
    refused = world.ask_sql("진료과별 방문 수").json()
    assert refused["refused_code"] == "access_denied" and refused["rows"] == []
    assert "보유 기관의 구성원만" in refused["refused"]          # in the analyst's language
    assert len(world.model.calls()) == 2 and refused["repaired"] is False
    # its owner's member sees it in the prompt, and gets its rows with a bar chart
    owned = world.ask_sql("진료과별 방문 수", user=world.doctor).json()
    assert "health.clinic_visits" in world.prompts()[-1][0]["content"]
    assert sorted(owned["rows"]) == [["내과", 5], ["안과", 5], ["외과", 1]]
    assert owned["chart"] == {"type": "bar", "x": "진료과", "y": "방문"}


def test_refusals_come_back_refused_and_failures_are_repaired_once(world: World) -> None:
    statements = {
        "copy": ("COPY (SELECT * FROM mcst.libraries) TO '/tmp/dpghub-ai-escape.csv'",
                 "select_only"),
        "attach": ("ATTACH '/tmp/dpghub-ai-escape.db'", "select_only"),
        "install": ("INSTALL httpfs", "select_only"),
        "delete": ("DELETE FROM mcst.libraries", "select_only"),
        "file": ("SELECT * FROM read_csv('/etc/passwd')", "function_not_allowed"),
    }
    for name, (sql, _) in statements.items():
        world.model.when(f"question-{name}", f"```sql\n{sql};\n```")
    world.model.when("question-weather", "-- cannot answer: no table holds the weather")
    for name, (sql, code) in statements.items():
        body = world.ask_sql(f"question-{name}").json()
        assert (body["sql"], body["refused_code"], body["rows"], body["repaired"]) == (
            sql, code, [], False), body
        assert body["refused"]
    assert not Path("/tmp/dpghub-ai-escape.csv").exists()
    assert not Path("/tmp/dpghub-ai-escape.db").exists()
    assert len(world.model.calls()) == len(statements)          # no repair of a refusal
    declined = world.ask_sql("question-weather").json()
    assert (declined["sql"], declined["refused_code"]) == (None, "model_declined")
    assert "no table holds the weather" in declined["refused"]

    # a statement that fails is sent back to the model once, with the error
    world.model.reset()
    world.model.script({"answer": "SELECT 없는열 FROM mcst.libraries"},
                       {"answer": "```sql\nSELECT count(*) AS 도서관수 FROM mcst.libraries\n```"})
    body = world.ask_sql("How many libraries are there?").json()
    assert (body["rows"], body["repaired"], body["refused"]) == ([[4]], True, None)
    assert body["sql"] == "SELECT count(*) AS 도서관수 FROM mcst.libraries"
    first, second = world.prompts()
    assert second[:2] == first
    assert second[2] == {"role": "assistant", "content": "SELECT 없는열 FROM mcst.libraries"}
    assert "없는열" in second[3]["content"] and "not found" in second[3]["content"].lower()
    history = world.hub.client.get("/api/v1/query/history",
                                   headers=world.hub.bearer(world.analyst)).json()
    assert [(h["sql"], h["error"] is None) for h in history[:2]] == [
        (body["sql"], True), ("SELECT 없는열 FROM mcst.libraries", False)]
    # twice wrong: the second error is the answer, and the model is not asked a third time
    world.model.script({"answer": "SELECT 없는열 FROM mcst.libraries"},
                       {"answer": "SELECT 또없는열 FROM mcst.libraries"})
    wrong = world.ask_sql("How many libraries are there?").json()
    assert (wrong["repaired"], wrong["refused_code"], wrong["rows"]) == (True, "query_error", [])
    assert "또없는열" in wrong["refused"] and len(world.model.calls()) == 4


def test_catalogue_qa_cites_what_the_asker_may_see(world: World) -> None:
    world.model.when("도서관", "공공도서관의 위치와 좌석 수는 [1]에 있습니다 [9].")
    answer = world.ask("도서관 위치 데이터는 어디에 있나요?", user=world.analyst)
    body = answer.json()
    assert answer.status_code == 200, body
    assert body["answer"] == "공공도서관의 위치와 좌석 수는 [1]에 있습니다 [9]."
    assert body["citations"] == [{"kind": "dataset", "ref": "mcst/libraries",
                                  "title": "전국도서관표준데이터 / Public libraries of Korea",
                                  "url": "/datasets/mcst/libraries"}]    # [9] was not shown
    system = world.prompts()[0][0]["content"]
    assert "[1] dataset mcst/libraries" in system and "link: /datasets/mcst/libraries" in system
    assert "모르겠습니다" in system                # told to say so in Korean
    # the restricted dataset of another organization: never in an outsider's context
    assert "health" not in system and "진료" not in system
    world.ask("도서관 위치 데이터는 어디에 있나요?")                         # anonymous
    assert "health" not in world.prompts()[-1][0]["content"]
    world.ask("도서관 이용자 진료 기록", user=world.doctor)                  # its member
    assert "health/clinic-visits" in world.prompts()[-1][0]["content"]

    # nothing relevant: "I don't know" in the question's language, without the model
    calls = len(world.model.calls())
    korean = world.ask("퀵셔플 즈븝 괘랄").json()
    english = world.ask("zqxv blorf wugwug").json()
    assert korean == {"answer": korean["answer"], "citations": []}
    assert korean["answer"].startswith("모르겠습니다")
    assert english["answer"].startswith("I don't know") and english["citations"] == []
    assert len(world.model.calls()) == calls

    # anonymous callers: 5 questions at once per address (three asked above, two here), then
    # told to wait
    for _ in range(2):
        assert world.ask("zqxv blorf wugwug").status_code == 200
    limited = world.ask("zqxv blorf wugwug")
    assert limited.status_code == 429 and limited.json()["code"] == "ai_assist_rate_limited"
    assert int(limited.headers["retry-after"]) > 0
    assert world.ask("zqxv blorf wugwug", user=world.analyst).status_code == 200


def test_the_ask_data_page_from_the_console(sqlite_world: World) -> None:
    world = sqlite_world
    browser = world.hub.browser()
    sign_in(browser, world.analyst.email)
    console = browser.get("/query")
    assert 'href="/ai/ask-data"' in console.text
    page = browser.get("/ai/ask-data")
    assert page.status_code == 200 and 'name="question"' in page.text
    world.model.when("시도별", "```sql\nSELECT 시도명, count(*) AS 도서관수 FROM mcst.libraries "
                              "GROUP BY 1 ORDER BY 2 DESC\n```")
    shown = browser.post("/ai/ask-data", data={"question": "시도별 도서관 수",
                                                "csrf_token": csrf_of(page.text)})
    assert shown.status_code == 200
    assert "SELECT 시도명, count(*) AS 도서관수" in shown.text
    assert "<td>서울특별시</td><td>3</td>" in shown.text and "<svg" in shown.text
    world.model.when("진료", "SELECT * FROM health.clinic_visits")
    refused = browser.post("/ai/ask-data", data={"question": "진료 기록",
                                                  "csrf_token": csrf_of(shown.text)})
    assert refused.status_code == 200 and "health.clinic_visits" in refused.text
    assert "<table" not in refused.text.split("health.clinic_visits", 1)[1]
    anonymous = world.hub.browser().get("/ai/ask-data", follow_redirects=False)
    assert anonymous.status_code in (302, 303) and "/signin" in anonymous.headers["location"]


def test_features_off_say_so_in_the_hubs_error_shape(hub: Hub) -> None:
    user = hub.make_user()
    for path in ("/api/v1/ai/sql", "/api/v1/ai/ask"):
        answer = hub.client.post(path, json={"question": "도서관 수"},
                                 headers=hub.bearer(user))
        assert answer.status_code == 503
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["code"] == "ai_features_off"
        assert "DPGHUB_AI_ASSIST_MODEL" in answer.json()["detail"]
    assert hub.client.post("/api/v1/ai/sql", json={"question": "도서관 수"}).status_code == 401
    # an alias that no provider serves is as off
    hub.app.state.settings.ai_assist_model = "hcx"
    answer = hub.client.post("/api/v1/ai/sql", json={"question": "도서관 수"},
                             headers=hub.bearer(user))
    assert answer.status_code == 503 and answer.json()["code"] == "ai_features_off"

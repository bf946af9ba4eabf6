"""The NL→SQL benchmark's questions stay honest: 50 distinct questions, and every reference
SQL runs on the sample data, as `dpghub init --demo` loads it, through the hub's SQL API as an
ordinary signed-in user, and returns rows (what `bench/nl2sql.py --check` does against a
served hub). Also the rules by which the benchmark compares an answer with a reference."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from dpghub import demo
from dpghub.identity.policy import CLI
from tests.conftest import Hub

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from nl2sql import (  # noqa: E402
    QUESTIONS,
    NotAvailable,
    Reference,
    ask,
    check_references,
    compare,
    question_problems,
)

DONE_WHEN = "구별 도서관 수와 인구 10만 명당 도서관 수"


def test_fifty_distinct_questions_with_the_issues_own() -> None:
    assert question_problems() == []
    assert len({q.question for q in QUESTIONS}) == 50
    assert DONE_WHEN in {q.question for q in QUESTIONS}
    assert all(q.expect and "SELECT" in q.sql for q in QUESTIONS)


@pytest.mark.acceptance
def test_every_reference_sql_runs_on_the_sample_data(sqlite_hub: Hub, kr: Path) -> None:
    hub = sqlite_hub
    with hub.session() as session:
        demo.load(session, actor=CLI)
    said: list[str] = []
    loaded = demo.load_data(hub.settings, hub.factory, actor=CLI, source=kr, say=said.append)
    assert set(loaded) == {"molit/bjd-codes", "mois/population", "mcst/libraries",
                           "me/ev-chargers", "mois/admin-codes"}, said
    analyst = hub.make_user()   # no membership, no platform role
    auth = hub.bearer(analyst, ("read",))
    results = check_references(hub.client, auth)
    failed = {r.question.id: r.error for r in results if r.error}
    assert failed == {}
    for result in results:  # the columns an order is judged by are there
        assert all(k < len(result.rows[0]) for k in result.question.order_by), result.question.id
    # Run again, each answer judged against its reference with its columns reversed (and its
    # rows, where no order is asked): references give one answer, and the rules accept it
    for first, again in zip(results, check_references(hub.client, auth), strict=True):
        order = first.question.order_by
        rows = [row[::-1] for row in (again.rows if order else again.rows[::-1])]
        assert compare(first.rows, rows, order).correct, first.question.id
    asking(hub, auth, results)
    done_when = next(r for r in results if r.question.question == DONE_WHEN)
    assert len(done_when.rows) == 264  # every 시군구 of the population file, 세종 once
    by_name = {row[0]: row[1:] for row in done_when.rows}
    assert by_name["서울특별시 은평구"][0] == 82


@pytest.mark.parametrize(("reference", "answer", "order_by", "correct"), [
    ([["서울", 3], ["부산", 2]], [["부산", 2], ["서울", 3]], (), True),        # any order
    ([["서울", 3], ["부산", 2]], [["부산", 2], ["서울", 3]], (1,), False),     # order asked
    ([["서울", 3], ["부산", 3]], [["부산", 3], ["서울", 3]], (1,), True),      # ties either way
    ([["서울", 3]], [[3, "서울"]], (), True),                                   # columns swapped
    ([["서울", 3]], [["11", "서울", 3, 9318500]], (), True),                    # extra columns
    ([["서울", 3, 1]], [["서울", 3]], (), False),                               # a column missing
    ([["서울", 12.35]], [["서울", 12.3456]], (), True),                          # rounded reference
    ([["서울", 12.3456]], [["서울", 12.3]], (), True),                           # rounded answer
    ([["서울", 12.31]], [["서울", 12.4]], (), False),
    ([["서울", 12.35]], [["서울", 12]], (), False),                              # not a rounding
    ([["서울", 16.8642]], [["서울", 17]], (), False),                            # a ratio, whole
    ([[0.125]], [[0.13]], (), True),                                             # half up
    ([["a", 3.0], ["b", 3.34]], [["b", 3.3], ["a", 3]], (), True),
    ([[3517]], [["3,517"]], (), True),
    ([["노원구"]], [["노원구\u3000"]], (), True),                                # full-width space
    ([["서울"], ["서울"]], [["서울"]], (), False),                              # a multiset
    ([["서울", None]], [["서울", 0]], (), False),
])
def test_answers_compared_with_references(reference: list, answer: list, order_by: tuple,
                                          correct: bool) -> None:
    assert compare(reference, answer, order_by).correct is correct


class ScriptedAI:
    """The SQL API of the hub under test, and `POST /api/v1/ai/sql` answering from a script."""

    def __init__(self, hub: Hub, answers: dict[str, httpx.Response]) -> None:
        self.client, self.answers = hub.client, answers

    def post(self, url: str, *, json: Any = None, headers: Any = None) -> httpx.Response:
        if url == "/api/v1/ai/sql":
            return self.answers[json["question"]]
        return self.client.post(url, json=json, headers=headers)


def asking(hub: Hub, auth: dict[str, str], results: list[Reference]) -> None:
    """The benchmark's client of the coming endpoint: SQL without rows is run, a refusal and
    other rows are wrong, a 404 means the feature is not there."""
    echo, refuse, wrong = results[:3]

    def answer(sql: str = "", rows: list | None = None, refused: str | None = None,
               status: int = 200) -> httpx.Response:
        return httpx.Response(status, json={"sql": sql, "columns": [], "rows": rows,
                                            "refused": refused})

    scripted = ScriptedAI(hub, {echo.question.question: answer(echo.question.sql),
                                refuse.question.question: answer(refused="범위 밖의 질문"),
                                wrong.question.question: answer("SELECT 1", [[1]])})
    assert ask(scripted, auth, echo, None).verdict.correct
    assert ask(scripted, auth, refuse, None).verdict.reason == "refused: 범위 밖의 질문"
    assert not ask(scripted, auth, wrong, "scripted").verdict.correct
    scripted.answers[echo.question.question] = answer(status=404)
    with pytest.raises(NotAvailable):
        ask(scripted, auth, echo, None)

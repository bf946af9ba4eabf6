"""NL→SQL benchmark: execution accuracy of "Ask the data" on 50 Korean questions.

Starts a hub on loopback with the sample data (`dpghub init --demo` over ../shared/data/kr)
and, as an ordinary signed-in user (no membership, no operator role: the guard, the sandbox
and the read permissions apply as to anyone):

1. runs every reference SQL of bench/nl2sql_questions.py through `POST /api/v1/query` and
   checks that it runs and returns rows, untruncated;
2. asks `POST /api/v1/ai/sql` with `{"question": …}` for each question, expecting
   `{"sql": str, "columns": [...], "rows": [[...]], "refused": str | null}`, and compares the
   rows with the reference's (run through the query API when an answer carries SQL but no
   rows): the same multiset of rows, column names ignored, columns matched by their values
   (extra columns in the answer are allowed), numbers compared at the decimals the coarser of
   the two gives (at least one where the reference has decimals: an answer may round, and a
   ratio is not answered in whole numbers), row order counted only where the question asks
   for an order. A refusal counts as wrong. When the endpoint answers 404 the AI part is reported
   as not available and only step 1 is reported.

Provider: the hub answers through its AI gateway with the chat alias `DPGHUB_AI_ASSIST_MODEL`
names (docs/ai.md), and the hub started here is new, so it has no provider until the bench
registers one: `DPGHUB_AI_BENCH_PROVIDER` is the JSON body of `POST /api/v1/ai/providers`
(name, base_url, api_key, models with their aliases), which the bench sends as the hub's first
operator before it asks anything. `DPGHUB_AI_BENCH_MODEL` names the alias to use: the hub is
started with `DPGHUB_AI_ASSIST_MODEL` set to it (the first alias of the provider's models when
left out; the hub's own environment otherwise), and it is also sent as `model`, which the hub
ignores. Without a provider the hub answers 503 `ai_features_off` and every question counts as
wrong. tests/integration/ai/test_assist.py checks the plumbing with a scripted model, whose
accuracy says nothing about a real one.

    .venv/bin/python bench/nl2sql.py [--check] [--only ID ...]
    DPGHUB_AI_BENCH_PROVIDER='{"name": "clova", "base_url": "https://…/v1", "api_key": "…",
      "models": [{"alias": "hcx", "model": "HCX-005", "context": 32768, "price_in": 0,
                  "price_out": 0}]}' .venv/bin/python bench/nl2sql.py

`--check` runs step 1 only (what tests/acceptance/test_nl2sql_questions.py runs too).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from itertools import islice
from pathlib import Path
from typing import Any, Protocol

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nl2sql_questions import QUESTIONS, Question  # noqa: E402
from served import DPGHUB, serving  # noqa: E402

KR = (Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "kr").resolve()
ANALYST = "analyst@example.com"
REFERENCE_LIMIT = 100_000
MODEL_ENV = "DPGHUB_AI_BENCH_MODEL"
PROVIDER_ENV = "DPGHUB_AI_BENCH_PROVIDER"
OPERATOR = "admin@dpghub.kr"          # the first operator `dpghub init` makes
OPERATOR_PASSWORD = "bench-password-1"


class Poster(Protocol):
    """httpx.Client, or a test's TestClient."""

    def post(self, url: str, *, json: Any = ..., headers: Any = ...) -> httpx.Response: ...


# --- comparing results ------------------------------------------------------------------------

NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def normalise(value: Any) -> Any:
    """A cell as compared: numbers (and text that is one number) as float, text in NFKC with
    its spaces collapsed, None as None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return None if isinstance(value, float) and math.isnan(value) else float(value)
    if value is None:
        return None
    text = " ".join(unicodedata.normalize("NFKC", str(value)).split())
    if NUMBER.fullmatch(text.replace(",", "")):
        return float(text.replace(",", ""))
    return text


MAX_PLACES = 6  # beyond this a float's digits are noise (0.1 + 0.2)


def _places(value: float) -> int:
    exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    return min(MAX_PLACES, max(0, -exponent)) if isinstance(exponent, int) else 0


def _column_places(rows: list[tuple], column: int) -> int:
    return max((_places(row[column]) for row in rows if isinstance(row[column], float)),
               default=0)


def _rounded(value: Any, places: int) -> Any:
    """A number rounded half away from zero, as DuckDB's round() does; other cells as they are."""
    if not isinstance(value, float) or not abs(value) < 1e15:  # also inf, beyond Decimal's 28
        return value
    step = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(step, rounding=ROUND_HALF_UP))


def _pair_places(reference: list[tuple], answer: list[tuple], i: int, j: int) -> int:
    """The decimals reference column i and answer column j are compared at: the fewer of the
    two (another rounding of the same value is the same answer), but at least one where the
    reference has decimals (a ratio is not answered by whole numbers)."""
    ref_places = _column_places(reference, i)
    places = min(ref_places, _column_places(answer, j))
    return max(places, 1) if ref_places else places


def _canonical(rows: list[tuple], columns: Sequence[int], places: Sequence[int]) -> list[tuple]:
    return [tuple(_rounded(row[c], p) for c, p in zip(columns, places, strict=True))
            for row in rows]


def _column_mappings(reference: list[tuple], answer: list[tuple]
                     ) -> Iterator[tuple[tuple[int, ...], tuple[int, ...]]]:
    """Ways to pick, for each reference column, a distinct answer column holding the same
    multiset of values, with the decimals each pair is compared at; the identity first."""
    width, answer_width = len(reference[0]), len(answer[0])
    fits: list[list[tuple[int, int]]] = []
    for i in range(width):
        fits.append([])
        for j in sorted(range(answer_width), key=lambda j, i=i: (j != i, j)):
            places = _pair_places(reference, answer, i, j)
            if Counter(_canonical(reference, [i], [places])) == \
                    Counter(_canonical(answer, [j], [places])):
                fits[i].append((j, places))

    def extend(chosen: tuple[tuple[int, int], ...]) -> Iterator[tuple[tuple[int, int], ...]]:
        if len(chosen) == width:
            yield chosen
            return
        for j, places in fits[len(chosen)]:
            if j not in (c for c, _ in chosen):
                yield from extend((*chosen, (j, places)))

    for chosen in extend(()):
        yield tuple(j for j, _ in chosen), tuple(p for _, p in chosen)


@dataclass
class Verdict:
    correct: bool
    reason: str = ""


def compare(reference: Sequence[Sequence[Any]], answer: Sequence[Sequence[Any]],
            order_by: Sequence[int] = ()) -> Verdict:
    """Whether an answer's rows are the reference's: the same multiset of rows once each
    reference column is paired with an answer column (names ignored, extra answer columns
    allowed) and numbers are rounded to the decimals of the coarser of the two; the sequence of
    the `order_by` columns (reference positions) the same too."""
    ref = [tuple(normalise(c) for c in row) for row in reference]
    got = [tuple(normalise(c) for c in row) for row in answer]
    if len(ref) != len(got):
        return Verdict(False, f"{len(got)} rows, expected {len(ref)}")
    if not ref:
        return Verdict(True)
    width, answer_width = len(ref[0]), len(got[0])
    if answer_width < width:
        return Verdict(False, f"{answer_width} columns, expected at least {width}")
    order_wrong = False
    for columns, places in islice(_column_mappings(ref, got), 1000):
        expected = _canonical(ref, range(width), places)
        found = _canonical(got, columns, places)
        if Counter(expected) != Counter(found):
            continue
        if all(a[k] == b[k] for a, b in zip(expected, found, strict=True) for k in order_by):
            return Verdict(True)
        order_wrong = True
    return Verdict(False, "right rows in the wrong order" if order_wrong else "different rows")


# --- running questions ----------------------------------------------------------------------


@dataclass
class Reference:
    question: Question
    rows: list[list[Any]] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


def run_sql(client: Poster, headers: dict[str, str], sql: str) -> tuple[list[list[Any]], str]:
    """Rows of one query through the hub's SQL API, or an error."""
    answer = client.post("/api/v1/query", headers=headers,
                         json={"sql": sql, "limit": REFERENCE_LIMIT, "timeout_ms": 60_000})
    body = answer.json()
    if answer.status_code != 200:
        return [], f"HTTP {answer.status_code}: {body.get('detail') or body.get('title')}"
    if body["truncated"]:
        return body["rows"], f"more than {REFERENCE_LIMIT} rows"
    return body["rows"], ""


def check_references(client: Poster, headers: dict[str, str],
                     questions: Sequence[Question] = QUESTIONS) -> list[Reference]:
    """Each reference SQL through the SQL API; an error when it fails or returns no rows."""
    out = []
    for question in questions:
        started = time.perf_counter()
        rows, error = run_sql(client, headers, question.sql)
        if not error and not rows:
            error = "no rows"
        out.append(Reference(question, rows, error, time.perf_counter() - started))
    return out


def question_problems(questions: Sequence[Question] = QUESTIONS) -> list[str]:
    """What is wrong with the set itself: count, duplicates, order keys."""
    problems = []
    if len(questions) != 50:
        problems.append(f"{len(questions)} questions, not 50")
    for label, values in (("question", [q.question.strip() for q in questions]),
                          ("id", [q.id for q in questions])):
        duplicates = sorted({v for v in values if values.count(v) > 1})
        if duplicates:
            problems.append(f"the same {label} twice: {', '.join(duplicates)}")
    return problems


@dataclass
class Attempt:
    question: Question
    verdict: Verdict
    sql: str = ""
    seconds: float = 0.0


class NotAvailable(Exception):
    pass


def ask(client: Poster, headers: dict[str, str], reference: Reference,
        model: str | None) -> Attempt:
    question = reference.question
    payload: dict[str, Any] = {"question": question.question}
    if model:
        payload["model"] = model
    started = time.perf_counter()
    answer = client.post("/api/v1/ai/sql", headers=headers, json=payload)
    seconds = time.perf_counter() - started
    if answer.status_code == 404:
        raise NotAvailable(answer.text[:200])
    if answer.status_code != 200:
        return Attempt(question, Verdict(False, f"HTTP {answer.status_code}: "
                                                f"{answer.text[:200]}"), seconds=seconds)
    body = answer.json()
    sql = body.get("sql") or ""
    if body.get("refused"):
        return Attempt(question, Verdict(False, f"refused: {body['refused']}"), sql, seconds)
    rows = body.get("rows")
    if rows is None:
        if not sql:
            return Attempt(question, Verdict(False, "neither rows nor SQL"), sql, seconds)
        rows, error = run_sql(client, headers, sql)
        if error:
            return Attempt(question, Verdict(False, f"its SQL failed: {error}"), sql, seconds)
    return Attempt(question, compare(reference.rows, rows, question.order_by), sql, seconds)


# --- the hub --------------------------------------------------------------------------------


@dataclass
class DemoHub:
    base: str
    token: str


def provider_from_env() -> dict[str, Any] | None:
    """The provider to register (`DPGHUB_AI_BENCH_PROVIDER`), when one is given."""
    given = os.environ.get(PROVIDER_ENV, "").strip()
    if not given:
        return None
    provider = json.loads(given)
    if not isinstance(provider, dict) or not provider.get("models"):
        sys.exit(f"{PROVIDER_ENV} must be a JSON object with `models`")
    return provider


@contextmanager
def hub_with_demo(model: str | None = None,
                  provider: dict[str, Any] | None = None) -> Iterator[DemoHub]:
    """A hub on loopback holding the sample data, and a read token of an ordinary user;
    with `provider`, registered as the operator's, its features on `model` (or the first
    alias of the provider)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "DPGHUB_HOME": str(Path(tmp) / "home")}
        env.pop("DPGHUB_DATABASE_URL", None)
        alias = model or (provider["models"][0].get("alias") if provider else None)
        if alias:
            env["DPGHUB_AI_ASSIST_MODEL"] = alias

        def dpghub(*args: str) -> str:
            return subprocess.run([DPGHUB, *args], env=env, check=True, capture_output=True,
                                  text=True).stdout

        dpghub("init", "--admin-password", OPERATOR_PASSWORD, "--demo", "--demo-data", str(KR))
        dpghub("user", "create", ANALYST, "--password", "analyst-password-1")
        token = dpghub("token", "create", ANALYST, "--name", "nl2sql-bench",
                       "--scope", "read").strip()
        operator = dpghub("token", "create", OPERATOR, "--name", "nl2sql-bench-provider",
                          "--scope", "write").strip() if provider else ""
        with serving(env) as base:
            if provider:
                made = httpx.post(base + "/api/v1/ai/providers", json=provider, timeout=30,
                                  headers={"Authorization": f"Bearer {operator}"})
                if made.status_code != 201:
                    sys.exit(f"the provider was not registered: HTTP {made.status_code} "
                             f"{made.text[:300]}")
            yield DemoHub(base, token)


def tables_of(sql: str) -> set[str]:
    return set(re.findall(r"\b(?:mcst|me|mois|molit)\.[a-z_]+", sql))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only run the reference SQL")
    parser.add_argument("--only", nargs="+", metavar="ID", help="only these questions")
    args = parser.parse_args()
    if not KR.is_dir():
        sys.exit(f"missing {KR}")
    unknown = set(args.only or ()) - {q.id for q in QUESTIONS}
    if unknown:
        sys.exit(f"no such question: {', '.join(sorted(unknown))}")
    questions = [q for q in QUESTIONS if not args.only or q.id in args.only]
    problems = question_problems() if not args.only else []
    model = os.environ.get(MODEL_ENV) or None
    provider = provider_from_env()
    started = time.perf_counter()
    with hub_with_demo(model, provider) as hub:
        print(f"hub with the sample data ready in {time.perf_counter() - started:.1f} s")
        client = httpx.Client(base_url=hub.base, timeout=180)
        headers = {"Authorization": f"Bearer {hub.token}"}
        references = check_references(client, headers, questions)
        for ref in references:
            mark = "ok  " if not ref.error else "FAIL"
            print(f"  {mark} {ref.question.id:32} {len(ref.rows):4} rows "
                  f"{ref.seconds * 1000:7.1f} ms {ref.error}")
        failed = [r for r in references if r.error]
        print(f"reference SQL: {len(references) - len(failed)}/{len(references)} run and "
              f"return rows, {sum(r.seconds for r in references):.2f} s in all; tables: "
              f"{', '.join(sorted(set().union(*(tables_of(q.sql) for q in questions))))}")
        for problem in problems:
            print(f"question set: {problem}")
        if failed or problems:
            sys.exit(1)
        if args.check:
            return
        attempts = []
        try:
            for ref in references:
                attempt = ask(client, headers, ref, model)
                attempts.append(attempt)
                mark = "ok   " if attempt.verdict.correct else "WRONG"
                print(f"  {mark} {ref.question.id:32} {attempt.seconds:6.2f} s "
                      f"{attempt.verdict.reason}")
                if not attempt.verdict.correct and attempt.sql:
                    print("        " + " ".join(attempt.sql.split()))
        except NotAvailable as error:
            print(f"NL→SQL is not available on this hub (POST /api/v1/ai/sql answered 404: "
                  f"{error}): only the reference check was run.")
            return
    correct = sum(a.verdict.correct for a in attempts)
    command = " ".join(filter(None, (f"{MODEL_ENV}={shlex.quote(model)}" if model else "",
                                     ".venv/bin/python bench/nl2sql.py",
                                     "--only " + " ".join(args.only) if args.only else "")))
    print(f"execution accuracy ({model or 'the hub default model'}): {correct}/{len(attempts)}"
          f" = {correct / len(attempts):.2f}")
    print(f"reproduce: {command}")


if __name__ == "__main__":
    main()

"""Ask the data (NL→SQL): a question in Korean or English → the configured model writes one
SQL statement over the datasets the asker may read → it runs through the analysis sandbox
exactly as `POST /api/v1/query` runs it for that person (the same guard, permission check,
workers, limits and history) → rows, or the refusal.

The prompt shows only datasets whose rows the asker may read (never sensitive ones, which the
SQL engine does not serve), with a few values of each column from the version's profile —
none from columns where personal data was found. A statement that fails (a syntax error, an
unknown table or column, an engine error) is sent back to the model once, with the error; a
statement the guard or the permission check refuses is never repaired: it is answered as
refused. Nothing is run but through `analysis.service.run_query`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from ...analysis import schemas as analysis_schemas
from ...analysis import service as analysis
from ...catalog import service as catalog
from ...config import Settings
from ...core.db import FAILURE_WRITES
from ...core.errors import Forbidden, HubError, Invalid, Unauthenticated, Unavailable
from ...core.i18n import translate
from ...identity.policy import Actor, authorize, can
from ...lake import service as lake
from ...privacy import service as privacy
from .. import schemas
from . import prompts
from .assist import Complete, Limits, chat, check_on

if TYPE_CHECKING:
    from ...analysis.workers import QueryPool
    from ...lake.storage import LakeStorage

PURPOSE = "nl2sql"
ROW_LIMIT = 1000          # as the SQL console: at most this many rows come back
TIMEOUT_MS = 30_000       # the SQL API's default time limit
MAX_TABLES = 30           # more readable datasets than this: the most related ones
ANSWER_TOKENS = 1200
# refusals that no rewording should get round: the guard's and the permission check's
NOT_REPAIRED = {"sandbox_refused", "query_too_long"}


@dataclass
class Tried:
    """One statement and what running it gave."""

    sql: str
    result: analysis_schemas.QueryResult | None = None
    error: HubError | None = None


@dataclass
class Answer:
    question: str
    sql: str | None = None
    result: analysis_schemas.QueryResult | None = None
    refusal: HubError | None = None
    repaired: bool = False
    tries: list[Tried] = field(default_factory=list)


# --- the tables the prompt shows ------------------------------------------------------------


def readable_tables(session: Session, *, actor: Actor, question: str) -> list[prompts.Table]:
    """The datasets `actor` may query (rows readable, not sensitive, with data), as the
    prompt shows them; the most related to the question first when there are many."""
    datasets: list[Any] = []
    cursor = None
    while True:
        page, cursor = lake.list_datasets(session, limit=1000, cursor=cursor)
        datasets += [d for d in page if d.current_version and d.access != "sensitive"
                     and can(actor, "lake.rows.read", d)]
        if cursor is None:
            break
    if len(datasets) > MAX_TABLES:
        datasets = _most_related(session, actor, question, datasets)[:MAX_TABLES]
    return [_table(session, actor, d) for d in datasets]


def _most_related(session: Session, actor: Actor, question: str, datasets: list[Any]
                  ) -> list[Any]:
    result, _ = catalog.search(session, actor=actor, q=question[:500],
                               filters={"kind": "dataset"}, limit=200)
    rank = {(h.record.org, h.record.slug): i for i, h in enumerate(result.hits)}
    return sorted(datasets, key=lambda d: (rank.get((d.organization.slug, d.slug),
                                                    len(rank)), d.table_name))


def _table(session: Session, actor: Actor, dataset: Any) -> prompts.Table:
    version = lake.get_version(session, dataset=dataset)
    profile = lake.visible_profile(actor, dataset, version)
    personal = {f.column for f in privacy.findings.of_version(session, dataset)}
    stats = {c["name"]: c for c in profile.get("columns", [])}
    columns = []
    for column in dataset.columns or []:
        name, kind = column["name"], column.get("type", "text")
        examples = [] if name in personal else _examples(stats.get(name, {}), kind)
        columns.append(prompts.Column(name, kind, examples))
    title = " / ".join(t for t in (dataset.title_ko, dataset.title_en) if t)
    description = dataset.description_ko or dataset.description_en or ""
    return prompts.Table(dataset.table_name, title, description, version.row_count, columns)


def _examples(stats: dict[str, Any], kind: str) -> list[str]:
    """A few values of a column from its profile: its most frequent values, else its range
    (numbers and dates) or its first value (text)."""
    top = [prompts.value_text(t["value"]) for t in stats.get("top") or []
           if t.get("value") not in (None, "")]
    if top:
        return top[:prompts.EXAMPLES]
    low, high = stats.get("min"), stats.get("max")
    if low is None:
        return []
    if kind in ("integer", "decimal", "date", "timestamp") and high is not None:
        return [f"{prompts.value_text(low)} … {prompts.value_text(high)}"]
    return [prompts.value_text(low)]


# --- running a statement ---------------------------------------------------------------------


def run(session: Session, *, actor: Actor, storage: LakeStorage, settings: Settings,
        queries: QueryPool, sql: str) -> Tried:
    """The statement through the SQL API's own service, with the asker's rights; its error,
    when it fails, kept in the asker's history as the console keeps it."""
    request = analysis_schemas.QueryRequest(sql=sql, limit=ROW_LIMIT, timeout_ms=TIMEOUT_MS)
    try:
        return Tried(sql, result=analysis.run_query(
            session, actor=actor, storage=storage, settings=settings, queries=queries,
            request=request))
    except Unavailable:
        raise                          # the query service itself is busy or stopping
    except HubError as error:
        # the request goes on: the history row the failure asked to keep is written now, in
        # its transaction (and stays asked for, should the request fail later and roll back)
        kept = session.info.get(FAILURE_WRITES) or []
        if kept:
            kept[-1](session)
            session.flush()
        return Tried(sql, error=error)


def repairable(error: HubError) -> bool:
    """A mistake the model may fix (syntax, names, an engine error); never a refusal by the
    guard or the permission check."""
    return not isinstance(error, (Forbidden, Unauthenticated)) and \
        error.code not in NOT_REPAIRED


# --- the whole question ----------------------------------------------------------------------


async def ask(session: Session, *, actor: Actor, question: str, complete: Complete,
              storage: LakeStorage, settings: Settings, queries: QueryPool, limits: Limits,
              address: str) -> Answer:
    """Ask the configured model for SQL answering `question`, run it as `actor`, repair it
    once when it fails. The parts that touch the database or the sandbox run in a thread."""
    authorize(actor, "ai.assist.use")
    check_on(settings)
    limits.check(actor, address)
    tables = await asyncio.to_thread(readable_tables, session, actor=actor, question=question)
    messages = prompts.sql_messages(question, tables)
    answer = Answer(question)
    text = await chat(complete, messages, purpose=PURPOSE, actor=actor,
                      max_tokens=ANSWER_TOKENS)
    for attempt in range(2):
        read = prompts.read_sql(text)
        if read.sql is None:
            answer.refusal = Invalid(
                "The model wrote no SQL statement: {reason}", code="model_declined",
                reason=read.cannot or text.strip()[:300] or "—")
            return answer
        tried = await asyncio.to_thread(run, session, actor=actor, storage=storage,
                                        settings=settings, queries=queries, sql=read.sql)
        answer.tries.append(tried)
        answer.sql, answer.result, answer.refusal = tried.sql, tried.result, tried.error
        if tried.error is None or attempt or not repairable(tried.error):
            return answer
        answer.repaired = True
        messages = prompts.repair_messages(messages, text, str(tried.error))
        text = await chat(complete, messages, purpose=PURPOSE, actor=actor,
                          max_tokens=ANSWER_TOKENS)
    return answer


# --- the answer as routes give it ------------------------------------------------------------


def chart_for(result: analysis_schemas.QueryResult | None) -> schemas.ChartSpec | None:
    """A chart where one fits: two columns, one text (or a date) and one number, with rows."""
    if result is None or not result.rows or len(result.columns) != 2:
        return None
    numeric = [c for c in result.columns if c.type in ("integer", "decimal")]
    other = [c for c in result.columns if c.type not in ("integer", "decimal")]
    if len(numeric) != 1 or len(other) != 1:
        return None
    if other[0].type == "text":
        return schemas.ChartSpec(type="bar", x=other[0].name, y=numeric[0].name)
    if other[0].type in ("date", "timestamp"):
        return schemas.ChartSpec(type="line", x=other[0].name, y=numeric[0].name)
    return None


def answer_read(answer: Answer, lang: str) -> schemas.AskDataRead:
    """The answer in the asker's language (a refusal's words are translated)."""
    result = answer.result
    refusal = answer.refusal
    return schemas.AskDataRead(
        question=answer.question, sql=answer.sql,
        columns=[schemas.ColumnRead(name=c.name, type=c.type) for c in result.columns]
        if result else [],
        rows=result.rows if result else [], truncated=bool(result and result.truncated),
        refused=translate(refusal.message, lang, **refusal.params) if refusal else None,
        refused_code=refusal.code if refusal else None, repaired=answer.repaired,
        chart=chart_for(result))

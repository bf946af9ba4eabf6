"""Catalogue Q&A: a question → the catalogue's own search (keywords and multilingual
embeddings) over datasets, services and the published FAQ → the records the asker may see
that pass a relevance threshold, numbered in a prompt → the configured model's answer, citing
them by number; only citations of records it was shown are kept.

Who may ask: anyone, anonymous callers too (within an abuse limit per address). What they
may see: services and the FAQ (public in the registry), open datasets, and restricted or
sensitive datasets only where they may read the rows (members of the owner; an app with an
approved subscription) — a restricted dataset of another organization is never put in the
prompt. When nothing relevant is found, the answer is "I don't know" in the question's
language, and the model is not called.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from ...catalog import service as catalog
from ...config import Settings
from ...identity.policy import Actor, authorize, can
from ...lake import service as lake
from .. import schemas
from . import prompts
from .assist import Complete, Limits, chat, check_on, language_of

if TYPE_CHECKING:
    from ...catalog.records import Record
    from ...catalog.search import Hit

PURPOSE = "catalog_qa"
SEARCHED = 50            # hits read from the search, before the visibility filter
SHOWN = 5                # records put in the prompt
# The search's score runs from 0 to 1: keyword relevance relative to the best hit (0.6 of
# it) and the embedding's cosine similarity rescaled (0.4). A record is used when it reaches
# MIN_SCORE and half of the best one's score: a hit that shares only a common syllable pair,
# or a weak meaning match (cosine ≈ 0.2), stays out.
MIN_SCORE = 0.25
BEST_SHARE = 0.5
ANSWER_TOKENS = 800
DONT_KNOW = {
    "ko": "모르겠습니다. 카탈로그에서 이 질문과 관련된 데이터셋, 서비스나 FAQ를 찾지 "
          "못했습니다.",
    "en": "I don't know: I found no dataset, service or FAQ in the catalogue that answers "
          "this question.",
}
KINDS = ("dataset", "service", "faq")


def found_records(session: Session, *, actor: Actor, question: str
                  ) -> list[prompts.Record]:
    """The records relevant enough to show the model, that `actor` may see, best first."""
    result, _ = catalog.search(session, actor=actor, q=question[:500], limit=SEARCHED)
    hits = [h for h in result.hits if h.record.kind in KINDS and h.score >= MIN_SCORE]
    if not hits:
        return []
    best = max(h.score for h in hits)
    records: list[prompts.Record] = []
    for hit in hits:
        if hit.score < best * BEST_SHARE or not _visible(session, actor, hit.record):
            continue
        records.append(_record(hit))
        if len(records) == SHOWN:
            break
    return records


def _visible(session: Session, actor: Actor, record: Record) -> bool:
    if record.kind != "dataset":
        return record.access in ("open", "approval")      # services and the FAQ are public
    if record.access == "open":
        return True
    return can(actor, "lake.rows.read", lake.get_dataset_by_id(session, record.ref_id))


def _record(hit: Hit) -> prompts.Record:
    record, read = hit.record, catalog.hit_read(hit)
    title = " / ".join(t for t in (record.title_ko, record.title_en) if t)
    ref = record.slug if record.kind == "faq" else f"{record.org}/{record.slug}"
    extra = ""
    if record.columns:
        label = "columns" if record.kind == "dataset" else "operations"
        extra = f"{label}: " + ", ".join(record.columns[:30])
    return prompts.Record(record.kind, ref, title, record.description, read.url, extra)


async def ask(session: Session, *, actor: Actor, question: str, complete: Complete,
              settings: Settings, limits: Limits, address: str) -> schemas.AskRead:
    authorize(actor, "ai.catalog.ask")
    check_on(settings)
    limits.check(actor, address)
    lang = language_of(question)
    records = await asyncio.to_thread(found_records, session, actor=actor, question=question)
    if not records:
        return schemas.AskRead(answer=DONT_KNOW[lang], citations=[])
    text = await chat(complete, prompts.qa_messages(question, records, lang),
                      purpose=PURPOSE, actor=actor, max_tokens=ANSWER_TOKENS)
    citations = [records[n - 1] for n in prompts.cited(text, len(records))]
    return schemas.AskRead(answer=text.strip(), citations=[
        schemas.Citation(kind=r.kind, ref=r.ref, title=r.title, url=r.url)  # type: ignore[arg-type]
        for r in citations])

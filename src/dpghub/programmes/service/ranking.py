"""The ranking of a call's applications by weighted score.

One reviewer's total is Σ weight·score/max ÷ Σ weight × 100 — on 100 whatever the weights sum
to (when they sum to 100 it is Σ weight·score/max). An application's score is the mean of its
reviewers' totals, counting only complete reviews (every criterion scored)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy.orm import Session

from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import Application, Call
from . import applications


def weighted_total(criteria: Sequence[Mapping[str, Any]], scores: Mapping[str, float]) -> float:
    """One reviewer's total on 100 from their score per criterion (all criteria scored)."""
    weights = sum(float(c["weight"]) for c in criteria)
    earned = sum(float(c["weight"]) * scores[c["id"]] / float(c["max_score"]) for c in criteria)
    return earned / weights * 100


def application_score(criteria: Sequence[Mapping[str, Any]],
                      reviews: Iterable[Mapping[str, float]]) -> tuple[float | None, int]:
    """The mean of the complete reviews' totals, and how many reviews counted."""
    totals = [weighted_total(criteria, r) for r in reviews
              if all(c["id"] in r for c in criteria)]
    if not totals:
        return None, 0
    return sum(totals) / len(totals), len(totals)


def reviews_of(application: Application) -> dict[int, dict[str, float]]:
    """Each reviewer's scores of the application, by criterion."""
    found: dict[int, dict[str, float]] = defaultdict(dict)
    for score in application.scores:
        found[score.reviewer_id][score.criterion] = score.score
    return dict(found)


def rows(session: Session, call: Call) -> list[schemas.RankingRow]:
    """Every submitted (or decided) application, best first; unscored ones last."""
    scored = []
    for application in applications.of_call(session, call):
        reviews = reviews_of(application)
        score, counted = application_score(call.criteria, reviews.values())
        means = {c["id"]: round(sum(r[c["id"]] for r in reviews.values() if c["id"] in r)
                                / n, 2)
                 for c in call.criteria
                 if (n := sum(c["id"] in r for r in reviews.values()))}
        scored.append((application, score, counted, means))
    scored.sort(key=lambda row: (row[1] is None, -(row[1] or 0.0),
                                 row[0].submitted_at or row[0].created_at, row[0].id))
    return [schemas.RankingRow(
        rank=i, application=a.id, title=a.title, lead=applications.org_ref(a.organization),
        members=[applications.org_ref(m.organization) for m in a.members], state=a.state,
        reviews=counted, score=None if score is None else round(score, 2), criteria=means)
        for i, (a, score, counted, means) in enumerate(scored, start=1)]


def ranking(session: Session, *, actor: Actor, call: Call) -> schemas.Ranking:
    authorize(actor, "programmes.selection.read", call)
    return schemas.Ranking(call=call.id, select_count=call.select_count,
                           rows=rows(session, call))

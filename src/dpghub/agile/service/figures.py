"""Agile's monthly figures for the programme dashboard (added in `app.register_hooks`):
succeeded releases, and feedback answered — feedback whose first answer from the team (a
status change or triage, the moment the response time counts to) fell in the month."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...core import months as months_of
from ..models import Feedback, Release, ReleaseStatus


def monthly_figures(session: Session, months: list[str]) -> dict[str, dict[str, float]]:
    start, end = months_of.bounds(months)
    released = months_of.seoul_month(Release.released_at)
    releases = dict(session.execute(
        select(released, func.count(Release.id))
        .where(Release.status == ReleaseStatus.succeeded, Release.released_at >= start,
               Release.released_at < end).group_by(released)).all())
    answered_in = months_of.seoul_month(Feedback.first_response_at)
    answered = dict(session.execute(
        select(answered_in, func.count(Feedback.id))
        .where(Feedback.first_response_at >= start, Feedback.first_response_at < end)
        .group_by(answered_in)).all())
    return {"agile_releases": {m: releases.get(m, 0) for m in months},
            "feedback_answered": {m: answered.get(m, 0) for m in months}}

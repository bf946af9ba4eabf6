"""The testbed's monthly figures for the programme dashboard: sandbox projects started and
contract validations passed in each month (Asia/Seoul)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...core import months as months_of
from ..models import Project, Validation


def monthly_figures(session: Session, months: list[str]) -> dict[str, dict[str, float]]:
    start, end = months_of.bounds(months)
    started = months_of.seoul_month(Project.created_at)
    projects = dict(session.execute(
        select(started, func.count(Project.id))
        .where(Project.created_at >= start, Project.created_at < end).group_by(started)).all())
    finished = months_of.seoul_month(Validation.finished_at)
    passed = dict(session.execute(
        select(finished, func.count(Validation.id))
        .where(Validation.passed.is_(True), Validation.finished_at >= start,
               Validation.finished_at < end).group_by(finished)).all())
    return {"sandbox_projects": {m: projects.get(m, 0) for m in months},
            "validations_passed": {m: passed.get(m, 0) for m in months}}

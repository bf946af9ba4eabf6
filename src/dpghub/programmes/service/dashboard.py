"""The programme dashboard (R&R council): per programme its calls, applicants, selected
participants and budget granted — public — and, for operators, each call's applicants with
their names and scores; and the hub's figures per month (Asia/Seoul), each public or for
operators. Domains below this one are asked directly; its siblings and those above it
(testbed, agile, ai) add their figures with `add_provider` from `app.register_hooks`."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ...catalog import service as catalog
from ...core import months as months_of
from ...core.i18n import translate
from ...gateway import service as gateway
from ...identity.policy import Actor, can
from ...lake import service as lake
from .. import schemas
from ..models import ApplicationState, Programme
from . import agreements, applications, calls, ranking

Provider = Callable[[Session, list[str]], dict[str, dict[str, float]]]


@dataclass(frozen=True)
class Figure:
    key: str
    label: str      # an English message id
    public: bool
    stock: bool     # at each month's end; else within the month


FIGURES = (
    Figure("datasets_open", "Open datasets", True, True),
    Figure("rows_open", "Rows of open datasets", True, True),
    Figure("services", "Registered services", True, True),
    Figure("gateway_calls", "Calls through the gateway", True, False),
    Figure("agile_releases", "Agile releases", True, False),
    Figure("feedback_answered", "Feedback answered", True, False),
    Figure("datasets", "All datasets", False, True),
    Figure("rows", "Rows of all datasets", False, True),
    Figure("sandbox_projects", "Sandbox projects started", False, False),
    Figure("validations_passed", "Validations passed", False, False),
    Figure("ai_tokens", "AI tokens used", False, False),
)
_PROVIDERS: list[Provider] = [lake.monthly_figures, catalog.monthly_figures,
                              gateway.monthly_figures]


def add_provider(provider: Provider) -> None:
    """A domain above this one adds its monthly figures (once; again changes nothing)."""
    if provider not in _PROVIDERS:
        _PROVIDERS.append(provider)


def figures(session: Session, *, actor: Actor, now: datetime, start: str | None = None,
            end: str | None = None, language: str = "ko") -> schemas.Dashboard:
    detailed = can(actor, "programmes.selection.read")
    programmes = []
    for programme in Programme:
        rows = []
        for call in calls.list_(session, programme=programme.value):
            submitted = applications.of_call(session, call)
            selected = [a for a in submitted if a.state == ApplicationState.selected]
            rows.append(schemas.CallFigures(
                id=call.id, title=call.title, state=calls.state(call, now),
                closes_at=call.closes_at, applicants=len(submitted),
                selected=[applications.org_ref(a.organization) for a in selected],
                budget_granted_krw=sum(a.budget_krw for a in agreements.of_call(session,
                                                                                 call.id)),
                ranking=ranking.rows(session, call) if detailed else None))
        programmes.append(schemas.ProgrammeFigures(
            programme=programme.value, calls=len(rows),
            open_calls=sum(r.state == "open" for r in rows),
            applicants=sum(r.applicants for r in rows),
            selected=sum(len(r.selected) for r in rows),
            budget_granted_krw=sum(r.budget_granted_krw for r in rows), call_figures=rows))
    return schemas.Dashboard(as_of=now, programmes=programmes,
                             hub=monthly(session, actor=actor, now=now, start=start, end=end,
                                         language=language))


def monthly(session: Session, *, actor: Actor, now: datetime, start: str | None = None,
            end: str | None = None, language: str = "ko") -> schemas.HubFigures:
    """The hub's figures for the months from `start` to `end` ('YYYY-MM', Asia/Seoul; the
    last twelve by default): everyone sees the public ones, operators every one."""
    months = months_of.months_between(start, end, now)
    counted: dict[str, dict[str, float]] = {}
    for provider in _PROVIDERS:
        counted.update(provider(session, months))
    everything = can(actor, "programmes.figures.read")
    return schemas.HubFigures(months=months, series=[
        schemas.MonthlySeries(key=f.key, label=translate(f.label, language), public=f.public,
                              stock=f.stock, available=f.key in counted,
                              values=[counted.get(f.key, {}).get(m, 0) for m in months])
        for f in FIGURES if f.public or everything])


def as_csv(found: schemas.HubFigures) -> str:
    """One row per month, one column per figure (keys as headers, for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["month", *(s.key for s in found.series)])
    for i, month in enumerate(found.months):
        writer.writerow([month, *(_number(s.values[i]) for s in found.series)])
    return out.getvalue()


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}"

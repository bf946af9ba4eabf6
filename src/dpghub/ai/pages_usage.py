"""The AI usage page (/ai/usage): an organization's credit for the month and its calls,
tokens and cost per Seoul day (a chart and its table) and per model — or one app's. Its
members and operators; plain HTML."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from ..gateway import service as gateway
from ..identity import service as identity
from ..identity.dependencies import SignedInPageActor
from ..identity.policy import can
from ..web import csrf
from ..web.context import DbSession
from ..web.templating import render
from . import service

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


@router.get("/ai/usage")
def usage_page(request: Request, session: DbSession, actor: SignedInPageActor,
               org: Annotated[str | None, Query()] = None,
               app: Annotated[int | None, Query(ge=1)] = None,
               days: Annotated[int, Query(ge=1, le=366)] = 31) -> Response:
    now = request.app.state.clock()
    mine = [o for o, _ in identity.orgs_of(session, actor.user_id)
            if can(actor, "ai.usage.read", o)]
    found_app = gateway.get_app(session, actor=actor, app_id=app) if app else None
    chosen = (found_app.organization if found_app is not None else
              identity.get_org_by_slug(session, org) if org else mine[0] if mine else None)
    context: dict[str, Any] = {"orgs": mine, "org": chosen, "app": found_app, "days": days,
                               "usage": None, "budget": None}
    if chosen is not None:
        usage = (service.ledger.usage(session, actor=actor, app=found_app, days=days, now=now)
                 if found_app is not None else
                 service.ledger.usage(session, actor=actor, org=chosen, days=days, now=now))
        per_day: dict[str, list[float]] = {}
        per_model: dict[str, list[float]] = {}
        for row in usage.rows:
            for table, key in ((per_day, row.day), (per_model, row.model)):
                totals = table.setdefault(key, [0, 0, 0, 0.0])
                totals[0] += row.calls
                totals[1] += row.input_tokens
                totals[2] += row.output_tokens
                totals[3] += row.cost_krw
        top = max((t[1] + t[2] for t in per_day.values()), default=0) or 1
        context.update(
            usage=usage, per_model=sorted(per_model.items()),
            per_day=[(day, t, round((t[1] + t[2]) / top * 100)) for day, t in
                     sorted(per_day.items())],
            budget=service.budgets.read(
                session, actor=actor, org=chosen, now=now,
                pending=int(request.app.state.ai.pending.get(
                    (chosen.id, service.budgets.month_now(now)), 0))))
    return render(request, "ai/usage.html", context)

"""AI pages: ask the data (`/ai/ask-data`), a plain form that works without JavaScript,
linked from the SQL console (the console belongs to `analysis`, below `ai`, so it links here
rather than importing this)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..identity.dependencies import SignedInPageActor
from ..web import csrf
from ..web.context import DbSession, HubSettings, language
from ..web.forms import attempt, form_data, parse
from ..web.templating import render
from . import schemas, service

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
SHOWN_ROWS = 500


def _page(request: Request, **context: Any) -> Response:
    error = context.get("error")
    return render(request, "ai/ask_data.html", {"question": "", "answer": None, **context},
                  status=error.status if error else 200)


@router.get("/ai/ask-data")
def ask_data_form(request: Request, actor: SignedInPageActor) -> Response:
    return _page(request)


@router.post("/ai/ask-data")
async def ask_data(request: Request, session: DbSession, actor: SignedInPageActor,
                   settings: HubSettings) -> Response:
    form = await form_data(request)
    question = str(form.get("question", ""))
    state = request.app.state
    with attempt(session) as tried:
        data = parse(schemas.AskDataRequest, {"question": question})
        answer = await service.nl2sql.ask(
            session, actor=actor, question=data.question, complete=state.ai.complete,
            storage=state.storage, settings=settings, queries=state.queries,
            limits=state.ai_assist_limits,
            address=request.client.host if request.client else "")
    if tried.error is not None:
        return _page(request, question=question, error=tried.error)
    read = service.nl2sql.answer_read(answer, language(request))
    chart = None
    if read.chart is not None and read.chart.type == "bar":
        names = [c.name for c in read.columns]
        x, y = names.index(read.chart.x), names.index(read.chart.y)
        rows = [r for r in read.rows[:30] if r[y] is not None]
        chart = {"labels": [str(r[x]) for r in rows], "values": [r[y] for r in rows],
                 "title": f"{read.chart.y} · {read.chart.x}"}
    return _page(request, question=question, answer=read, shown=read.rows[:SHOWN_ROWS],
                 chart=chart)

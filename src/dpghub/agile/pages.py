"""Agile pages: my projects and notices (/agile), a project's board (cards move with plain
forms, no script) with its backlog form, releases and deployments, the delivery metrics with
charts and their exact definitions, and the feedback section of a service's page (a catalogue
panel registered in `app.register_hooks`)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..catalog import service as catalog
from ..core.errors import HubError
from ..identity import service as identity
from ..identity.dependencies import PageActor, SignedInPageActor
from ..identity.policy import can
from ..web import csrf
from ..web.context import DbSession
from ..web.forms import attempt, form_data, parse
from ..web.params import Id
from ..web.templating import redirect, render
from . import schemas, service

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])
STATES = ("backlog", "selected", "in_progress", "done")
METRICS = ("deployment_frequency", "lead_time_median_hours", "change_failure_rate",
           "time_to_restore_median_hours", "feedback_lead_time_median_hours",
           "feedback_response_median_hours")


def _now(request: Request) -> Any:
    return request.app.state.clock()


@router.get("/agile")
def home(request: Request, session: DbSession, actor: PageActor) -> Response:
    return render(request, "agile/home.html", {
        "projects": [service.projects.project_read(session, p)
                     for p in service.projects.list_(session, actor=actor)]
        if actor.user_id else [],
        "notices": identity.of_user(session, actor=actor, domain="agile", unread_only=True),
        "metrics": METRICS})


# --- starting a project --------------------------------------------------------------------


@router.get("/agile/new")
def new_project(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    return _new(request, session, actor)


def _new(request: Request, session: Any, actor: Any, error: HubError | None = None,
         status: int = 200, form: dict[str, Any] | None = None) -> Response:
    """The form to start a project: the organizations one may lead for, and the agreements of
    `agile` selections they won as lead and have not used yet."""
    orgs = [org for org, _ in identity.orgs_of(session, actor.user_id)
            if can(actor, "agile.project.create", org)]
    return render(request, "agile/new.html", {
        "orgs": orgs, "agreements": service.projects.open_agreements(session, orgs),
        "error": error, "form": form or {}}, status=status)


def _words(value: Any, sep: str = ",") -> list[str]:
    """A text field of several slugs or references (comma or line separated)."""
    text = " ".join(value) if isinstance(value, list) else str(value or "")
    return [w.strip() for w in text.replace("\n", sep).split(sep) if w.strip()]


@router.post("/agile/projects")
async def create_project(request: Request, session: DbSession,
                         actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    data: dict[str, Any] = {k: v for k, v in form.items() if v != ""}
    data["members"] = _words(form.get("members"))
    data["datasets"] = _words(form.get("datasets"))
    with attempt(session) as tried:
        project = service.projects.create(session, actor=actor,
                                          data=parse(schemas.ProjectCreate, data),
                                          now=_now(request))
    if (error := tried.error) is not None:
        return _new(request, session, actor, error=error, status=error.status, form=form)
    return redirect(request, f"/agile/projects/{project.id}", "The project was created.")


@router.post("/agile/notices/read")
def read_notices(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    identity.mark_read(session, actor=actor, domain="agile")
    return redirect(request, "/agile")


# --- a project's board ---------------------------------------------------------------------


@router.get("/agile/projects/{project_id}")
def project_page(project_id: Id, request: Request, session: DbSession,
                 actor: SignedInPageActor) -> Response:
    return _project(project_id, request, session, actor)


def _project(project_id: int, request: Request, session: Any, actor: Any,
             error: HubError | None = None, status: int = 200) -> Response:
    project = service.projects.get(session, actor=actor, project_id=project_id)
    board = service.items.board(session, actor=actor, project=project)
    return render(request, "agile/project.html", {
        "project": service.projects.project_read(session, project),
        "board": board, "today": _now(request).date(),
        "states": STATES,
        "iterations": [service.iterations.iteration_read(i) for i in
                       service.iterations.list_(session, actor=actor, project=project)],
        "releases": service.releases.list_(session, project),
        "deployments": service.deployments.list_(session, actor=actor, project=project)[:20],
        "feedback": [service.feedback.feedback_read(session, f)
                     for f in service.feedback.of_service(session, project.service_id)]
        if project.service_id is not None else [],
        "incidents": service.incidents.list_(session, actor=actor, project=project)[:20],
        "can_work": can(actor, "agile.project.work", project),
        "error": error}, status=status)


@router.post("/agile/projects/{project_id}/items")
async def add_item(project_id: Id, request: Request, session: DbSession,
                   actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    form["acceptance"] = [line.strip() for line in str(form.get("acceptance", "")).splitlines()
                          if line.strip()]
    form["labels"] = [t.strip() for t in str(form.get("labels", "")).split(",") if t.strip()]
    if form.get("estimate") == "":
        form.pop("estimate")
    with attempt(session) as tried:
        project = service.projects.load(session, project_id)
        service.items.create(session, actor=actor, project=project,
                             data=parse(schemas.ItemCreate, form), now=_now(request))
    if (error := tried.error) is not None:
        return _project(project_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/agile/projects/{project_id}", "The item was added.")


@router.post("/agile/projects/{project_id}/items/{item_id}/move")
async def move_item(project_id: Id, item_id: Id, request: Request, session: DbSession,
                    actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        project = service.projects.get(session, actor=actor, project_id=project_id,
                                       action="agile.project.work")
        item = service.items.get(session, project, item_id)
        service.items.update(session, actor=actor, project=project, item=item,
                             data=parse(schemas.ItemUpdate, {"state": form.get("state")}),
                             now=_now(request))
    if (error := tried.error) is not None:
        return _project(project_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/agile/projects/{project_id}#item-{item_id}", "The card moved.")


@router.post("/agile/projects/{project_id}/iterations")
async def plan_iteration(project_id: Id, request: Request, session: DbSession,
                         actor: SignedInPageActor) -> Response:
    """Plan an iteration: its period and goal, and the backlog items ticked on the form."""
    form = await form_data(request)
    items = form.get("items", [])
    form["items"] = [items] if isinstance(items, str) else items
    with attempt(session) as tried:
        project = service.projects.load(session, project_id)
        service.iterations.create(session, actor=actor, project=project,
                                  data=parse(schemas.IterationCreate, form))
    if (error := tried.error) is not None:
        return _project(project_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/agile/projects/{project_id}#iter-h",
                    "The iteration was planned.")


@router.post("/agile/projects/{project_id}/feedback/{feedback_id}")
async def triage_feedback(project_id: Id, feedback_id: Id, request: Request,
                          session: DbSession, actor: SignedInPageActor) -> Response:
    """The team's answer to a feedback: a status, a backlog item it goes into, or a merge."""
    form = await form_data(request)
    data = {k: v for k, v in form.items() if v != ""}
    with attempt(session) as tried:
        project = service.projects.load(session, project_id)
        found = service.feedback.of_project(session, project, feedback_id, "feedback")
        service.feedback.update(session, actor=actor, feedback=found,
                                data=parse(schemas.FeedbackUpdate, data), now=_now(request))
    if (error := tried.error) is not None:
        return _project(project_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/agile/projects/{project_id}#fb-{feedback_id}",
                    "The feedback was answered.")


# --- metrics -------------------------------------------------------------------------------


@router.get("/agile/projects/{project_id}/metrics")
def metrics_page(project_id: Id, request: Request, session: DbSession,
                 actor: PageActor) -> Response:
    project = service.projects.load(session, project_id)
    found = service.metrics.metrics(session, actor=actor, project=project, start=None,
                                    end=None, now=_now(request))
    charts = {}
    for name in ("deployment_frequency", "lead_time_median_hours", "change_failure_rate"):
        values = [getattr(w, name) or 0 for w in found.weeks]
        top = max(values) or 1
        charts[name] = [(w.week, v, round(v / top * 100)) for w, v in zip(found.weeks, values,
                                                                           strict=True)]
    return render(request, "agile/metrics.html", {
        "project": service.projects.project_read(session, project), "metrics": found,
        "names": METRICS, "charts": charts})


@router.get("/agile/metrics")
def definitions(request: Request, actor: PageActor) -> Response:
    """The exact definitions of the delivery metrics."""
    return render(request, "agile/definitions.html", {})


# --- feedback on a service's page ----------------------------------------------------------


def feedback_panel(request: Request, session: Any, actor: Any,
                   found: Any) -> tuple[str, dict[str, Any]] | None:
    """The catalogue's service page shows the feedback and its form (a registered panel)."""
    ref = f"{found.organization.slug}/{found.slug}"
    return "agile/_feedback.html", {
        "ref": ref,
        "feedback": [service.feedback.feedback_read(session, f) for f in
                     service.feedback.list_(session, org=found.organization.slug,
                                            slug=found.slug)][:50],
        "anonymous": service.feedback.allows_anonymous(session, found.id),
        "changelog": service.changelog.entries(session, org=found.organization.slug,
                                               slug=found.slug)[:5]}


@router.post("/services/{org}/{slug}/feedback")
async def give_feedback(org: str, slug: str, request: Request, session: DbSession,
                        actor: PageActor) -> Response:
    form = await form_data(request)
    if form.get("rating") == "":
        form.pop("rating")
    catalog.get_service(session, org, slug)        # 404 for a service that does not exist
    with attempt(session) as tried:
        service.feedback.give(session, actor=actor, org=org, slug=slug,
                              data=parse(schemas.FeedbackCreate, form), now=_now(request),
                              limiter=request.app.state.agile_feedback_limiter,
                              address=request.client.host if request.client else "")
    if (error := tried.error) is not None:
        return redirect(request, f"/services/{org}/{slug}#feedback", error.message,
                        **error.params)
    return redirect(request, f"/services/{org}/{slug}#feedback", "Thank you for your feedback.")


@router.post("/feedback/{feedback_id}/vote")
def vote(feedback_id: Id, request: Request, session: DbSession,
         actor: SignedInPageActor) -> Response:
    found = service.feedback.get(session, feedback_id)
    with attempt(session) as tried:
        service.feedback.vote(session, actor=actor, feedback=found, now=_now(request))
    target = catalog.get_service_by_id(session, found.service_id)
    url = f"/services/{target.organization.slug}/{target.slug}#feedback-{feedback_id}"
    if (error := tried.error) is not None:
        return redirect(request, url, error.message, **error.params)
    return redirect(request, url, "Your vote was counted.")

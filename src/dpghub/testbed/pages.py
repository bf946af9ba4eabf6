"""Testbed pages: what the testbed is and one's projects, a project's page (members, keys,
mocks with a try-it form, synthetic copies, validations, the inspector, tickets), a
validation report, the support queue and a ticket's thread, the FAQ. Plain forms, no script."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from ..catalog import service as catalog
from ..core.errors import HubError, Invalid
from ..identity import service as identity
from ..identity.dependencies import PageActor, SignedInPageActor
from ..identity.policy import can
from ..lake import service as lake
from ..web import csrf
from ..web.context import DbSession
from ..web.forms import attempt, form_data, parse
from ..web.params import Id
from ..web.templating import redirect, render
from . import schemas, service, try_it

router = APIRouter(include_in_schema=False, dependencies=[Depends(csrf.protect)])


@router.get("/testbed")
def home(request: Request, session: DbSession, actor: PageActor) -> Response:
    return _home(request, session, actor)


def _home(request: Request, session: Any, actor: Any, error: HubError | None = None,
          status: int = 200) -> Response:
    mine = identity.orgs_of(session, actor.user_id) if actor.user_id else []
    projects = service.projects.list_(session, actor=actor)
    now = request.app.state.clock()
    return render(request, "testbed/home.html", {   # an invitation is a Join button, not a link
        "projects": [service.projects.project_read(session, p, now) for p in projects
                     if can(actor, "testbed.project.read", p)],
        "orgs": [org for org, _ in mine if can(actor, "testbed.project.create", org)],
        "services": catalog.list_services(session), "error": error,
        "invited": [p for p in projects if actor.user_id in {
            m.user_id for m in p.members if m.accepted_at is None}],
        "notices": identity.of_user(session, actor=actor, domain="testbed", unread_only=True,
                                    limit=20),
        "faq": service.support.faq(session)[:5],
        "staff": can(actor, "testbed.support.answer")}, status=status)


@router.post("/testbed/projects")
async def create_project(request: Request, session: DbSession,
                         actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    with attempt(session) as tried:
        org = identity.get_org_by_slug(session, str(form.pop("org", "")))
        services = form.pop("services", [])
        form["services"] = [services] if isinstance(services, str) else services
        project = service.projects.create(session, actor=actor, org=org,
                                          data=parse(schemas.ProjectCreate, form),
                                          now=request.app.state.clock())
    if (error := tried.error) is not None:
        return _home(request, session, actor, error=error, status=error.status)
    return redirect(request, f"/testbed/projects/{project.id}", "The project was created.")


@router.post("/testbed/notices/read")
def notices_read(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    identity.mark_read(session, actor=actor, domain="testbed")
    return redirect(request, "/testbed")


@router.get("/testbed/projects/{project_id}")
def project_page(project_id: Id, request: Request, session: DbSession,
                 actor: SignedInPageActor) -> Response:
    return _project(project_id, request, session, actor)


def _project(project_id: int, request: Request, session: Any, actor: Any,
             error: HubError | None = None, status: int = 200) -> Response:
    project = service.projects.get(session, actor=actor, project_id=project_id)
    now = request.app.state.clock()
    request.app.state.sandbox.inspector.flush()
    filters = {k: request.query_params.get(k) for k in ("status", "valid", "service")}
    inspector = service.calls.requests_of(
        session, actor=actor, project=project, limit=30,
        status=_status(filters["status"]),
        valid={"yes": True, "no": False}.get(filters["valid"] or ""),
        service=filters["service"] or None)
    read = service.projects.project_read(session, project, now)
    return render(request, "testbed/project.html", {
        "project": read, "examples": _examples(session, read, str(request.base_url)),
        "keys": service.projects.keys_of(session, project),
        "copies": [service.synthetic.copy_read(session, c)
                   for c in service.synthetic.list_(session, project)],
        "validations": [service.validations.validation_read(session, v)
                        for v in service.validations.list_(session, project)],
        "tickets": service.support.list_(session, actor=actor, project=project),
        "inspector": inspector.items, "filters": filters,
        "datasets": [d for d in lake.list_datasets(session, limit=200)[0]     # copyable ones
                     if d.access == "open" or (d.access == "restricted"
                                               and d.org_id == project.org_id)],
        "services": catalog.list_services(session), "error": error,
        "can_manage": can(actor, "testbed.project.manage", project),
        "can_work": can(actor, "testbed.project.work", project)}, status=status)


def _examples(session: Any, project: schemas.ProjectRead, base_url: str) -> list[Any]:
    """A curl per service the project builds on, from the service's own document."""
    found = []
    for r in project.resources:
        if r.kind == "service":
            org, slug = r.ref.split("/")
            command = try_it.curl(catalog.get_service(session, org, slug).openapi, r.ref,
                                  base_url)
            if command:
                found.append((r.ref, command))
    return found


def _status(text: str | None) -> int | None:
    """The inspector's status filter: an HTTP status, else no filter (a stray number never
    reaches the database)."""
    value = (text or "").strip()
    return int(value) if value.isdigit() and len(value) == 3 else None


async def _act(request: Request, session: Any, actor: Any, project_id: int, work: Any,
               flash: str, anchor: str = "") -> Response:
    """Run one form's change on a project; a refusal re-renders the page with its reason."""
    form = await form_data(request)
    project = service.projects.get(session, actor=actor, project_id=project_id)
    with attempt(session) as tried:
        reveal = work(project, form)
    if (error := tried.error) is not None:
        return _project(project_id, request, session, actor, error=error, status=error.status)
    return redirect(request, f"/testbed/projects/{project_id}{anchor}", flash,
                    reveal=reveal if isinstance(reveal, dict) else None)


@router.post("/testbed/projects/{project_id}/keys")
async def create_key(project_id: Id, request: Request, session: DbSession,
                     actor: SignedInPageActor) -> Response:
    def work(project: Any, form: dict[str, Any]) -> dict[str, str]:
        _, plain = service.projects.create_key(session, actor=actor, project=project,
                                               now=request.app.state.clock())
        return {"key": plain}
    return await _act(request, session, actor, project_id, work, "A new key was made.", "#keys")


@router.post("/testbed/projects/{project_id}/keys/{key_id}/revoke")
async def revoke_key(project_id: Id, key_id: Id, request: Request, session: DbSession,
                     actor: SignedInPageActor) -> Response:
    def work(project: Any, form: dict[str, Any]) -> None:
        service.projects.revoke_key(session, actor=actor, project=project, key_id=key_id,
                                    now=request.app.state.clock())
    return await _act(request, session, actor, project_id, work, "The key was revoked.",
                      "#keys")


@router.post("/testbed/projects/{project_id}/members")
async def add_member(project_id: Id, request: Request, session: DbSession,
                     actor: SignedInPageActor) -> Response:
    def work(project: Any, form: dict[str, Any]) -> None:
        data = parse(schemas.MemberAdd, form)
        service.projects.add_member(session, actor=actor, project=project, email=data.email,
                                    now=request.app.state.clock())
    return await _act(request, session, actor, project_id, work, "Saved.", "#members")


@router.post("/testbed/projects/{project_id}/accept")
def accept(project_id: Id, request: Request, session: DbSession,
           actor: SignedInPageActor) -> Response:
    service.projects.accept(session, actor=actor, project_id=project_id,
                            now=request.app.state.clock())
    return redirect(request, f"/testbed/projects/{project_id}", "Saved.")


@router.post("/testbed/projects/{project_id}/upstream")
async def set_upstream(project_id: Id, request: Request, session: DbSession,
                       actor: SignedInPageActor) -> Response:
    def work(project: Any, form: dict[str, Any]) -> None:
        org, _, slug = str(form.get("service", "")).partition("/")
        service.projects.set_upstream(session, actor=actor, project=project, org=org,
                                      slug=slug, upstream_url=form.get("upstream_url") or None,
                                      networks=request.app.state.networks)
    return await _act(request, session, actor, project_id, work, "Saved.", "#mocks")


@router.post("/testbed/projects/{project_id}/stage")
async def set_stage(project_id: Id, request: Request, session: DbSession,
                    actor: SignedInPageActor) -> Response:
    def work(project: Any, form: dict[str, Any]) -> None:
        service.projects.set_stage(session, actor=actor, project=project,
                                   data=parse(schemas.StageChange, form))
    return await _act(request, session, actor, project_id, work, "Saved.")


@router.post("/testbed/projects/{project_id}/synthetic")
async def request_synthetic(project_id: Id, request: Request, session: DbSession,
                            actor: SignedInPageActor) -> Response:
    def work(project: Any, form: dict[str, Any]) -> None:
        form = {k: v for k, v in form.items() if v != ""}
        service.synthetic.request(session, actor=actor, project=project,
                                  data=parse(schemas.SyntheticCreate, form))
    return await _act(request, session, actor, project_id, work,
                      "The synthetic copy is being made.", "#synthetic")


@router.post("/testbed/projects/{project_id}/validations")
async def request_validation(project_id: Id, request: Request, session: DbSession,
                             actor: SignedInPageActor) -> Response:
    def work(project: Any, form: dict[str, Any]) -> None:
        form = {k: v for k, v in form.items() if v != ""}
        form["headers"] = _headers(str(form.get("headers", "")))
        service.validations.request(session, actor=actor, project=project,
                                    data=parse(schemas.ValidationCreate, form),
                                    networks=request.app.state.networks)
    return await _act(request, session, actor, project_id, work, "The validation started.",
                      "#validations")


@router.post("/testbed/projects/{project_id}/tickets")
async def create_ticket(project_id: Id, request: Request, session: DbSession,
                        actor: SignedInPageActor) -> Response:
    def work(project: Any, form: dict[str, Any]) -> None:
        form = {k: v for k, v in form.items() if v != ""}
        form["consent_to_publish"] = form.get("consent_to_publish") == "on"
        service.support.create(session, actor=actor, project=project,
                               data=parse(schemas.TicketCreate, form),
                               now=request.app.state.clock())
    return await _act(request, session, actor, project_id, work,
                      "Your question was sent to the support desk.", "#tickets")


@router.get("/testbed/projects/{project_id}/synthetic/{copy_id}")
def synthetic_page(project_id: Id, copy_id: Id, request: Request, session: DbSession,
                   actor: SignedInPageActor) -> Response:
    """A synthetic copy as a dataset page: its reports with charts, and its first rows."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    copy = service.synthetic.get(session, project, copy_id)
    preview = service.synthetic.preview(session, request.app.state.storage, copy, rows=20)
    return render(request, "testbed/synthetic.html", {
        "project": project, "c": service.synthetic.copy_read(session, copy),
        "preview": preview})


def _headers(text: str) -> dict[str, str]:
    """The validation form's headers, `Name: value` a line as curl shows them: without the
    server's test credential every case would only meet its 401."""
    found: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        name, colon, value = line.partition(":")
        if not colon or not name.strip() or " " in name.strip():
            raise Invalid("Write each header on its own line as Name: value",
                          code="invalid_headers", field="headers")
        found[name.strip()] = value.strip()
    return found


@router.get("/testbed/validations/{validation_id}")
def validation_page(validation_id: Id, request: Request, session: DbSession,
                    actor: SignedInPageActor) -> Response:
    validation, project = service.validations.get(session, actor=actor,
                                                  validation_id=validation_id)
    return render(request, "testbed/validation.html", {
        "v": service.validations.validation_read(session, validation),
        "project": project})


@router.get("/testbed/tickets")
def queue(request: Request, session: DbSession, actor: SignedInPageActor) -> Response:
    state = request.query_params.get("state") or None
    tickets = service.support.list_(session, actor=actor, queue=True, state=state)
    return render(request, "testbed/queue.html", {
        "tickets": service.support.ticket_reads(session, tickets),
        "stats": service.support.stats(tickets), "state": state,
        "staff": can(actor, "testbed.support.answer")})


@router.get("/testbed/tickets/{ticket_id}")
def ticket_page(ticket_id: Id, request: Request, session: DbSession,
                actor: SignedInPageActor) -> Response:
    return _ticket(ticket_id, request, session, actor)


def _ticket(ticket_id: int, request: Request, session: Any, actor: Any,
            error: HubError | None = None) -> Response:
    """The thread; a refused answer or action re-renders it with the reason and its status."""
    ticket, project = service.support.get(session, actor=actor, ticket_id=ticket_id)
    return render(request, "testbed/ticket.html", {
        "t": service.support.ticket_read(session, ticket, project), "error": error,
        "staff": can(actor, "testbed.support.answer")},
        status=error.status if error is not None else 200)


@router.post("/testbed/tickets/{ticket_id}/answers")
async def answer(ticket_id: Id, request: Request, session: DbSession,
                 actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    ticket, project = service.support.get(session, actor=actor, ticket_id=ticket_id)
    with attempt(session) as tried:
        form["close"] = form.get("close") == "on"
        service.support.answer(session, actor=actor, ticket=ticket, project=project,
                               data=parse(schemas.AnswerCreate, form),
                               now=request.app.state.clock())
    if (error := tried.error) is not None:
        return _ticket(ticket_id, request, session, actor, error=error)
    return redirect(request, f"/testbed/tickets/{ticket_id}", "Saved.")


@router.post("/testbed/tickets/{ticket_id}/actions")
async def ticket_action(ticket_id: Id, request: Request, session: DbSession,
                        actor: SignedInPageActor) -> Response:
    form = await form_data(request)
    ticket, project = service.support.get(session, actor=actor, ticket_id=ticket_id)
    with attempt(session) as tried:
        service.support.act(session, actor=actor, ticket=ticket, project=project,
                            data=parse(schemas.TicketAction, form),
                            now=request.app.state.clock())
    if (error := tried.error) is not None:
        return _ticket(ticket_id, request, session, actor, error=error)
    return redirect(request, f"/testbed/tickets/{ticket_id}", "Saved.")


@router.get("/testbed/faq")
def faq(request: Request, session: DbSession, actor: PageActor) -> Response:
    q = request.query_params.get("q", "")
    return render(request, "testbed/faq.html", {"entries": service.support.faq(session, q),
                                                "q": q})

"""Testbed JSON routes: projects, sandbox keys, the validation proxy, the inspector, the stage,
and the support desk. Synthetic copies and validations: api_work.py. The mocks themselves
are sandbox.py (a bare ASGI handler at /sandbox/…)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from ..identity import service as identity
from ..identity.dependencies import ApiActor, OptionalApiActor
from ..web.context import DbSession
from ..web.params import Id, OptionalId
from ..web.problems import responses
from . import schemas, service

router = APIRouter(prefix="/api/v1", tags=["testbed"])


def _clock(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.clock()


@router.post("/orgs/{org}/testbed/projects", status_code=201, response_model=schemas.ProjectRead,
             responses=responses(401, 403, 404, 409, 422))
def create_project(org: str, data: schemas.ProjectCreate, request: Request, session: DbSession,
                   actor: ApiActor) -> schemas.ProjectRead:
    """Start a sandbox project of the organization (its editors and admins may). It expires
    after `days` (90 by default; extendable); its creator is its first member."""
    organization = identity.get_org_by_slug(session, org)
    now = _clock(request)
    project = service.projects.create(session, actor=actor, org=organization, data=data, now=now)
    return service.projects.project_read(session, project, now)


@router.get("/testbed/projects", response_model=list[schemas.ProjectRead],
            responses=responses(401))
def list_projects(request: Request, session: DbSession,
                  actor: ApiActor) -> list[schemas.ProjectRead]:
    """The projects one works in: one's organizations' and those one was invited to."""
    now = _clock(request)
    return [service.projects.project_read(session, p, now)
            for p in service.projects.list_(session, actor=actor)]


@router.get("/testbed/projects/{project_id}", response_model=schemas.ProjectRead,
            responses=responses(401, 403, 404))
def get_project(project_id: Id, request: Request, session: DbSession,
                actor: ApiActor) -> schemas.ProjectRead:
    project = service.projects.get(session, actor=actor, project_id=project_id)
    return service.projects.project_read(session, project, _clock(request))


@router.patch("/testbed/projects/{project_id}", response_model=schemas.ProjectRead,
              responses=responses(401, 403, 404, 422))
def update_project(project_id: Id, data: schemas.ProjectUpdate, request: Request,
                   session: DbSession, actor: ApiActor) -> schemas.ProjectRead:
    """Change the purpose, extend the expiry (`extend_days`), or the limits."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    now = _clock(request)
    project = service.projects.update(session, actor=actor, project=project, data=data, now=now)
    return service.projects.project_read(session, project, now)


@router.delete("/testbed/projects/{project_id}", status_code=204,
               responses=responses(401, 403, 404))
def delete_project(project_id: Id, session: DbSession, actor: ApiActor) -> None:
    """Delete a project with its keys, inspector, synthetic copies and tickets."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    service.projects.delete(session, actor=actor, project=project)


@router.post("/testbed/projects/{project_id}/members", status_code=201,
             response_model=schemas.ProjectRead, responses=responses(401, 403, 404, 409, 422))
def add_member(project_id: Id, data: schemas.MemberAdd, request: Request, session: DbSession,
               actor: ApiActor) -> schemas.ProjectRead:
    """A member of the organization joins at once; anyone else is invited as a collaborator
    and joins by accepting (`POST …/accept`)."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    now = _clock(request)
    service.projects.add_member(session, actor=actor, project=project, email=data.email, now=now)
    return service.projects.project_read(session, project, now)


@router.post("/testbed/projects/{project_id}/accept", response_model=schemas.ProjectRead,
             responses=responses(401, 404))
def accept(project_id: Id, request: Request, session: DbSession,
           actor: ApiActor) -> schemas.ProjectRead:
    now = _clock(request)
    project = service.projects.accept(session, actor=actor, project_id=project_id, now=now)
    return service.projects.project_read(session, project, now)


@router.delete("/testbed/projects/{project_id}/members/{user_id}", status_code=204,
               responses=responses(401, 403, 404))
def remove_member(project_id: Id, user_id: Id, request: Request, session: DbSession,
                  actor: ApiActor) -> None:
    """Take someone out of the project; the sandbox keys they made are revoked with them."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    service.projects.remove_member(session, actor=actor, project=project, user_id=user_id,
                                   now=_clock(request))


@router.put("/testbed/projects/{project_id}/services/{org}/{slug}",
            response_model=schemas.ProjectRead, responses=responses(401, 403, 404, 422))
def set_upstream(project_id: Id, org: str, slug: str, data: schemas.UpstreamSet,
                 request: Request, session: DbSession, actor: ApiActor) -> schemas.ProjectRead:
    """Point the project's sandbox calls of a service at the developer's own server: calls
    are forwarded and each request and answer is checked against the contract (the
    inspector lists every violation). `null` turns the mock back on."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    service.projects.set_upstream(session, actor=actor, project=project, org=org, slug=slug,
                                  upstream_url=data.upstream_url,
                                  networks=request.app.state.networks)
    return service.projects.project_read(session, project, _clock(request))


@router.post("/testbed/projects/{project_id}/keys", status_code=201,
             response_model=schemas.SandboxKeyCreated, responses=responses(401, 403, 404, 409))
def create_key(project_id: Id, request: Request, session: DbSession, actor: ApiActor,
               data: schemas.SandboxKeyCreate | None = None) -> schemas.SandboxKeyCreated:
    """A sandbox key, shown this once. It works only on `/sandbox/…` and on the project's
    synthetic data; the gateway (`/gw/…`) refuses it."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    key, plain = service.projects.create_key(session, actor=actor, project=project,
                                             name=(data or schemas.SandboxKeyCreate()).name,
                                             now=_clock(request))
    return schemas.SandboxKeyCreated(
        **schemas.SandboxKeyRead.model_validate(key).model_dump(), key=plain)


@router.get("/testbed/projects/{project_id}/keys", response_model=list[schemas.SandboxKeyRead],
            responses=responses(401, 403, 404))
def list_keys(project_id: Id, session: DbSession,
              actor: ApiActor) -> list[schemas.SandboxKeyRead]:
    project = service.projects.get(session, actor=actor, project_id=project_id)
    return [schemas.SandboxKeyRead.model_validate(k)
            for k in service.projects.keys_of(session, project)]


@router.delete("/testbed/projects/{project_id}/keys/{key_id}",
               response_model=schemas.SandboxKeyRead, responses=responses(401, 403, 404))
def revoke_key(project_id: Id, key_id: Id, request: Request, session: DbSession,
               actor: ApiActor) -> schemas.SandboxKeyRead:
    project = service.projects.get(session, actor=actor, project_id=project_id)
    return schemas.SandboxKeyRead.model_validate(service.projects.revoke_key(
        session, actor=actor, project=project, key_id=key_id, now=_clock(request)))


@router.post("/testbed/projects/{project_id}/stage", response_model=schemas.ProjectRead,
             responses=responses(401, 403, 404, 409, 422))
def set_stage(project_id: Id, data: schemas.StageChange, request: Request, session: DbSession,
              actor: ApiActor) -> schemas.ProjectRead:
    """`development` → `testing` → `validated`; `validated` needs `validation`: the id of a
    passing validation report of this project."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    service.projects.set_stage(session, actor=actor, project=project, data=data)
    return service.projects.project_read(session, project, _clock(request))


@router.get("/testbed/projects/{project_id}/requests", response_model=schemas.RequestPage,
            responses=responses(401, 403, 404, 422))
def inspector(project_id: Id, request: Request, session: DbSession, actor: ApiActor,
              limit: Annotated[int, Query(ge=1, le=500)] = 50, cursor: str | None = None,
              status: Annotated[int | None, Query(ge=100, le=599)] = None,
              valid: bool | None = None, service_ref: Annotated[
                  str | None, Query(alias="service", description="org/slug")] = None,
              method: str | None = None) -> schemas.RequestPage:
    """The request inspector: every sandbox call with its validation result and answer,
    newest first; filter by `status`, `valid`, `service` and `method`."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    request.app.state.sandbox.inspector.flush()
    return service.calls.requests_of(session, actor=actor, project=project, limit=limit,
                                     cursor=cursor, status=status, valid=valid,
                                     service=service_ref, method=method)


# --- support desk --------------------------------------------------------------------------


@router.post("/testbed/projects/{project_id}/tickets", status_code=201,
             response_model=schemas.TicketRead, responses=responses(401, 403, 404, 422))
def create_ticket(project_id: Id, data: schemas.TicketCreate, request: Request,
                  session: DbSession, actor: ApiActor) -> schemas.TicketRead:
    """Ask the support desk about the project (its people only)."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    ticket = service.support.create(session, actor=actor, project=project, data=data,
                                    now=_clock(request))
    return service.support.ticket_read(session, ticket, project)


@router.get("/testbed/tickets", response_model=list[schemas.TicketRead],
            responses=responses(401, 403, 404, 422))
def list_tickets(session: DbSession, actor: ApiActor, state: str | None = None,
                 project: OptionalId = None) -> list[schemas.TicketRead]:
    """Support staff: the queue of every project. Anyone else: their own questions, or a
    project's (`project=`) when they work in it."""
    found = None if project is None else service.projects.get(session, actor=actor,
                                                               project_id=project)
    tickets = service.support.list_(session, actor=actor, project=found, state=state,
                                    queue=found is None)
    return service.support.ticket_reads(session, tickets)


@router.get("/testbed/tickets/{ticket_id}", response_model=schemas.TicketRead,
            responses=responses(401, 403, 404))
def get_ticket(ticket_id: Id, session: DbSession, actor: ApiActor) -> schemas.TicketRead:
    ticket, project = service.support.get(session, actor=actor, ticket_id=ticket_id)
    return service.support.ticket_read(session, ticket, project)


@router.post("/testbed/tickets/{ticket_id}/answers", status_code=201,
             response_model=schemas.TicketRead, responses=responses(401, 403, 404, 409, 422))
def answer_ticket(ticket_id: Id, data: schemas.AnswerCreate, request: Request,
                  session: DbSession, actor: ApiActor) -> schemas.TicketRead:
    """Support staff answer (the asker is told in the portal); the project's people may
    add to the thread."""
    ticket, project = service.support.get(session, actor=actor, ticket_id=ticket_id)
    service.support.answer(session, actor=actor, ticket=ticket, project=project, data=data,
                           now=_clock(request))
    return service.support.ticket_read(session, ticket, project)


@router.post("/testbed/tickets/{ticket_id}/actions", response_model=schemas.TicketRead,
             responses=responses(401, 403, 404, 409, 422))
def act_on_ticket(ticket_id: Id, data: schemas.TicketAction, request: Request,
                  session: DbSession, actor: ApiActor) -> schemas.TicketRead:
    """`close`, `reopen` (the asker or staff), `assign` and `publish` (staff; publishing
    needs the asker's consent and an answer)."""
    ticket, project = service.support.get(session, actor=actor, ticket_id=ticket_id)
    service.support.act(session, actor=actor, ticket=ticket, project=project, data=data,
                        now=_clock(request))
    return service.support.ticket_read(session, ticket, project)


@router.get("/testbed/support/stats", response_model=schemas.SupportStats,
            responses=responses(401, 403))
def support_stats(session: DbSession, actor: ApiActor) -> schemas.SupportStats:
    """First-answer and resolution times across the testbed (staff), or one's own."""
    return service.support.stats(service.support.list_(session, actor=actor, queue=True))


@router.get("/testbed/faq", response_model=list[schemas.FaqRead])
def faq(session: DbSession, actor: OptionalApiActor, q: str = "") -> list[schemas.FaqRead]:
    """Published answers of the support desk (public)."""
    return service.support.faq(session, q)

"""Agile JSON routes: projects and their CI tokens, backlog items and the board, iterations,
releases, deployment events and incidents (a project token or the team), delivery metrics;
feedback on services (giving, votes, comments, the team's triage), the changelog and its Atom
feed."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from ..core.errors import Forbidden, Unauthenticated
from ..identity import service as identity
from ..identity.dependencies import ApiActor, OptionalApiActor, bearer_token, require_user
from ..identity.policy import Actor
from ..web.context import DbSession
from ..web.params import Id
from ..web.problems import responses
from . import schemas, service

router = APIRouter(prefix="/api/v1", tags=["agile"])
P = "/agile/projects/{project_id}"
StateFilter = Annotated[schemas.ItemStateName | None, Query(description="Only items in it")]
Since = Annotated[schemas.SeoulDateTime | None, Query(
    alias="from", description="Start of the window (default: 12 weeks before `to`)",
    examples=["2026-05-04T00:00:00+09:00"])]
Until = Annotated[schemas.SeoulDateTime | None, Query(
    alias="to", description="End of the window, excluded (default: now)")]


def _now(request: Request) -> datetime:
    clock = request.app.state.clock
    return clock()  # type: ignore[no-any-return]


# --- projects and tokens -------------------------------------------------------------------


@router.post("/agile/projects", status_code=201, response_model=schemas.ProjectRead,
             responses=responses(401, 403, 404, 409, 422))
def create_project(data: schemas.ProjectCreate, request: Request, session: DbSession,
                   actor: ApiActor) -> schemas.ProjectRead:
    """Start a project led by `org` (its editors, or operators), directly or from the
    `agreement` of an `agile` programme selection `org` won as lead (members and period from
    it, or within it)."""
    project = service.projects.create(session, actor=actor, data=data, now=_now(request))
    return service.projects.project_read(session, project)


@router.get("/agile/projects", response_model=list[schemas.ProjectRead],
            responses=responses(401))
def list_projects(session: DbSession, actor: ApiActor) -> list[schemas.ProjectRead]:
    """The projects of one's organizations (operators: all)."""
    return [service.projects.project_read(session, p)
            for p in service.projects.list_(session, actor=actor)]


@router.get(P, response_model=schemas.ProjectRead, responses=responses(401, 403, 404))
def get_project(project_id: Id, session: DbSession, actor: ApiActor) -> schemas.ProjectRead:
    project = service.projects.get(session, actor=actor, project_id=project_id)
    return service.projects.project_read(session, project)


@router.post(P + "/tokens", status_code=201, response_model=schemas.TokenCreated,
             responses=responses(401, 403, 404, 422))
def create_token(project_id: Id, data: schemas.TokenCreate, session: DbSession,
                 actor: ApiActor) -> schemas.TokenCreated:
    """A token for the service's CI (the lead's editors); the secret is shown this once."""
    project = service.projects.load(session, project_id)
    token, secret = service.tokens.create(session, actor=actor, project=project, data=data)
    return schemas.TokenCreated(**service.tokens.token_read(token).model_dump(), token=secret)


@router.get(P + "/tokens", response_model=list[schemas.TokenRead],
            responses=responses(401, 403, 404))
def list_tokens(project_id: Id, session: DbSession, actor: ApiActor) -> list[schemas.TokenRead]:
    project = service.projects.load(session, project_id)
    return [service.tokens.token_read(t)
            for t in service.tokens.list_(session, actor=actor, project=project)]


@router.delete(P + "/tokens/{token_id}", response_model=schemas.TokenRead,
               responses=responses(401, 403, 404))
def revoke_token(project_id: Id, token_id: Id, request: Request, session: DbSession,
                 actor: ApiActor) -> schemas.TokenRead:
    project = service.projects.load(session, project_id)
    return service.tokens.token_read(service.tokens.revoke(
        session, actor=actor, project=project, token_id=token_id, now=_now(request)))


# --- backlog, board, iterations ------------------------------------------------------------


@router.post(P + "/items", status_code=201, response_model=schemas.ItemRead,
             responses=responses(401, 403, 404, 422))
def create_item(project_id: Id, data: schemas.ItemCreate, request: Request, session: DbSession,
                actor: ApiActor) -> schemas.ItemRead:
    """A backlog item; `feedback` it answers is triaged into it (open feedback → planned)."""
    project = service.projects.load(session, project_id)
    item = service.items.create(session, actor=actor, project=project, data=data,
                                now=_now(request))
    return service.items.item_read(session, item)


@router.get(P + "/items", response_model=list[schemas.ItemRead],
            responses=responses(401, 403, 404))
def list_items(project_id: Id, session: DbSession, actor: ApiActor,
               state: StateFilter = None) -> list[schemas.ItemRead]:
    project = service.projects.load(session, project_id)
    return [service.items.item_read(session, i)
            for i in service.items.list_(session, actor=actor, project=project, state=state)]


@router.patch(P + "/items/{item_id}", response_model=schemas.ItemRead,
              responses=responses(401, 403, 404, 422))
def update_item(project_id: Id, item_id: Id, data: schemas.ItemUpdate, request: Request,
                session: DbSession, actor: ApiActor) -> schemas.ItemRead:
    """Edit an item or move its card (`state`)."""
    project = service.projects.get(session, actor=actor, project_id=project_id,
                                   action="agile.project.work")   # before the item is looked
    item = service.items.get(session, project, item_id)            # for: no id probing
    item = service.items.update(session, actor=actor, project=project, item=item, data=data,
                                now=_now(request))
    return service.items.item_read(session, item)


@router.get(P + "/board", response_model=dict[str, list[schemas.ItemRead]],
            responses=responses(401, 403, 404))
def board(project_id: Id, session: DbSession,
          actor: ApiActor) -> dict[str, list[schemas.ItemRead]]:
    """Columns by state (backlog, selected, in_progress, done), each by priority."""
    project = service.projects.load(session, project_id)
    return {state: [service.items.item_read(session, i) for i in cards]
            for state, cards in service.items.board(session, actor=actor,
                                                    project=project).items()}


@router.post(P + "/iterations", status_code=201, response_model=schemas.IterationRead,
             responses=responses(401, 403, 404, 422))
def create_iteration(project_id: Id, data: schemas.IterationCreate, session: DbSession,
                     actor: ApiActor) -> schemas.IterationRead:
    """Plan an iteration: the backlog `items` committed move to `selected`."""
    project = service.projects.load(session, project_id)
    iteration = service.iterations.create(session, actor=actor, project=project, data=data)
    return service.iterations.iteration_read(iteration)


@router.get(P + "/iterations", response_model=list[schemas.IterationRead],
            responses=responses(401, 403, 404))
def list_iterations(project_id: Id, session: DbSession,
                    actor: ApiActor) -> list[schemas.IterationRead]:
    """Each iteration with its committed and done items and its velocity."""
    project = service.projects.load(session, project_id)
    return [service.iterations.iteration_read(i)
            for i in service.iterations.list_(session, actor=actor, project=project)]


# --- releases, deployments, incidents ------------------------------------------------------


@router.post(P + "/releases", status_code=201, response_model=schemas.ReleaseRead,
             responses=responses(401, 403, 404, 409, 422))
def create_release(project_id: Id, data: schemas.ReleaseCreate, request: Request,
                   session: DbSession, actor: ApiActor) -> schemas.ReleaseRead:
    """A release; a succeeded one marks its items done and completes its feedback (their
    givers and voters are told). Items or feedback of another project: 422."""
    project = service.projects.load(session, project_id)
    return service.releases.release_read(service.releases.create(
        session, actor=actor, project=project, data=data, now=_now(request)))


@router.get(P + "/releases", response_model=list[schemas.ReleaseRead],
            responses=responses(401, 403, 404))
def list_releases(project_id: Id, session: DbSession,
                  actor: ApiActor) -> list[schemas.ReleaseRead]:
    project = service.projects.get(session, actor=actor, project_id=project_id)
    return [service.releases.release_read(r) for r in service.releases.list_(session, project)]


def _ci_token(request: Request, session: DbSession, project_id: int):  # type: ignore[no-untyped-def]
    """The project token sent (`X-Agile-Token`, or `Authorization: Bearer dat_…`), of this
    project; None when the caller sent none."""
    credential = request.headers.get("x-agile-token") or bearer_token(request)
    if not credential or not service.tokens.is_project_token(credential):
        return None
    token = service.tokens.resolve(session, credential)
    if token.project_id != project_id:
        raise Forbidden("This project token belongs to another project",
                        code="project_token_other_project")
    return token


@router.post(P + "/deployments", status_code=201, response_model=schemas.DeploymentRead,
             responses=responses(401, 403, 404, 422))
def record_deployment(project_id: Id, data: schemas.DeploymentCreate, request: Request,
                      session: DbSession) -> schemas.DeploymentRead:
    """A deployment event from CI, with the project token (`X-Agile-Token: dat_…` or
    `Authorization: Bearer dat_…`). A deploy time before a commit time: 422."""
    project = service.projects.load(session, project_id)
    token = _ci_token(request, session, project.id)
    if token is None:
        raise Unauthenticated("Send the project's token: X-Agile-Token or "
                              "Authorization: Bearer dat_…", code="project_token_required")
    found = service.deployments.record_event(
        session, token=token, project=project, data=data,
        actor=service.tokens.ci_actor(token), now=_now(request))
    return service.deployments.deployment_read(found)


@router.get(P + "/deployments", response_model=list[schemas.DeploymentRead],
            responses=responses(401, 403, 404))
def list_deployments(project_id: Id, session: DbSession,
                     actor: ApiActor) -> list[schemas.DeploymentRead]:
    project = service.projects.load(session, project_id)
    return [service.deployments.deployment_read(d)
            for d in service.deployments.list_(session, actor=actor, project=project)]


def _team_or_ci(request: Request, session: DbSession, project_id: int,
                actor: Actor) -> Actor:
    token = _ci_token(request, session, project_id)
    if token is not None:
        return service.tokens.ci_actor(token)
    require_user(actor)
    return actor


@router.post(P + "/incidents", status_code=201, response_model=schemas.IncidentRead,
             responses=responses(401, 403, 404, 422))
def open_incident(project_id: Id, data: schemas.IncidentCreate, request: Request,
                  session: DbSession, actor: OptionalApiActor) -> schemas.IncidentRead:
    """An incident, opened (and perhaps already resolved) by the team or its CI's token."""
    project = service.projects.load(session, project_id)
    who = _team_or_ci(request, session, project.id, actor)
    return service.incidents.incident_read(
        service.incidents.open_(session, actor=who, project=project, data=data))


@router.patch(P + "/incidents/{incident_id}", response_model=schemas.IncidentRead,
              responses=responses(401, 403, 404, 409, 422))
def resolve_incident(project_id: Id, incident_id: Id, data: schemas.IncidentUpdate,
                     request: Request, session: DbSession,
                     actor: OptionalApiActor) -> schemas.IncidentRead:
    project = service.projects.load(session, project_id)
    who = _team_or_ci(request, session, project.id, actor)
    return service.incidents.incident_read(service.incidents.resolve(
        session, actor=who, project=project, incident_id=incident_id, data=data))


@router.put(P + "/alert", response_model=schemas.ProjectRead,
            responses=responses(401, 403, 404, 422))
def set_alert(project_id: Id, data: schemas.AlertSettings, session: DbSession,
              actor: ApiActor) -> schemas.ProjectRead:
    """When the gateway's error watch opens an incident for the project's service: more than
    `error_rate` of at least `min_calls` calls over 5 minutes failed (the lead's editors;
    `error_rate: null` turns it off). It resolves the incident once the service is healthy
    again for a whole window."""
    project = service.projects.get(session, actor=actor, project_id=project_id)
    return service.projects.project_read(session, service.incidents.set_alert(
        session, actor=actor, project=project, data=data))


@router.get(P + "/incidents", response_model=list[schemas.IncidentRead],
            responses=responses(401, 403, 404))
def list_incidents(project_id: Id, session: DbSession,
                   actor: ApiActor) -> list[schemas.IncidentRead]:
    project = service.projects.load(session, project_id)
    return [service.incidents.incident_read(i)
            for i in service.incidents.list_(session, actor=actor, project=project)]


@router.get(P + "/metrics", response_model=schemas.Metrics, responses=responses(404, 422))
def metrics(project_id: Id, request: Request, session: DbSession, actor: OptionalApiActor,
            since: Since = None, until: Until = None) -> schemas.Metrics:
    """Delivery metrics over [from, to) and per week (public); definitions in docs/agile.md
    and on the portal's page /agile/metrics."""
    project = service.projects.load(session, project_id)
    return service.metrics.metrics(session, actor=actor, project=project, start=since,
                                   end=until, now=_now(request))


@router.get("/agile/notices", response_model=list[schemas.NoticeRead],
            responses=responses(401))
def notices(session: DbSession, actor: ApiActor) -> list[schemas.NoticeRead]:
    """One's portal notices about feedback one gave or voted on, newest first (English
    message ids with their values filled in)."""
    return [schemas.NoticeRead(id=n.id, text=n.text.format(**n.params), link=n.link,
                               created_at=n.created_at, read=n.read_at is not None)
            for n in identity.of_user(session, actor=actor, domain="agile")]


# --- feedback ------------------------------------------------------------------------------


@router.post("/services/{org}/{slug}/feedback", status_code=201,
             response_model=schemas.FeedbackRead, responses=responses(401, 404, 422, 429))
def give_feedback(org: str, slug: str, data: schemas.FeedbackCreate, request: Request,
                  session: DbSession, actor: OptionalApiActor) -> schemas.FeedbackRead:
    """Feedback on a registered service (signed-in; anonymous where the service allows it),
    at most 10 an hour (5 at once) per person or address."""
    found = service.feedback.give(
        session, actor=actor, org=org, slug=slug, data=data, now=_now(request),
        limiter=request.app.state.agile_feedback_limiter,
        address=request.client.host if request.client else "")
    return service.feedback.feedback_read(session, found)


@router.get("/services/{org}/{slug}/feedback", response_model=list[schemas.FeedbackRead],
            responses=responses(404))
def list_feedback(org: str, slug: str, session: DbSession) -> list[schemas.FeedbackRead]:
    """A service's feedback, the most voted first, duplicates last (public)."""
    return [service.feedback.feedback_read(session, f)
            for f in service.feedback.list_(session, org=org, slug=slug)]


@router.put("/services/{org}/{slug}/feedback-settings", response_model=schemas.SettingRead,
            responses=responses(401, 403, 404, 422))
def feedback_settings(org: str, slug: str, data: schemas.SettingUpdate, request: Request,
                      session: DbSession, actor: ApiActor) -> schemas.SettingRead:
    """Allow or refuse anonymous feedback (the service organization's editors)."""
    return service.feedback.set_setting(session, actor=actor, org=org, slug=slug, data=data,
                                        now=_now(request))


@router.get("/feedback/{feedback_id}", response_model=schemas.FeedbackRead,
            responses=responses(404))
def get_feedback(feedback_id: Id, session: DbSession) -> schemas.FeedbackRead:
    return service.feedback.feedback_read(session, service.feedback.get(session, feedback_id))


@router.patch("/feedback/{feedback_id}", response_model=schemas.FeedbackRead,
              responses=responses(401, 403, 404, 409, 422))
def update_feedback(feedback_id: Id, data: schemas.FeedbackUpdate, request: Request,
                    session: DbSession, actor: ApiActor) -> schemas.FeedbackRead:
    """The project team's triage: `status`, `merge_into` another feedback (votes combined),
    `item` it goes into. Everyone who gave or voted is told of a status change."""
    found = service.feedback.get(session, feedback_id)
    found = service.feedback.update(session, actor=actor, feedback=found, data=data,
                                    now=_now(request))
    return service.feedback.feedback_read(session, found)


@router.post("/feedback/{feedback_id}/votes", status_code=201,
             response_model=schemas.FeedbackRead, responses=responses(401, 404, 409))
def vote(feedback_id: Id, request: Request, session: DbSession,
         actor: ApiActor) -> schemas.FeedbackRead:
    """One vote per person (409 `already_voted` on a second)."""
    found = service.feedback.get(session, feedback_id)
    service.feedback.vote(session, actor=actor, feedback=found, now=_now(request))
    return service.feedback.feedback_read(session, found)


@router.post("/feedback/{feedback_id}/comments", status_code=201,
             response_model=schemas.CommentRead, responses=responses(401, 404, 422, 429))
def comment(feedback_id: Id, data: schemas.CommentCreate, request: Request,
            session: DbSession, actor: ApiActor) -> schemas.CommentRead:
    found = service.feedback.get(session, feedback_id)
    made = service.feedback.comment(session, actor=actor, feedback=found, data=data,
                                    now=_now(request),
                                    limiter=request.app.state.agile_feedback_limiter)
    return schemas.CommentRead(id=made.id, author=actor.display_name or "", text=made.text,
                               created_at=made.created_at)


# --- changelog -----------------------------------------------------------------------------


@router.get("/services/{org}/{slug}/changelog", response_model=list[schemas.ChangelogEntry],
            responses=responses(404))
def changelog(org: str, slug: str, session: DbSession) -> list[schemas.ChangelogEntry]:
    """The service's succeeded releases, newest first, with what they answered (public)."""
    return service.changelog.entries(session, org=org, slug=slug)


@router.get("/services/{org}/{slug}/changelog.atom", responses={
    200: {"content": {"application/atom+xml": {}}, "description": "An Atom feed"},
    **responses(404)})
def changelog_feed(org: str, slug: str, request: Request, session: DbSession) -> Response:
    """The changelog as an Atom feed (RFC 4287)."""
    body = service.changelog.atom(session, org=org, slug=slug, base_url=str(request.base_url),
                                  now=_now(request))
    return Response(body, media_type="application/atom+xml; charset=utf-8")

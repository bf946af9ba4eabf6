"""Feedback on registered services: given by signed-in people (anonymously only where the
service's organization allows it, within abuse limits), voted on once per person, commented;
triaged by the project team of the service into backlog items, moved through its statuses or
merged into another feedback (votes combined). Everyone who gave or voted on a feedback is told
in the portal when its status changes."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ...catalog import service as catalog
from ...core import audit
from ...core.errors import Conflict, Invalid, NotFound, TooManyRequests, Unauthenticated
from ...identity import service as identity
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import (
    AgileProject,
    Comment,
    Feedback,
    FeedbackStatus,
    Item,
    Release,
    ServiceSetting,
    Vote,
)
from .common import record
from .limits import Gcra


def _service_ref(service) -> str:  # type: ignore[no-untyped-def]
    return f"{service.organization.slug}/{service.slug}"


# control characters (but tab, line feed and carriage return) and the two non-characters XML
# cannot carry: PostgreSQL refuses U+0000 in text, and feed readers refuse the Atom feed that
# holds any of them
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")


def _printable(text: str, field: str) -> None:
    found = CONTROL.search(text)
    if found is not None:
        raise Invalid("The text holds a control character (U+{char}) at position {position}; "
                      "remove it", code="control_character", field=field,
                      char=f"{ord(found.group()):04X}", position=found.start() + 1)


# --- settings ------------------------------------------------------------------------------


def setting(session: Session, service_id: int) -> ServiceSetting | None:
    return session.get(ServiceSetting, service_id)


def allows_anonymous(session: Session, service_id: int) -> bool:
    found = setting(session, service_id)
    return bool(found and found.anonymous_feedback)


def set_setting(session: Session, *, actor: Actor, org: str, slug: str,
                data: schemas.SettingUpdate, now: datetime) -> schemas.SettingRead:
    service = catalog.get_service(session, org, slug)
    authorize(actor, "agile.feedback.settings", service)
    found = setting(session, service.id)
    if found is None:
        found = ServiceSetting(service_id=service.id, org_id=service.org_id)
        session.add(found)
    found.anonymous_feedback, found.updated_by, found.updated_at = (
        data.anonymous_feedback, actor.user_id, now)
    session.flush()
    audit.record(session, actor=actor, action="agile.feedback.settings", target_type="service",
                 target_id=service.id, org_id=service.org_id,
                 details={"anonymous_feedback": data.anonymous_feedback})
    return schemas.SettingRead(service=_service_ref(service),
                               anonymous_feedback=data.anonymous_feedback)


# --- giving, voting, commenting ----------------------------------------------------------------


def give(session: Session, *, actor: Actor, org: str, slug: str, data: schemas.FeedbackCreate,
         now: datetime, limiter: Gcra, address: str) -> Feedback:
    service = catalog.get_service(session, org, slug)       # 404 service_not_found
    authorize(actor, "agile.feedback.give", service)
    if actor.user_id is None and not allows_anonymous(session, service.id):
        raise Unauthenticated("Sign in to give feedback on {service}: it takes no anonymous "
                              "feedback", code="anonymous_feedback_off",
                              service=_service_ref(service))
    _printable(data.text, "text")
    key = f"user:{actor.user_id}" if actor.user_id is not None else f"address:{address}"
    wait = limiter.wait(key)
    if wait > 0:
        seconds = max(1, round(wait))
        raise TooManyRequests("Too much feedback from you in a short time; try again in "
                              "{seconds} s", code="feedback_rate_limited",
                              headers={"Retry-After": str(seconds)}, seconds=seconds)
    found = Feedback(service_id=service.id, author_id=actor.user_id, kind=data.kind,
                     text=data.text, rating=data.rating, created_at=now)
    session.add(found)
    session.flush()
    audit.record(session, actor=actor, action="agile.feedback.create",
                 target_type="agile_feedback", target_id=found.id, org_id=service.org_id,
                 details={"service": _service_ref(service), "kind": data.kind,
                          "rating": data.rating, "anonymous": actor.user_id is None})
    return found


def get(session: Session, feedback_id: int) -> Feedback:
    found = session.get(Feedback, feedback_id)
    if found is None:
        raise NotFound("Feedback {id} does not exist", code="feedback_not_found",
                       id=feedback_id)
    return found


def vote(session: Session, *, actor: Actor, feedback: Feedback, now: datetime) -> int:
    """One vote per person (409 `already_voted` on a second); the feedback's votes after it."""
    authorize(actor, "agile.feedback.vote", feedback)
    if feedback.merged_into_id is not None:
        raise Conflict("Feedback {id} was merged into {target}; vote there",
                       code="feedback_merged", id=feedback.id, target=feedback.merged_into_id)
    if session.scalar(select(Vote.id).where(Vote.feedback_id == feedback.id,
                                            Vote.user_id == actor.user_id)):
        raise Conflict("You already voted for feedback {id}", code="already_voted",
                       id=feedback.id)
    session.add(Vote(feedback_id=feedback.id, user_id=actor.user_id, created_at=now))
    session.flush()
    service = catalog.get_service_by_id(session, feedback.service_id)
    audit.record(session, actor=actor, action="agile.feedback.vote",
                 target_type="agile_feedback", target_id=feedback.id, org_id=service.org_id)
    return votes(session, feedback)


def comment(session: Session, *, actor: Actor, feedback: Feedback,
            data: schemas.CommentCreate, now: datetime, limiter: Gcra) -> Comment:
    """A comment, public beside the feedback: as limited per person as feedback itself (its
    own cells of the same limiter)."""
    authorize(actor, "agile.feedback.vote", feedback)
    _printable(data.text, "text")
    wait = limiter.wait(f"comment:user:{actor.user_id}")
    if wait > 0:
        seconds = max(1, round(wait))
        raise TooManyRequests("Too many comments from you in a short time; try again in "
                              "{seconds} s", code="comment_rate_limited",
                              headers={"Retry-After": str(seconds)}, seconds=seconds)
    found = Comment(feedback_id=feedback.id, user_id=actor.user_id, text=data.text,
                    created_at=now)
    session.add(found)
    session.flush()
    service = catalog.get_service_by_id(session, feedback.service_id)
    audit.record(session, actor=actor, action="agile.feedback.comment",
                 target_type="agile_feedback", target_id=feedback.id, org_id=service.org_id,
                 details={"comment": found.id})
    return found


def votes(session: Session, feedback: Feedback) -> int:
    return session.scalar(select(func.count(Vote.id))
                          .where(Vote.feedback_id == feedback.id)) or 0


# --- the team's triage -------------------------------------------------------------------------


def team_project(session: Session, feedback: Feedback) -> AgileProject:
    """The project building the feedback's service: its team triages the feedback."""
    found = session.scalar(select(AgileProject)
                           .where(AgileProject.service_id == feedback.service_id))
    if found is None:
        raise Conflict("No agile project builds the service of feedback {id}; nobody can "
                       "triage it yet", code="no_project", id=feedback.id)
    return found


def update(session: Session, *, actor: Actor, feedback: Feedback,
           data: schemas.FeedbackUpdate, now: datetime) -> Feedback:
    project = team_project(session, feedback)
    authorize(actor, "agile.project.work", project)
    if data.merge_into is not None:
        if data.status not in (None, FeedbackStatus.duplicate):
            raise Invalid("A merged feedback becomes a duplicate; give no other status",
                          code="merge_with_status", field="status")
        return merge(session, actor=actor, project=project, feedback=feedback,
                     target=_target(session, feedback, data.merge_into), now=now)
    if data.status == FeedbackStatus.duplicate:
        raise Invalid("Say which feedback this one duplicates: merge_into",
                      code="merge_target_required", field="merge_into")
    if data.item is not None:
        item = session.get(Item, data.item)
        if item is None or item.project_id != project.id:
            raise Invalid("Item {id} is no item of project {project}", code="foreign_item",
                          field="item", id=data.item, project=project.id)
        triage(session, actor=actor, project=project, feedback=feedback, item=item, now=now)
    if data.status is not None:
        set_status(session, actor=actor, project=project, feedback=feedback,
                   status=data.status, now=now)
    return feedback


def _target(session: Session, feedback: Feedback, target_id: int) -> Feedback:
    if target_id == feedback.id:
        raise Invalid("Feedback {id} cannot be merged into itself", code="merge_into_self",
                      field="merge_into", id=target_id)
    try:
        target = get(session, target_id)
    except NotFound:
        raise Invalid("Feedback {id} does not exist", code="unknown_feedback",
                      field="merge_into", id=target_id) from None
    if target.service_id != feedback.service_id:
        raise Invalid("Feedback {id} is about another service; merge only feedback on the "
                      "same service", code="merge_other_service", field="merge_into",
                      id=target_id)
    if target.merged_into_id is not None:
        raise Invalid("Feedback {id} is itself merged into {root}; merge into that one",
                      code="merge_into_duplicate", field="merge_into", id=target_id,
                      root=target.merged_into_id)
    return target


def merge(session: Session, *, actor: Actor, project: AgileProject, feedback: Feedback,
          target: Feedback, now: datetime) -> Feedback:
    """`feedback` becomes a duplicate of `target`; its votes move there (one per person), and its followers follow the target from now on."""
    if feedback.merged_into_id is not None:
        raise Conflict("Feedback {id} is already merged into {target}", code="already_merged",
                       id=feedback.id, target=feedback.merged_into_id)
    voters = set(session.scalars(select(Vote.user_id).where(Vote.feedback_id == target.id)))
    moved = 0
    for found in session.scalars(select(Vote).where(Vote.feedback_id == feedback.id)).all():
        if found.user_id in voters:
            session.delete(found)
        else:
            found.feedback_id = target.id
            voters.add(found.user_id)
            moved += 1
    for child in session.scalars(select(Feedback).where(Feedback.merged_into_id == feedback.id)):
        child.merged_into_id = target.id
    feedback.merged_into_id = target.id
    session.flush()
    record(session, actor, project, "agile.feedback.merge", "agile_feedback", feedback.id,
           into=target.id, votes_moved=moved)
    set_status(session, actor=actor, project=project, feedback=feedback,
               status=FeedbackStatus.duplicate, now=now, target=target)
    return feedback


def triage(session: Session, *, actor: Actor, project: AgileProject, feedback: Feedback,
           item: Item, now: datetime) -> None:
    """The feedback is answered by a backlog item; open feedback becomes `planned`."""
    feedback.item_id = item.id
    session.flush()
    record(session, actor, project, "agile.feedback.triage", "agile_feedback", feedback.id,
           item=item.id)
    if feedback.status == FeedbackStatus.open:
        set_status(session, actor=actor, project=project, feedback=feedback,
                   status=FeedbackStatus.planned, now=now)


def set_status(session: Session, *, actor: Actor, project: AgileProject, feedback: Feedback,
               status: str, now: datetime, release: Release | None = None,
               target: Feedback | None = None) -> None:
    """A status change: stamped (the first one is the team's response), audited, and told to
    everyone who gave or voted on the feedback."""
    if status == feedback.status and release is None:
        return
    before = feedback.status
    feedback.status, feedback.status_changed_at = status, now
    if feedback.first_response_at is None:
        feedback.first_response_at = now
    if release is not None:
        feedback.release_id = release.id
    session.flush()
    record(session, actor, project, "agile.feedback.status", "agile_feedback", feedback.id,
           **{"from": before, "to": status,
              "release": release.id if release is not None else None})
    service = catalog.get_service_by_id(session, feedback.service_id)
    params = {"number": feedback.id, "service": service.title_ko, "status": status}
    link = f"/services/{_service_ref(service)}#feedback-{feedback.id}"
    if release is not None:
        params["version"] = release.version
    if target is not None:
        params["target"] = target.id
    for user_id in followers(session, feedback):
        if release is not None:
            identity.notify(session, user_id, "Your feedback #{number} on {service} was "
                            "completed in release {version}", link, domain="agile", now=now,
                            **params)
        elif target is not None:
            identity.notify(session, user_id, "Your feedback #{number} on {service} was "
                            "merged into #{target}", link, domain="agile", now=now, **params)
        else:
            identity.notify(session, user_id, _STATUS_NOTICES.get(status, _STATUS_NOTICES[
                "open"]), link, domain="agile", now=now, **params)


# one sentence per status, so each reads whole in Korean (a status word alone would not)
_STATUS_NOTICES = {
    "open": "Your feedback #{number} on {service} is open again",
    "planned": "Your feedback #{number} on {service} is planned",
    "started": "Work on your feedback #{number} on {service} has started",
    "completed": "Your feedback #{number} on {service} was completed",
    "declined": "Your feedback #{number} on {service} was declined",
}


def followers(session: Session, feedback: Feedback) -> list[int]:
    """Who gave it, who voted on it, and who gave a feedback merged into it."""
    people: list[int] = []
    merged = list(session.scalars(select(Feedback.author_id)
                                  .where(Feedback.merged_into_id == feedback.id)))
    voted = list(session.scalars(select(Vote.user_id).where(Vote.feedback_id == feedback.id)
                                 .order_by(Vote.id)))
    for user_id in [feedback.author_id, *merged, *voted]:
        if user_id is not None and user_id not in people:
            people.append(user_id)
    return people


def of_project(session: Session, project: AgileProject, feedback_id: int,
               field: str) -> Feedback:
    """A feedback a team's request names: 422 when it is on another service or none."""
    found = session.get(Feedback, feedback_id)
    if found is None:
        raise Invalid("Feedback {id} does not exist", code="unknown_feedback", field=field,
                      id=feedback_id)
    if found.service_id != project.service_id:
        raise Invalid("Feedback {id} is about another service than this project's",
                      code="foreign_feedback", field=field, id=feedback_id)
    return found


# --- reading -----------------------------------------------------------------------------------


def list_(session: Session, *, org: str, slug: str) -> list[Feedback]:
    """A service's feedback, the most voted first (duplicates last)."""
    return of_service(session, catalog.get_service(session, org, slug).id)


def of_service(session: Session, service_id: int) -> list[Feedback]:
    """The feedback on a service known by its id, the most voted first (duplicates last)."""
    rows = list(session.scalars(select(Feedback).where(Feedback.service_id == service_id)
                                .order_by(Feedback.id)))
    counts = dict(session.execute(
        select(Vote.feedback_id, func.count(Vote.id)).join(Feedback)
        .where(Feedback.service_id == service_id).group_by(Vote.feedback_id)).all())
    return sorted(rows, key=lambda f: (f.merged_into_id is not None, -counts.get(f.id, 0),
                                       f.id))


def feedback_read(session: Session, feedback: Feedback) -> schemas.FeedbackRead:
    service = catalog.get_service_by_id(session, feedback.service_id)
    author = (identity.get_user(session, feedback.author_id).display_name
              if feedback.author_id is not None else None)
    comments = [schemas.CommentRead(id=c.id, author=identity.get_user(session,
                                                                      c.user_id).display_name,
                                    text=c.text, created_at=c.created_at)
                for c in session.scalars(select(Comment).where(Comment.feedback_id ==
                                                               feedback.id).order_by(Comment.id))]
    return schemas.FeedbackRead(
        id=feedback.id, service=_service_ref(service), kind=feedback.kind, text=feedback.text,
        rating=feedback.rating, status=feedback.status, votes=votes(session, feedback),
        author=author, merged_into=feedback.merged_into_id, item=feedback.item_id,
        release=feedback.release_id, created_at=feedback.created_at,
        first_response_at=feedback.first_response_at, comments=comments)

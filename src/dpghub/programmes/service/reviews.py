"""Review: operators assign reviewers to a call; each scores every criterion of the
submitted applications with a comment. Nobody scores an application of an organization they
belong to (lead or consortium member): assignment shows such conflicts, scoring refuses them."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...core import audit
from ...core.errors import Conflict, Forbidden, Invalid
from ...identity import service as identity
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import Application, ApplicationState, Call, Reviewer, Score
from . import applications, calls, ranking


def assign(session: Session, *, actor: Actor, call: Call,
           data: schemas.ReviewerAssign) -> Reviewer:
    authorize(actor, "programmes.review.assign", call)
    _require_undecided(call)
    user = identity.get_user_by_email(session, data.email)
    if any(r.user_id == user.id for r in call.reviewers):
        raise Conflict("{email} already reviews this call", code="already_reviewer",
                       email=user.email)
    reviewer = Reviewer(user_id=user.id, assigned_by=actor.user_id)
    call.reviewers.append(reviewer)
    session.flush()
    audit.record(session, actor=actor, action="programmes.review.assign", target_type="call",
                 target_id=call.id, details={"reviewer": user.id, "email": user.email,
                                             "conflicts": conflicts(session, call, user.id)})
    return reviewer


def conflicts(session: Session, call: Call, user_id: int) -> list[int]:
    """The applications of the call (drafts too: they may be submitted) that the person may
    not score, being a member of one of their organizations."""
    own = {org.id for org, _ in identity.orgs_of(session, user_id)}
    return [a.id for a in applications.of_call(session, call, drafts=True)
            if own.intersection(a.org_ids)]


def list_(session: Session, *, actor: Actor, call: Call) -> list[schemas.ReviewerRead]:
    """The call's reviewers with their conflicts (operators)."""
    authorize(actor, "programmes.selection.read", call)
    return reviewers_read(session, call)


def reviewers_read(session: Session, call: Call) -> list[schemas.ReviewerRead]:
    found = []
    for reviewer in call.reviewers:
        user = identity.get_user(session, reviewer.user_id)
        found.append(schemas.ReviewerRead(user=user.id, email=user.email,
                                          name=user.display_name,
                                          conflicts=conflicts(session, call, user.id)))
    return found


def score(session: Session, *, actor: Actor, application: Application,
          data: dict[str, schemas.ScoreEntry]) -> schemas.ReviewRead:
    """Every criterion scored in 0..max with a comment; scoring again replaces one's own."""
    authorize(actor, "programmes.review.score", application)
    if any(actor.role_in(org_id) is not None for org_id in application.org_ids):
        raise Forbidden("Reviewers may not score an application of their own organization",
                        code="reviewer_conflict")
    call = application.call
    _require_undecided(call)
    if application.state != ApplicationState.submitted:
        raise Conflict("Only submitted applications are scored; this one is {state}",
                       code="application_not_submitted", state=application.state)
    for key, entry in data.items():
        criterion = calls.criterion(call, key)
        if not 0 <= entry.score <= float(criterion["max_score"]):
            raise Invalid("The score of {criterion} must lie between 0 and {max}",
                          code="score_out_of_range", field=f"{key}.score", criterion=key,
                          max=_number(criterion["max_score"]))
    for criterion in call.criteria:
        if criterion["id"] not in data:
            raise Invalid("A review scores every criterion; {criterion} is missing",
                          code="criterion_missing", field=criterion["id"],
                          criterion=criterion["id"])
    assert actor.user_id is not None      # an assigned reviewer is a person
    session.execute(delete(Score).where(Score.application_id == application.id,
                                        Score.reviewer_id == actor.user_id))
    session.expire(application, ["scores"])
    for key, entry in data.items():
        session.add(Score(application_id=application.id, reviewer_id=actor.user_id,
                          criterion=key, score=entry.score, comment=entry.comment))
    session.flush()
    session.expire(application, ["scores"])
    audit.record(session, actor=actor, action="programmes.review.score",
                 target_type="application", target_id=application.id,
                 org_id=application.org_id,
                 details={k: {"score": v.score, "comment": v.comment} for k, v in data.items()})
    return review_read(application, actor.user_id)


def review_read(application: Application, reviewer_id: int) -> schemas.ReviewRead:
    mine = [s for s in application.scores if s.reviewer_id == reviewer_id]
    scores = {s.criterion: schemas.ScoreEntry(score=s.score, comment=s.comment) for s in mine}
    complete = all(c["id"] in scores for c in application.call.criteria) and scores
    total = ranking.weighted_total(application.call.criteria,
                                   {k: v.score for k, v in scores.items()}) if complete else 0.0
    return schemas.ReviewRead(application=application.id, reviewer=reviewer_id,
                              scores=scores, total=round(total, 2))


def calls_reviewed_by(session: Session, *, actor: Actor) -> list[Call]:
    if actor.user_id is None:
        return []
    return list(session.scalars(select(Call).join(Reviewer).where(
        Reviewer.user_id == actor.user_id).order_by(Call.closes_at.desc())))


def _require_undecided(call: Call) -> None:
    if call.decided_at is not None:
        raise Conflict("The selection of call {title} is made; its review is over",
                       code="call_decided", title=call.title)


def _number(value: float | str) -> str:
    number = float(value)
    return str(int(number)) if number.is_integer() else str(number)

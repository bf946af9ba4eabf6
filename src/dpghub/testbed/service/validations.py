"""Contract validations: a project asks the hub to check a server against a service's OpenAPI
document; a job (validation.py) runs the cases and stores the report, signed with the hub's
key so a marketplace or an agency can verify it later."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ...catalog import service as catalog
from ...core import audit, jobs
from ...core.errors import Forbidden, Invalid, NotFound
from ...core.netcheck import NetworkPolicy, check_upstream
from ...identity.policy import Actor, authorize
from .. import schemas
from ..models import Project, Validation
from .progress import settled
from .projects import load

JOB = "testbed.validate"


def target_of(project: Project, service: Any, url: str | None) -> str:
    """The server to check: the one given, else the project's server for the service, else —
    for the provider's own projects only — the service's registered upstream (a startup does
    not load-test an agency's production system)."""
    if url:
        return url.strip().rstrip("/")
    own = next((r.upstream_url for r in project.resources
                if r.service_id == service.id and r.upstream_url), None)
    if own:
        return own
    if service.org_id == project.org_id:
        return service.upstream_url.rstrip("/")
    raise Invalid("Give the url of the server to validate, or point the project's calls of "
                  "this service at it first (PUT …/services/{org}/{slug})", code="url_required",
                  field="url", org=service.organization.slug, slug=service.slug)


def request(session: Session, *, actor: Actor, project: Project, data: schemas.ValidationCreate,
            networks: NetworkPolicy, now: datetime | None = None) -> Validation:
    authorize(actor, "testbed.project.work", project)
    org, slug = data.service.split("/")
    service = catalog.get_service(session, org, slug)
    url = target_of(project, service, data.url)
    if not url.startswith(("http://", "https://")):
        raise Invalid("url must be an http:// or https:// address", code="invalid_url",
                      field="url")
    if url == service.upstream_url.rstrip("/") and service.org_id != project.org_id:
        raise Forbidden("That is the provider's production server: validate your own server, "
                        "or ask the provider", code="production_upstream", field="url")
    try:
        check_upstream(url, networks)
    except Invalid as exc:
        raise Invalid("The server {url} cannot be validated from the hub: {reason}",
                      code="url_not_allowed", field="url", url=url, reason=str(exc)) from None
    validation = Validation(project_id=project.id, service_id=service.id, url=url,
                            max_cases=data.max_cases, created_by=actor.user_id)
    session.add(validation)
    session.flush()
    job = jobs.enqueue(session, kind=JOB, params={"validation_id": validation.id,
                                                  "headers": data.headers,
                                                  "time_limit_ms": data.response_time_limit_ms},
                       org_id=project.org_id, created_by=actor.user_id, max_attempts=1)
    validation.job_id = job.id
    audit.record(session, actor=actor, action="testbed.validation.request",
                 target_type="project", target_id=project.id, org_id=project.org_id,
                 details={"service": data.service, "url": url, "max_cases": data.max_cases,
                          "job": job.id})
    session.flush()
    return validation


def get(session: Session, *, actor: Actor, validation_id: int) -> tuple[Validation, Project]:
    validation = session.get(Validation, validation_id)
    if validation is None:
        raise NotFound("Validation {id} does not exist", code="validation_not_found",
                       id=validation_id)
    project = load(session, validation.project_id)
    authorize(actor, "testbed.project.read", project)
    return validation, project


def list_(session: Session, project: Project) -> list[Validation]:
    return list(session.scalars(select(Validation).where(Validation.project_id == project.id)
                                .order_by(Validation.id.desc())))


def validation_read(session: Session, validation: Validation) -> schemas.ValidationRead:
    service = catalog.get_service_by_id(session, validation.service_id)
    envelope = validation.report or {}
    report = envelope.get("report", {})
    state, error = settled(session, validation.job_id, validation.state, validation.error)
    return schemas.ValidationRead(
        id=validation.id, project_id=validation.project_id,
        service=f"{service.organization.slug}/{service.slug}", url=validation.url,
        max_cases=validation.max_cases, state=state, passed=validation.passed,
        error=error, job_id=validation.job_id,
        operations=report.get("operations", []),
        failures=[schemas.FailureRead(**{k: f.get(k) for k in (
            "operation", "check", "message", "curl", "status", "response_excerpt")})
            for f in report.get("failures", [])],
        errors=report.get("errors", []), signature=envelope.get("signature"),
        created_at=validation.created_at, finished_at=validation.finished_at)

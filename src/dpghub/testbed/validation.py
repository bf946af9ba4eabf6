"""The job that validates a server against a service's contract: Schemathesis (through
`testbed.contract`) sends bounded cases, the result is stored as a report signed with the hub's
Ed25519 key (the key of its JWKS, `/.well-known/jwks.json`), so anyone can check later that the
report is the hub's and unchanged (`dpghub testbed verify-report FILE`)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from ..catalog import service as catalog
from ..core import jobs
from ..core.db import utcnow
from ..core.jobs import JobCancelled, JobContext
from ..core.netcheck import NetworkPolicy, check_upstream
from ..core.security import load_signing_key
from ..gateway.credentials import KEY_ID
from . import contract
from .contract import guard
from .models import Validation

MAX_SECONDS = 900          # a whole run, whatever the number of operations


def run(ctx: JobContext) -> dict[str, Any]:
    """The handler of `testbed.validate` jobs (registered by `testbed.jobs`)."""
    settings = ctx.extras["settings"]
    validation_id = int(ctx.params["validation_id"])
    headers = dict(ctx.params.get("headers") or {})
    _forget_headers(ctx)
    with ctx.factory() as session:
        validation = session.get(Validation, validation_id)
        if validation is None:
            raise jobs.JobFailed("The validation no longer exists", code="validation_gone")
        service = catalog.get_service_by_id(session, validation.service_id)
        document = service.openapi
        ref = f"{service.organization.slug}/{service.slug}"
        url, max_cases, project_id = validation.url, validation.max_cases, validation.project_id
    networks = NetworkPolicy(settings.gateway_allowed_networks)
    try:
        check_upstream(url, networks)
    except Exception as exc:  # noqa: BLE001 — any refusal ends the job with its reason
        _store(ctx, validation_id, state="failed", error=str(exc))
        raise jobs.JobFailed("The server {url} cannot be validated from the hub: {reason}",
                             code="url_not_allowed", url=url, reason=str(exc)) from None
    ctx.progress(message="validating", force=True)
    contract.use_storage(settings.home / "tmp" / "hypothesis")

    def progress(done: int, total: int) -> None:
        ctx.progress(rows_done=done, message=f"{done} of {total} steps")

    def stop() -> bool:
        try:
            ctx.check_cancelled()
        except JobCancelled:
            return True
        return False

    with guard.guarding(networks):      # and every connection the run opens, when opened
        result = contract.run(document, url, headers=headers,
                              max_cases=max_cases, max_time_s=MAX_SECONDS, progress=progress,
                              response_time_limit_ms=int(ctx.params.get("time_limit_ms")
                                                         or 2000),
                              should_stop=stop, seed=validation_id)
    if result.stopped == "cancelled":
        _store(ctx, validation_id, state="failed", error="cancelled")
        raise JobCancelled()
    report = {
        "kind": "dpghub.contract-validation", "validation": validation_id,
        "project": project_id, "service": ref, "url": url, "hub": settings.base_url,
        "contract_sha256": hashlib.sha256(json.dumps(document, sort_keys=True,
                                                     ensure_ascii=False).encode()).hexdigest(),
        "signed_at": utcnow().isoformat(), **result.to_dict()}
    envelope = contract.sign(report, load_signing_key(settings.home), KEY_ID)
    _store(ctx, validation_id, state="done", passed=result.passed, report=envelope)
    return {"validation_id": validation_id, "passed": result.passed, **result.counts}


def _forget_headers(ctx: JobContext) -> None:
    """The dev credentials a validation was given live in this run's memory only: they are
    taken out of the job's stored parameters as it starts (secrets are kept as hashes or
    not at all)."""
    if not ctx.params.get("headers"):
        return
    with ctx.factory() as session:
        job = session.get(jobs.Job, ctx.job_id)
        if job is not None:
            job.params = {k: v for k, v in job.params.items() if k != "headers"} | {
                "headers": {name: "***" for name in job.params.get("headers") or {}}}
            session.commit()


def _store(ctx: JobContext, validation_id: int, **values: Any) -> None:
    with ctx.factory() as session:
        validation = session.get(Validation, validation_id)
        if validation is None:
            return
        for name, value in values.items():
            setattr(validation, name, value)
        validation.finished_at = utcnow()
        session.commit()

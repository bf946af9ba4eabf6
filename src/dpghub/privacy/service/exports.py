"""Export review (반출심사): a result leaves a safe zone only through a request — purpose,
contents, a re-identification report over the quasi-identifiers named — that a committee of
reviewers from other organizations approves; then it is downloaded once, its hash audited."""

from __future__ import annotations

import csv
import hashlib
import io
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ...core import audit
from ...core.db import utcnow
from ...core.errors import Conflict, Forbidden, Invalid, NotFound
from ...identity.policy import Actor, authorize
from .. import schemas
from ..disclosure.risk import risk_report
from ..models import ExportRequest, ExportReview, ExportState, Zone, ZoneQuery
from . import zones

MAX_FILE_BYTES = 20 * 1024 * 1024


def create(session: Session, *, actor: Actor, zone: Zone, data: schemas.ExportCreate,
           reviewers_needed: int, upload: tuple[str, bytes] | None = None) -> ExportRequest:
    """A query result of the zone (`query_id`) or a file made in the zone (`upload`: name,
    bytes) asks to leave."""
    zones.require_analyst(actor, zone)
    if not data.purpose.strip():
        raise Invalid("Say what the export is for", code="purpose_required", field="purpose")
    if (data.query_id is None) == (upload is None):
        raise Invalid("Export either a query result of the zone or a file, not both or "
                      "neither", code="export_contents", field="query_id")
    if data.query_id is not None:
        query = session.get(ZoneQuery, data.query_id)
        if query is None or query.zone_id != zone.id or query.refused:
            raise Invalid("Query {id} is no answered query of this zone",
                          code="query_not_in_zone", field="query_id", id=data.query_id)
        filename, content = f"zone{zone.id}-query{query.id}.csv", _csv(query)
        table = _table(query)
    else:
        assert upload is not None
        filename, content = upload
        if len(content) > MAX_FILE_BYTES:
            raise Invalid("An export file may hold {limit} MB at most", code="file_too_large",
                          field="file", limit=MAX_FILE_BYTES // (1024 * 1024))
        table = _read_csv(content) if filename.lower().endswith(".csv") else None
    risk = None
    if data.quasi:
        if table is None:
            raise Invalid("A re-identification report needs a CSV file", code="not_tabular",
                          field="quasi")
        risk = _risk(table, data.quasi, zone.k, filename)
    export = ExportRequest(zone_id=zone.id, org_id=zone.org_id, query_id=data.query_id,
                           purpose=data.purpose.strip(), contents=data.contents,
                           filename=filename, content=content,
                           sha256=hashlib.sha256(content).hexdigest(), quasi=data.quasi,
                           risk=risk, reviewers_needed=reviewers_needed,
                           requested_by=actor.user_id)
    session.add(export)
    session.flush()
    audit.record(session, actor=actor, action="privacy.export.request", target_type="export",
                 target_id=export.id, org_id=zone.org_id,
                 details={"zone": zone.id, "purpose": export.purpose, "file": filename,
                          "sha256": export.sha256, "query": data.query_id})
    return export


def _csv(query: ZoneQuery) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c["name"] for c in query.columns])
    writer.writerows(query.rows)
    return out.getvalue().encode("utf-8")


def _table(query: ZoneQuery) -> pa.Table:
    names = [c["name"] for c in query.columns]
    return pa.table({n: pa.array([None if r[i] is None else str(r[i]) for r in query.rows],
                                 pa.string()) for i, n in enumerate(names)})


def _read_csv(content: bytes) -> pa.Table:
    try:
        return pacsv.read_csv(io.BytesIO(content), convert_options=pacsv.ConvertOptions(
            strings_can_be_null=True))
    except pa.ArrowInvalid as exc:
        raise Invalid("The file is not a CSV the hub can read: {reason}", code="bad_csv",
                      field="file", reason=str(exc)) from exc


def _risk(table: pa.Table, quasi: list[str], k: int, filename: str) -> dict[str, Any]:
    con = duckdb.connect(config={"memory_limit": "512MB", "threads": 1,
                                 "enable_external_access": False})
    try:
        con.register("export_rows", table)
        return risk_report(con, "export_rows", quasi, k=k).as_dict()
    except Invalid as refused:
        if refused.code != "unknown_table":     # the report's name for a table it cannot read
            raise
        raise Invalid("{file} cannot be read as a table: {reason}", code="bad_csv",
                      field="file", file=filename, reason=refused.params.get("reason", ""),
                      ) from None
    finally:
        con.close()


def get(session: Session, *, actor: Actor, export_id: int) -> ExportRequest:
    """Seen by the zone's people and by reviewers."""
    found = session.get(ExportRequest, export_id)
    if found is None:
        raise NotFound("Export request {id} does not exist", code="export_not_found",
                       id=export_id)
    if "reviewer" not in actor.platform_roles and not actor.is_operator:
        zones.get(session, actor=actor, zone_id=found.zone_id)
    return found


def list_for_review(session: Session, *, actor: Actor) -> list[ExportRequest]:
    authorize(actor, "privacy.export.review")
    return list(session.scalars(select(ExportRequest).where(
        ExportRequest.state == ExportState.pending).order_by(ExportRequest.id)))


def of_zone(session: Session, zone: Zone) -> list[ExportRequest]:
    return list(session.scalars(select(ExportRequest).where(ExportRequest.zone_id == zone.id)
                                .order_by(ExportRequest.id.desc())))


def review(session: Session, *, actor: Actor, export: ExportRequest, verdict: str,
           comment: str) -> ExportRequest:
    """One reviewer's verdict. The committee needs `reviewers_needed` approvals, and none of
    them from the applicant's organization; one rejection with its reason ends the request
    (an export leaves only when the committee is unanimous)."""
    authorize(actor, "privacy.export.review")
    if export.state != ExportState.pending:
        raise Conflict("This export request is already {state}", code="export_decided",
                       state=export.state)
    if actor.role_in(export.org_id) is not None or actor.user_id == export.requested_by:
        raise Forbidden("Reviewers from the applicant's organization cannot review its "
                        "exports", code="reviewer_conflict")
    if any(r.reviewer_id == actor.user_id for r in export.reviews):
        raise Conflict("You have already reviewed this request", code="already_reviewed")
    if verdict == "reject" and not comment.strip():
        raise Invalid("Say why the export is rejected", code="comment_required",
                      field="comment")
    export.reviews.append(ExportReview(reviewer_id=actor.user_id or 0, verdict=verdict,
                                       comment=comment))
    approvals = sum(r.verdict == "approve" for r in export.reviews)
    if verdict == "reject":
        export.state, export.decided_at = ExportState.rejected, utcnow()
    elif approvals >= export.reviewers_needed:
        export.state, export.decided_at = ExportState.approved, utcnow()
    audit.record(session, actor=actor, action=f"privacy.export.review.{verdict}",
                 target_type="export", target_id=export.id, org_id=export.org_id,
                 details={"comment": comment, "state": export.state,
                          "approvals": approvals, "needed": export.reviewers_needed})
    session.flush()
    return export


def download(session: Session, *, actor: Actor, export: ExportRequest) -> tuple[str, bytes]:
    """The approved file, once, to the analyst who asked; its hash goes to the audit log."""
    if actor.user_id is None or actor.user_id != export.requested_by:
        raise Forbidden("Only the analyst who asked for the export may download it",
                        code="not_export_requester")
    zone = session.get(Zone, export.zone_id)
    if zone is None or actor.user_id not in zone.participant_ids:
        raise Forbidden("You are no longer an analyst of this zone", code="not_zone_analyst")
    if export.state == ExportState.downloaded:
        raise Conflict("This export has already been downloaded; an approved request gives "
                       "one download", code="export_already_downloaded")
    if export.state != ExportState.approved:
        raise Conflict("This export is {state}; only an approved export can be downloaded",
                       code="export_not_approved", state=export.state)
    # one statement decides, so two downloads at once cannot both see it approved
    taken = session.execute(update(ExportRequest).where(
        ExportRequest.id == export.id, ExportRequest.state == ExportState.approved)
        .values(state=ExportState.downloaded, downloaded_at=utcnow()))
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict("This export has already been downloaded; an approved request gives "
                       "one download", code="export_already_downloaded")
    session.refresh(export)
    audit.record(session, actor=actor, action="privacy.export.download", target_type="export",
                 target_id=export.id, org_id=export.org_id,
                 details={"sha256": export.sha256, "file": export.filename,
                          "bytes": len(export.content)})
    session.flush()
    return export.filename, export.content


def export_read(export: ExportRequest) -> schemas.ExportRead:
    return schemas.ExportRead(
        id=export.id, zone=export.zone_id, purpose=export.purpose, contents=export.contents,
        filename=export.filename, sha256=export.sha256, bytes=len(export.content),
        quasi=export.quasi, risk=export.risk, state=export.state,
        reviewers_needed=export.reviewers_needed,
        approvals=sum(r.verdict == "approve" for r in export.reviews),
        reviews=[schemas.ReviewRead(reviewer=r.reviewer_id, verdict=r.verdict,
                                    comment=r.comment, created_at=r.created_at)
                 for r in export.reviews],
        created_at=export.created_at, decided_at=export.decided_at,
        downloaded_at=export.downloaded_at)

"""Personal data found in datasets: the scan of every new version (a lake hook), what is shown
of it, the refusal to publish direct identifiers, and each dataset's minimum cell size."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ...core import audit
from ...core.errors import Conflict
from ...identity.policy import SYSTEM, Actor, authorize, can
from ...lake import service as lake
from ...lake.models import Dataset, DatasetVersion
from ...lake.schemas import DatasetUpdate
from .. import detect, schemas
from ..models import DatasetSetting, Finding

DEFAULT_MIN_CELL = 5


def scanner(con: Any, relation: str, columns: list[dict[str, Any]]) -> lake.VersionRecorder:
    """The lake's version scanner: every value of every column, read now (in the job that
    writes the version); what was found is stored with the version."""
    found = detect.scan(con, relation, columns) if columns else []

    def record(session: Session, dataset: Dataset, version: DatasetVersion) -> None:
        store(session, dataset, version.version, found)

    return record


def store(session: Session, dataset: Dataset, version: int,
          found: list[detect.Finding]) -> None:
    """Keep what the scan found; an open dataset whose new version holds direct identifiers
    is closed to `restricted` at once (and told so in the audit log) — publishing them is
    exactly what the scan exists to prevent."""
    session.execute(delete(Finding).where(Finding.dataset_id == dataset.id,
                                          Finding.version == version))
    for item in found:
        session.add(Finding(dataset_id=dataset.id, version=version, column=item.column,
                            kind=item.kind, share=round(item.share, 6), matched=item.matched,
                            total=item.total, confidence=round(item.confidence, 4),
                            direct=item.direct, example=item.example))
    session.flush()
    direct = sorted({f.column for f in found if f.direct})
    if direct and dataset.access == "open":
        lake.update_dataset(session, actor=SYSTEM, dataset=dataset,
                            data=DatasetUpdate(access="restricted"))
        audit.record(session, actor=SYSTEM, action="privacy.dataset.closed",
                     target_type="dataset", target_id=dataset.table_name,
                     org_id=dataset.org_id, details={"version": version, "columns": direct})


def of_version(session: Session, dataset: Dataset, version: int | None = None
               ) -> list[Finding]:
    number = version if version is not None else dataset.current_version
    if number is None:
        return []
    return list(session.scalars(select(Finding).where(
        Finding.dataset_id == dataset.id, Finding.version == number)
        .order_by(Finding.id)))


def findings(session: Session, *, actor: Actor, dataset: Dataset, version: int | None = None
             ) -> schemas.FindingsRead:
    """What was found in a version (the current one by default). Kinds and shares are
    metadata anyone may see; masked examples only those who may read the rows."""
    authorize(actor, "privacy.findings.read", dataset)
    if version is not None:
        lake.get_version(session, dataset=dataset, version=version)
    examples = can(actor, "lake.rows.read", dataset)
    found = of_version(session, dataset, version)
    return schemas.FindingsRead(
        org=dataset.organization.slug, name=dataset.slug,
        version=version if version is not None else dataset.current_version,
        direct_columns=sorted({f.column for f in found if f.direct}),
        findings=[schemas.FindingRead(
            column=f.column, kind=f.kind, label_ko=detect.KINDS[f.kind].label_ko
            if f.kind in detect.KINDS else f.kind,
            label_en=detect.KINDS[f.kind].label_en if f.kind in detect.KINDS else f.kind,
            share=f.share, matched=f.matched, total=f.total, confidence=f.confidence,
            direct=f.direct, example=f.example if examples else None) for f in found])


def direct_columns(session: Session, dataset: Dataset) -> list[str]:
    return sorted({f.column for f in of_version(session, dataset) if f.direct})


def refuse_open(session: Session, actor: Actor, dataset: Dataset, old: str, new: str) -> None:
    """The lake's access hook: a version with direct identifiers is never published open."""
    if new != "open":
        return
    columns = direct_columns(session, dataset)
    if columns:
        raise Conflict("{name} holds personal data that identifies people directly in "
                       "{columns}; pseudonymise or remove these columns before publishing it "
                       "as open", code="personal_data_present", field="access",
                       name=dataset.table_name, columns=", ".join(columns))


def section(session: Session, dataset: Dataset, actor: Actor) -> dict[str, Any]:
    """For the dataset's page: what was found in the current version."""
    if dataset.current_version is None:
        return {}
    return {"privacy": findings(session, actor=actor, dataset=dataset)}


# --- settings ------------------------------------------------------------------------------


def min_cell(session: Session, dataset: Dataset) -> int:
    found = session.get(DatasetSetting, dataset.id)
    return found.min_cell if found else DEFAULT_MIN_CELL


def set_min_cell(session: Session, *, actor: Actor, dataset: Dataset, k: int) -> int:
    authorize(actor, "privacy.settings.update", dataset)
    found = session.get(DatasetSetting, dataset.id)
    if found is None:
        found = DatasetSetting(dataset_id=dataset.id, min_cell=k)
        session.add(found)
    old = found.min_cell
    found.min_cell = k
    audit.record(session, actor=actor, action="privacy.dataset.min_cell", target_type="dataset",
                 target_id=dataset.table_name, org_id=dataset.org_id,
                 details={"from": old, "to": k})
    session.flush()
    return k

"""What a refusal must look like, and proof that it changed nothing.

`refused` checks the problem+json answer: status, stable code, and the names of the faulty
file, column or field in the message. `Snapshot` reads every table a privacy refusal could
touch (datasets and versions, jobs, the privacy tables, platform roles, the audit log) so a
test can assert that the state after a refusal is the state before it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from dpghub.identity.models import User
from tests.conftest import Hub
from tests.support.privacy import Person, World, hospital_csv, make_world

# every table a refused privacy request could write to; the zone query log is left out on
# purpose: a refused zone query is logged (and tests check that entry separately)
WATCHED = ("dataset", "dataset_version", "job", "membership", "audit_event",
           "privacy_finding", "privacy_dataset_setting", "privacy_pseudonymisation",
           "privacy_salt", "privacy_combination", "privacy_combination_part", "privacy_zone",
           "privacy_zone_analyst", "privacy_zone_source", "privacy_export",
           "privacy_export_review")


def state(w: World, *others: User) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the watched tables (and each user's platform roles), in a stable order.
    The world's people (and `others`) get their API tokens first: making a token is itself
    an audit event, which a test must not mistake for the refusal's."""
    for user in (w.hospital_admin, w.agency_admin, w.researcher, w.key_manager, *w.reviewers,
                 *others):
        w.auth(user)
    found: dict[str, list[tuple[Any, ...]]] = {}
    with w.hub.factory() as s:
        for table in WATCHED:
            rows = s.execute(text(f"SELECT * FROM {table}")).all()
            found[table] = sorted(tuple(repr(v) for v in row) for row in rows)
        found["roles"] = sorted(s.execute(text(
            "SELECT id, platform_roles FROM hub_user")).all())
    return found


def changed(before: dict[str, list[tuple[Any, ...]]],
            after: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    """The tables whose rows differ."""
    return [t for t in before if before[t] != after.get(t)]


def refused(answer: Any, status: int, code: str, *names: str,
            field: str | None = None) -> dict[str, Any]:
    """The answer is the problem asked for, and its message names each of `names`."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, body
    for name in names:
        assert name in body["detail"], (name, body)
    if field is not None:
        assert body.get("field") == field, body
    return body



def watch_csv(persons: list[Person]) -> bytes:
    """A researcher's small lookup table: one patient marked, by 주민등록번호."""
    return f"주민등록번호,표시\n{persons[5].rrn},대상\n".encode()


def zone_world(hub: Hub) -> tuple[World, int]:
    """Patients (sensitive) and the institute's one-row lookup table, both sources of the
    institute's safe zone (k = 5) and approved by their owners for the researcher."""
    w = make_world(hub)
    w.ingest(w.hospital_admin, "hospital", "patients", "patients.csv", hospital_csv(w.persons),
             access="sensitive")
    w.ingest(w.researcher, "institute", "watch", "watch.csv", watch_csv(w.persons),
             access="sensitive")
    zone = w.ok(w.researcher, "POST", "/privacy/zones", 201, json={
        "org": "institute", "name": "환자 연구", "purpose": "진단별 통계", "k": 5,
        "datasets": ["hospital/patients", "institute/watch"]})
    w.ok(w.hospital_admin, "POST", f"/privacy/zones/{zone['id']}/approvals",
         json={"dataset": "hospital/patients", "verdict": "approve"})
    w.ok(w.researcher, "POST", f"/privacy/zones/{zone['id']}/approvals",
         json={"dataset": "institute/watch", "verdict": "approve"})
    return w, zone["id"]

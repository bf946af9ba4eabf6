"""Probes of who may reach a pseudonymisation's record and token mapping, and who may speak
for a dataset's owner: platform operators are no owners (they get no bypass for data)."""

from __future__ import annotations

from tests.conftest import Hub
from tests.support.identity import sign_in
from tests.support.privacy import World, hospital_csv, make_world, welfare_csv


def tokenised(w: World) -> int:
    w.ingest(w.hospital_admin, "hospital", "patients", "patients.csv", hospital_csv(w.persons),
             access="sensitive")
    made = w.ok(w.hospital_admin, "POST", "/privacy/datasets/hospital/patients/pseudonymise",
                202, json={"target": "patients-tok", "plan": {
                    "주민등록번호": {"action": "token"}, "성명": {"action": "drop"},
                    "연락처": {"action": "drop"}}})
    w.wait(w.hospital_admin, made["job_id"])
    return made["id"]


def test_the_token_mapping_is_for_the_owner_admins_not_operators(sqlite_hub: Hub) -> None:
    w = make_world(sqlite_hub)
    pid = tokenised(w)
    path = f"/privacy/pseudonymisations/{pid}/tokens/주민등록번호"
    mapping = w.call(w.hospital_admin, "GET", path)
    assert mapping.status_code == 200 and w.persons[0].rrn in mapping.text
    operator = sqlite_hub.make_user(operator=True)
    for outsider in (operator, w.researcher, w.key_manager, w.reviewers[0]):
        answer = w.call(outsider, "GET", path)
        assert answer.status_code == 403, answer.text
        assert w.persons[0].rrn not in answer.text


def test_a_pseudonymisation_record_is_not_for_other_organizations(sqlite_hub: Hub) -> None:
    w = make_world(sqlite_hub)
    pid = tokenised(w)
    assert w.ok(w.hospital_admin, "GET", f"/privacy/pseudonymisations/{pid}")["id"] == pid
    answer = w.call(w.researcher, "GET", f"/privacy/pseudonymisations/{pid}")
    assert answer.status_code in (403, 404), answer.text
    assert "주민등록번호" not in answer.text


def test_an_operator_cannot_approve_a_zone_for_the_owner(sqlite_hub: Hub) -> None:
    w = make_world(sqlite_hub)
    w.ingest(w.hospital_admin, "hospital", "patients", "patients.csv", hospital_csv(w.persons),
             access="sensitive")
    operator = sqlite_hub.make_user(operator=True)
    zone = w.ok(w.researcher, "POST", "/privacy/zones", 201,
                json={"org": "institute", "name": "op", "k": 5, "purpose": "probe",
                      "datasets": ["hospital/patients"]})
    answer = w.call(operator, "POST", f"/privacy/zones/{zone['id']}/approvals",
                    json={"dataset": "hospital/patients", "verdict": "approve"})
    assert answer.status_code == 403, answer.text
    query = w.call(w.researcher, "POST", f"/privacy/zones/{zone['id']}/query",
                   json={"sql": "SELECT count(*) AS n FROM hospital.patients"})
    assert query.status_code == 403 and query.json()["code"] == "not_zone_source"


def test_the_dataset_page_shows_pseudonymisations_to_the_owner_only(sqlite_hub: Hub) -> None:
    w = make_world(sqlite_hub)
    tokenised(w)
    owner, outsider = sqlite_hub.browser(), sqlite_hub.browser()
    sign_in(owner, w.hospital_admin.email)
    sign_in(outsider, w.researcher.email)
    assert "patients-tok" in owner.get("/privacy/datasets/hospital/patients").text
    page = outsider.get("/privacy/datasets/hospital/patients")
    assert page.status_code == 200 and "patients-tok" not in page.text


def test_an_operator_cannot_approve_a_combination_for_the_owner(sqlite_hub: Hub) -> None:
    w = make_world(sqlite_hub)
    w.ingest(w.hospital_admin, "hospital", "patients", "patients.csv", hospital_csv(w.persons),
             access="sensitive")
    w.ingest(w.agency_admin, "welfare", "recipients", "recipients.csv", welfare_csv(w.persons),
             access="sensitive")
    zone = w.ok(w.researcher, "POST", "/privacy/zones", 201,
                json={"org": "institute", "name": "op", "k": 5, "purpose": "probe"})
    cid = w.ok(w.researcher, "POST", "/privacy/combinations", 201, json={
        "name": "c", "zone": zone["id"], "purpose": "probe",
        "datasets": [{"dataset": "hospital/patients", "columns": ["주민등록번호"]},
                     {"dataset": "welfare/recipients", "columns": ["주민번호"]}]})["id"]
    operator = sqlite_hub.make_user(operator=True)
    answer = w.call(operator, "POST", f"/privacy/combinations/{cid}/approve",
                    json={"dataset": "hospital/patients", "verdict": "approve"})
    assert answer.status_code == 403, answer.text
    parts = w.ok(w.researcher, "GET", f"/privacy/combinations/{cid}")["parts"]
    assert all(p["decision"] is None for p in parts), parts

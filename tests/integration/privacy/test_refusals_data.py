"""Refusals before any data moves: pseudonymisation plans, publishing personal data, combination
requests and the key manager's part. Each bad request gets its status, a stable code and a
message naming the column, dataset or field at fault — and leaves every table as it was."""

from __future__ import annotations

from tests.conftest import Hub
from tests.support.privacy import World, hospital_csv, make_world, welfare_csv
from tests.support.refusals import changed, refused, state

FLAGS = "번호,동의,방문일\n" + "".join(
    f"{i},{'true' if i % 2 else 'false'},2024-0{i % 9 + 1}-1{i % 9}\n" for i in range(1, 30))


def with_patients(hub: Hub) -> World:
    w = make_world(hub)
    w.ingest(w.hospital_admin, "hospital", "patients", "patients.csv", hospital_csv(w.persons),
             access="sensitive")
    return w


# --- pseudonymisation --------------------------------------------------------------------


BAD_PLANS = [
    ({"없는열": {"action": "drop"}}, "unknown_column", "plan.없는열", ["없는열"]),
    ({"진료비": {"action": "generalise", "to": "month"}}, "generalisation_type_mismatch",
     "plan.진료비.to", ["진료비", "month"]),
    ({"성명": {"action": "shred"}}, "unknown_action", "plan.성명.action", ["성명", "shred"]),
    ({"진료비": {"action": "generalise", "to": "range", "width": 0}}, "bad_option",
     "plan.진료비.width", ["진료비"]),
    ({"없는열": {"action": "drop"}, "진료비": {"action": "generalise", "to": "month"}},
     "invalid_plan", "plan", ["없는열", "진료비"]),
]


def test_a_bad_plan_is_refused_before_anything_is_made(hub: Hub) -> None:
    w = with_patients(hub)
    before = state(w)
    for plan, code, field, names in BAD_PLANS:
        answer = w.call(w.hospital_admin, "POST",
                        "/privacy/datasets/hospital/patients/pseudonymise",
                        json={"target": "patients-pseudo", "plan": plan})
        refused(answer, 422, code, *names, field=field)
        assert changed(before, state(w)) == [], plan
        assert w.call(w.hospital_admin, "GET",
                      "/datasets/hospital/patients-pseudo").status_code == 404


def test_age_band_on_a_boolean_an_empty_plan_and_a_taken_target(hub: Hub) -> None:
    w = with_patients(hub)
    w.ingest(w.hospital_admin, "hospital", "consents", "consents.csv", FLAGS.encode(),
             access="restricted")
    w.ok(w.hospital_admin, "POST", "/orgs/hospital/datasets", 201,
         json={"slug": "taken", "title_ko": "이미 있는 데이터", "access": "restricted"})
    before = state(w)

    columns = {c["name"]: c["type"] for c in
               w.ok(w.hospital_admin, "GET", "/datasets/hospital/consents")["schema"]}
    assert columns["동의"] == "boolean", columns
    answer = w.call(w.hospital_admin, "POST", "/privacy/datasets/hospital/consents/pseudonymise",
                    json={"target": "consents-pseudo",
                          "plan": {"동의": {"action": "generalise", "to": "age_band"}}})
    refused(answer, 422, "generalisation_type_mismatch", "동의", field="plan.동의.to")

    empty = w.call(w.hospital_admin, "POST", "/privacy/datasets/hospital/patients/pseudonymise",
                   json={"target": "patients-pseudo", "plan": {}})
    assert empty.status_code == 422 and empty.json()["field"] == "plan", empty.text
    assert empty.json()["code"] == "empty_plan", empty.text

    taken = w.call(w.hospital_admin, "POST", "/privacy/datasets/hospital/patients/pseudonymise",
                   json={"target": "taken", "plan": {"성명": {"action": "drop"}}})
    refused(taken, 409, "dataset_exists", "taken")

    assert changed(before, state(w)) == []
    for name in ("consents-pseudo", "patients-pseudo"):
        assert w.call(w.hospital_admin, "GET", f"/datasets/hospital/{name}").status_code == 404
    # the dataset that held the name is untouched: no version, no pseudonymisation record
    assert w.ok(w.hospital_admin, "GET", "/datasets/hospital/taken")["current_version"] is None


def test_only_the_owner_s_editors_pseudonymise(hub: Hub) -> None:
    w = with_patients(hub)
    before = state(w)
    answer = w.call(w.agency_admin, "POST", "/privacy/datasets/hospital/patients/pseudonymise",
                    json={"target": "patients-pseudo", "plan": {"성명": {"action": "drop"}}})
    assert answer.status_code == 403, answer.text
    assert changed(before, state(w)) == []


# --- publishing ------------------------------------------------------------------------------


def test_direct_identifiers_are_never_open(hub: Hub) -> None:
    w = with_patients(hub)
    before = state(w)
    answer = w.call(w.hospital_admin, "PATCH", "/datasets/hospital/patients",
                    json={"access": "open"})
    refused(answer, 409, "personal_data_present", "주민등록번호", "연락처", field="access")
    assert changed(before, state(w)) == []
    assert w.ok(w.hospital_admin, "GET", "/datasets/hospital/patients")["access"] == "sensitive"


def test_an_open_dataset_that_receives_rrns_is_closed(hub: Hub) -> None:
    w = make_world(hub)
    clean = "번호,구분\n" + "".join(f"{i},가{i % 3}\n" for i in range(50))
    w.ingest(w.agency_admin, "welfare", "register", "register.csv", clean.encode())
    assert w.ok(None, "GET", "/datasets/welfare/register")["access"] == "open"
    job = w.ok(w.agency_admin, "POST", "/datasets/welfare/register/ingest", 202,
               files=[("files", ("recipients.csv", welfare_csv(w.persons)))],
               data={"mode": "replace"})
    w.wait(w.agency_admin, job["id"])
    assert w.ok(w.agency_admin, "GET", "/datasets/welfare/register")["access"] == "restricted"
    assert w.call(None, "GET", "/datasets/welfare/register/rows").status_code in (401, 403)
    operator = hub.make_user(operator=True)
    closed = w.ok(operator, "GET", "/audit", params={"action": "privacy.dataset.closed"})
    assert [(e["target_id"], e["details"]["columns"]) for e in closed] == [
        ("welfare.register", ["주민번호"])], closed


# --- combinations ----------------------------------------------------------------------------


def combination_world(hub: Hub) -> tuple[World, dict, dict]:
    """Patients and recipients ingested; the institute's zone and one of the welfare agency."""
    w = with_patients(hub)
    w.ingest(w.agency_admin, "welfare", "recipients", "recipients.csv", welfare_csv(w.persons),
             access="sensitive")
    w.ingest(w.hospital_admin, "hospital", "consents", "consents.csv", FLAGS.encode(),
             access="restricted")
    zone = w.ok(w.researcher, "POST", "/privacy/zones", 201,
                json={"org": "institute", "name": "연구", "purpose": "통계"})
    theirs = w.ok(w.agency_admin, "POST", "/privacy/zones", 201,
                  json={"org": "welfare", "name": "복지부 구역", "purpose": "통계"})
    return w, zone, theirs


def ask(w: World, zone: int, *parts: tuple[str, list[str]], name: str = "linked") -> object:
    return w.call(w.researcher, "POST", "/privacy/combinations", json={
        "name": name, "zone": zone, "purpose": "통계",
        "datasets": [{"dataset": d, "columns": c} for d, c in parts]})


def test_a_combination_request_that_cannot_link_is_refused(hub: Hub) -> None:
    w, zone, theirs = combination_world(hub)
    before = state(w)
    rrn_vs_phone = ask(w, zone["id"], ("hospital/patients", ["연락처"]),
                       ("welfare/recipients", ["주민번호"]))
    refused(rrn_vs_phone, 422, "identifier_kinds_differ", "hospital/patients",
            "welfare/recipients", "mobile", "rrn", field="datasets")
    same_org = ask(w, zone["id"], ("hospital/patients", ["주민등록번호"]),
                   ("hospital/consents", ["번호"]))
    refused(same_org, 422, "one_organization", field="datasets")
    unknown = ask(w, zone["id"], ("hospital/patients", ["주민등록번호"]),
                  ("welfare/recipients", ["주민등록번호"]))
    refused(unknown, 422, "unknown_column", "welfare/recipients", "주민등록번호",
            field="datasets.1.columns")
    missing = ask(w, zone["id"], ("hospital/patients", ["주민등록번호"]),
                  ("welfare/nothing", ["주민번호"]))
    refused(missing, 404, "dataset_not_found", "nothing")
    other_zone = ask(w, theirs["id"], ("hospital/patients", ["주민등록번호"]),
                     ("welfare/recipients", ["주민번호"]))
    assert other_zone.status_code == 403, other_zone.text  # type: ignore[attr-defined]
    assert changed(before, state(w)) == []
    assert w.ok(w.researcher, "GET", "/privacy/combinations") == []


def test_the_key_manager_salts_once_from_outside_and_never_reads(hub: Hub) -> None:
    w, zone, _ = combination_world(hub)
    asked = ask(w, zone["id"], ("hospital/patients", ["주민등록번호"]),
                ("welfare/recipients", ["주민번호"]))
    cid = asked.json()["id"]  # type: ignore[attr-defined]
    # a key manager who works for one of the organizations would hold data and salt
    insider = hub.make_user("keys@welfare.go.kr")
    w.ok(w.agency_admin, "POST", "/orgs/welfare/members", 201,
         json={"email": insider.email, "role": "member"})
    operator = hub.make_user(operator=True)
    w.ok(operator, "POST", f"/users/{insider.id}/roles/key_manager")
    before = state(w, insider)
    refused(w.call(insider, "POST", f"/privacy/combinations/{cid}/approve",
                   json={"verdict": "approve"}), 403, "key_manager_conflict")
    # an owner cannot salt, and cannot decide on another owner's dataset
    assert w.call(w.hospital_admin, "POST", f"/privacy/combinations/{cid}/approve",
                  json={"verdict": "approve"}).status_code == 403
    assert w.call(w.hospital_admin, "POST", f"/privacy/combinations/{cid}/approve",
                  json={"dataset": "welfare/recipients", "verdict": "approve"}
                  ).status_code == 403
    refused(w.call(w.hospital_admin, "POST", f"/privacy/combinations/{cid}/approve",
                   json={"dataset": "hospital/consents", "verdict": "approve"}),
            422, "not_a_part", "hospital/consents", field="dataset")
    assert changed(before, state(w)) == []

    w.ok(w.key_manager, "POST", f"/privacy/combinations/{cid}/approve",
         json={"verdict": "approve"})
    before = state(w)
    refused(w.call(w.key_manager, "POST", f"/privacy/combinations/{cid}/approve",
                   json={"verdict": "approve"}), 409, "already_keyed")
    assert changed(before, state(w)) == []

    w.ok(w.hospital_admin, "POST", f"/privacy/combinations/{cid}/approve",
         json={"dataset": "hospital/patients", "verdict": "approve"})
    started = w.ok(w.agency_admin, "POST", f"/privacy/combinations/{cid}/approve",
                   json={"dataset": "welfare/recipients", "verdict": "approve"})
    w.wait(w.researcher, started["job_id"])
    assert w.ok(w.researcher, "GET", f"/privacy/combinations/{cid}")["state"] == "done"
    before = state(w)
    # decisions are over once it started
    refused(w.call(w.hospital_admin, "POST", f"/privacy/combinations/{cid}/approve",
                   json={"dataset": "hospital/patients", "verdict": "reject"}), 409, "decided")
    # the key manager reads none of it: the sources' rows, the zone, the combined result
    for path in ("/datasets/hospital/patients/rows", "/datasets/welfare/recipients/rows"):
        assert w.call(w.key_manager, "GET", path).status_code == 403, path
    assert w.call(w.key_manager, "GET", f"/privacy/zones/{zone['id']}").status_code == 403
    assert w.call(w.key_manager, "GET",
                  f"/privacy/zones/{zone['id']}/queries").status_code == 403
    total = w.call(w.key_manager, "POST", f"/privacy/zones/{zone['id']}/query",
                   json={"sql": "SELECT count(*) AS n FROM combined.linked"})
    assert total.status_code == 403, total.text
    assert changed(before, state(w)) == []
    assert w.ok(w.researcher, "GET", f"/privacy/zones/{zone['id']}/queries") == []

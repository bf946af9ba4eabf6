"""Issue 16's journey, as new users would try it: two providers upload files with
주민등록번호; the hub flags them and refuses to publish; each pseudonymises; a researcher asks
for a combination that the owners and a key manager approve (match rate reported); the result
is analysed in a safe zone where a small district is hidden (and cannot be recovered from the
total); an export is reviewed by three reviewers and downloaded once."""

from __future__ import annotations

import csv
import hashlib
import io

from tests.conftest import Hub
from tests.support.privacy import SMALL, hospital_csv, make_world, welfare_csv


def test_two_providers_a_combination_a_safe_zone_and_an_export(hub: Hub) -> None:
    w = make_world(hub)

    # 1. each provider uploads; the scan finds the identifiers in every value
    w.ingest(w.hospital_admin, "hospital", "patients", "patients.csv", hospital_csv(w.persons),
             access="sensitive")
    w.ingest(w.agency_admin, "welfare", "recipients", "recipients.csv", welfare_csv(w.persons),
             access="sensitive")
    found = w.ok(None, "GET", "/privacy/datasets/hospital/patients/findings")
    kinds = {f["column"]: f["kind"] for f in found["findings"]}
    assert kinds["주민등록번호"] == "rrn" and kinds["연락처"] == "mobile"
    assert {"주민등록번호", "연락처"} <= set(found["direct_columns"])
    assert all(f["example"] is None for f in found["findings"])   # anonymous: no examples
    mine = w.ok(w.hospital_admin, "GET", "/privacy/datasets/hospital/patients/findings")
    rrn = next(f for f in mine["findings"] if f["column"] == "주민등록번호")
    assert rrn["share"] == 1.0 and rrn["example"].endswith("******")
    welfare = w.ok(None, "GET", "/privacy/datasets/welfare/recipients/findings")
    assert {f["column"]: f["kind"] for f in welfare["findings"]}["주민번호"] == "rrn"

    # 2. publishing them as open is refused, naming the columns
    refused = w.call(w.hospital_admin, "PATCH", "/datasets/hospital/patients",
                     json={"access": "open"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "personal_data_present"
    assert "주민등록번호" in refused.json()["detail"]

    # 3. each pseudonymises into a new dataset, which may then be published
    plan = {"주민등록번호": {"action": "generalise", "to": "age_band", "width": 10},
            "성명": {"action": "drop"}, "연락처": {"action": "mask", "keep_start": 3,
                                                    "keep_end": 4},
            "주소": {"action": "generalise", "to": "sigungu"}}
    made = w.ok(w.hospital_admin, "POST", "/privacy/datasets/hospital/patients/pseudonymise",
                202, json={"target": "patients-pseudo", "plan": plan})
    w.wait(w.hospital_admin, made["job_id"])
    record = w.ok(w.hospital_admin, "GET", f"/privacy/pseudonymisations/{made['id']}")
    assert {r["column"]: r["action"] for r in record["record"]}["성명"] == "drop"
    after = w.ok(None, "GET", "/privacy/datasets/hospital/patients-pseudo/findings")
    assert after["direct_columns"] == [], after
    w.ok(w.hospital_admin, "PATCH", "/datasets/hospital/patients-pseudo",
         json={"access": "open"})
    rows = w.ok(None, "GET", "/datasets/hospital/patients-pseudo/rows", params={"limit": 5})
    assert all(r["연락처"].startswith("010-") and "*" in r["연락처"] for r in rows["rows"])
    made = w.ok(w.agency_admin, "POST", "/privacy/datasets/welfare/recipients/pseudonymise",
                202, json={"target": "recipients-pseudo",
                           "plan": {"주민번호": {"action": "drop"},
                                    "수급자명": {"action": "drop"}}})
    w.wait(w.agency_admin, made["job_id"])

    # 4. a researcher asks for a combination into a safe zone of the institute
    zone = w.ok(w.researcher, "POST", "/privacy/zones", 201,
                json={"org": "institute", "name": "만성질환 복지연구", "k": 5,
                      "purpose": "만성질환자의 복지 수급 현황 통계"})
    combination = w.ok(w.researcher, "POST", "/privacy/combinations", 201, json={
        "name": "patients_welfare", "zone": zone["id"],
        "purpose": "만성질환자의 복지 수급 현황 통계",
        "datasets": [{"dataset": "hospital/patients", "columns": ["주민등록번호"]},
                     {"dataset": "welfare/recipients", "columns": ["주민번호"]}]})
    cid = combination["id"]
    assert combination["state"] == "requested"
    # the key manager salts it, and may not read what they salted
    keyed = w.ok(w.key_manager, "POST", f"/privacy/combinations/{cid}/approve",
                 json={"verdict": "approve"})
    assert keyed["key_approved"] and keyed["state"] == "requested"
    assert w.call(w.key_manager, "GET", "/datasets/hospital/patients/rows").status_code == 403
    w.ok(w.hospital_admin, "POST", f"/privacy/combinations/{cid}/approve",
         json={"dataset": "hospital/patients", "verdict": "approve"})
    started = w.ok(w.agency_admin, "POST", f"/privacy/combinations/{cid}/approve",
                   json={"dataset": "welfare/recipients", "verdict": "approve"})
    assert started["state"] == "approved"
    w.wait(w.researcher, started["job_id"])
    done = w.ok(w.researcher, "GET", f"/privacy/combinations/{cid}")
    assert done["state"] == "done"
    # 240 people: 200 patients, 200 recipients, 160 in both
    assert done["rows"] == 160
    rates = {p["dataset"]: p["match_rate"] for p in done["parts"]}
    assert rates == {"hospital/patients": 0.8, "welfare/recipients": 0.8}

    # 5. the researcher analyses in the zone: the small district is hidden, and so is one
    # more, so that the total over all districts (another query) does not give it away
    sql = ("SELECT regexp_extract(주소, '^\\S+ \\S+') AS 시군구, count(*) AS 인원, "
           "avg(월급여액) AS 평균급여 FROM combined.patients_welfare GROUP BY 1 ORDER BY 1")
    answer = w.ok(w.researcher, "POST", f"/privacy/zones/{zone['id']}/query",
                  json={"sql": sql})
    by_district = {row[0]: row for row in answer["rows"]}
    assert SMALL not in by_district       # a group under k hides its key with its values
    assert by_district[None] == [None, None, None]
    hidden_rows = {s["row"] for s in answer["suppressed"]}
    assert len(hidden_rows) >= 2
    total = w.ok(w.researcher, "POST", f"/privacy/zones/{zone['id']}/query",
                 json={"sql": "SELECT count(*) AS 인원 FROM combined.patients_welfare"})
    assert total["rows"] == [[160]]
    shown = sum(row[1] for row in answer["rows"] if row[1] is not None)
    assert 160 - shown != 3     # the small district's 3 cannot be recomputed
    # raw rows never leave
    raw = w.call(w.researcher, "POST", f"/privacy/zones/{zone['id']}/query",
                 json={"sql": "SELECT * FROM combined.patients_welfare"})
    assert raw.status_code == 422 and raw.json()["code"] == "row_level_output"
    log = w.ok(w.researcher, "GET", f"/privacy/zones/{zone['id']}/queries")
    assert [entry["refused"] is not None for entry in log] == [True, False, False]

    # 6. the answer leaves only through an export approved by three reviewers
    export = w.ok(w.researcher, "POST", f"/privacy/zones/{zone['id']}/exports", 201,
                  json={"purpose": "연구 보고서 표 3", "contents": "시군구별 인원과 평균 급여",
                        "query_id": answer["query_id"], "quasi": ["시군구"]})
    assert export["risk"]["k"] == 5 or "smallest_class" in export["risk"]
    for reviewer in w.reviewers[:2]:
        w.ok(reviewer, "POST", f"/privacy/exports/{export['id']}/reviews",
             json={"verdict": "approve", "comment": "소지역 억제 확인"})
    early = w.call(w.researcher, "GET", f"/privacy/exports/{export['id']}/file")
    assert early.status_code == 409 and early.json()["code"] == "export_not_approved"
    approved = w.ok(w.reviewers[2], "POST", f"/privacy/exports/{export['id']}/reviews",
                    json={"verdict": "approve"})
    assert approved["state"] == "approved"
    file = w.call(w.researcher, "GET", f"/privacy/exports/{export['id']}/file")
    assert file.status_code == 200
    table = list(csv.reader(io.StringIO(file.content.decode("utf-8"))))
    assert table[0] == ["시군구", "인원", "평균급여"] and len(table) == 6
    assert file.headers["repr-digest"]
    again = w.call(w.researcher, "GET", f"/privacy/exports/{export['id']}/file")
    assert again.status_code == 409 and again.json()["code"] == "export_already_downloaded"
    digest = hashlib.sha256(file.content).hexdigest()
    assert w.ok(w.researcher, "GET", f"/privacy/exports/{export['id']}")["sha256"] == digest
    operator = w.hub.make_user(operator=True)
    downloads = w.ok(operator, "GET", "/audit", params={"action": "privacy.export.download"})
    assert [e["details"]["sha256"] for e in downloads] == [digest]


def test_a_pseudonymised_dataset_is_in_the_lineage(hub: Hub) -> None:
    w = make_world(hub)
    w.ingest(w.hospital_admin, "hospital", "patients", "patients.csv", hospital_csv(w.persons),
             access="sensitive")
    made = w.ok(w.hospital_admin, "POST", "/privacy/datasets/hospital/patients/pseudonymise",
                202, json={"target": "patients-pseudo",
                           "plan": {"주민등록번호": {"action": "hmac"}, "성명": {"action": "drop"},
                                    "연락처": {"action": "token"}}})
    w.wait(w.hospital_admin, made["job_id"])
    graph = w.ok(None, "GET", "/lineage")
    assert {"source": "hospital/patients", "target": "hospital/patients-pseudo",
            "version": 1} in graph["edges"]
    # the tokens' mapping: the owner's admins only
    tokens = w.call(w.hospital_admin, "GET",
                    f"/privacy/pseudonymisations/{made['id']}/tokens/연락처")
    assert tokens.status_code == 200, tokens.text
    lines = list(csv.reader(io.StringIO(tokens.text)))
    assert lines[0] == ["value", "token"] and len(lines) == 201
    assert all(token.startswith("tk_") and value.startswith("010-") for value, token in lines[1:])
    assert w.call(w.researcher, "GET",
                  f"/privacy/pseudonymisations/{made['id']}/tokens/연락처").status_code == 403


def test_the_risk_of_a_version_for_those_who_may_read_it(hub: Hub) -> None:
    w = make_world(hub)
    w.ingest(w.hospital_admin, "hospital", "patients", "patients.csv", hospital_csv(w.persons),
             access="sensitive")
    path = "/privacy/datasets/hospital/patients/risk"
    report = w.ok(w.hospital_admin, "GET", path,
                  params={"quasi": "진단코드", "k": 5, "sensitive": "진료비"})
    assert report["records"] == 200 and report["smallest_class"] >= 5
    assert report["records_at_risk"] == 0 and report["version"] == 1
    # every address is its own class: all at risk, and a generalisation is suggested
    report = w.ok(w.hospital_admin, "GET", path, params={"quasi": "주소,진단코드", "k": 5})
    assert report["records_at_risk"] == 200 and report["suggestions"]
    none = w.call(w.hospital_admin, "GET", path, params={"k": 5})
    assert none.status_code == 422 and none.json()["code"] == "no_quasi_identifiers"
    unknown = w.call(w.hospital_admin, "GET", path, params={"quasi": "없는열"})
    assert unknown.status_code == 422 and "없는열" in unknown.json()["detail"]
    # class sizes tell about rows: only those who may read them
    assert w.call(w.researcher, "GET", path, params={"quasi": "진단코드"}).status_code == 403

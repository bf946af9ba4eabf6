"""Probes of a safe zone's SQL as an attacker would write it: each query tries to take
records, or a person's value, out of the zone past the checks."""

from __future__ import annotations

from typing import Any

from tests.conftest import Hub
from tests.support.privacy import World, hospital_csv, make_world


def zone_over_patients(w: World) -> int:
    """The institute's zone over the hospital's sensitive patients, approved by the owner."""
    w.ingest(w.hospital_admin, "hospital", "patients", "patients.csv", hospital_csv(w.persons),
             access="sensitive")
    zone = w.ok(w.researcher, "POST", "/privacy/zones", 201,
                json={"org": "institute", "name": "probe", "k": 5, "purpose": "probe",
                      "datasets": ["hospital/patients"]})
    w.ok(w.hospital_admin, "POST", f"/privacy/zones/{zone['id']}/approvals",
         json={"dataset": "hospital/patients", "verdict": "approve"})
    return zone["id"]


def ask(w: World, zone: int, sql: str) -> Any:
    return w.call(w.researcher, "POST", f"/privacy/zones/{zone}/query", json={"sql": sql})


def leaked(w: World, text: str) -> list[str]:
    """The names, RRNs and phone numbers of the patients that appear in `text`."""
    found = []
    for p in w.persons[:-40]:
        found += [v for v in (p.name, p.rrn, p.phone) if v in text]
    return found


def test_an_error_message_never_quotes_a_value(hub: Hub) -> None:
    """A cast that fails on a name or an RRN: DuckDB's message quotes the value; neither the
    answer nor the query log may carry it."""
    w = make_world(hub)
    zone = zone_over_patients(w)
    for sql in ["SELECT count(*) AS n FROM hospital.patients WHERE CAST(성명 AS INTEGER) > 0",
                "SELECT count(*) AS n FROM hospital.patients "
                "WHERE CAST(주민등록번호 AS DATE) IS NULL"]:
        answer = ask(w, zone, sql)
        assert answer.status_code == 422 and answer.json()["code"] == "query_error"
        assert "Conversion Error" in answer.json()["detail"]
        assert leaked(w, answer.text) == [], answer.text
    log = w.ok(w.researcher, "GET", f"/privacy/zones/{zone}/queries")
    assert [e["refused"] is not None for e in log] == [True, True]
    assert leaked(w, str(log)) == [], log
    # a mistake in the SQL itself keeps its detail
    typo = ask(w, zone, "SELECT count(*) AS n FROM hospital.patients WHERE 없는열 = 1")
    assert typo.status_code == 422 and "없는열" in typo.json()["detail"]


def test_a_group_key_of_a_small_group_is_hidden_with_its_values(hub: Hub) -> None:
    """`GROUP BY 성명` padded with one large group (so it is not one group per record) listed
    every name; a `WHERE 성명 = …` with `GROUP BY 진단코드` showed that person's diagnosis."""
    w = make_world(hub)
    zone = zone_over_patients(w)
    for sql in ["SELECT CASE WHEN 진단코드 = 'E11' THEN 성명 ELSE '-' END AS who, "
                "count(*) AS n FROM hospital.patients GROUP BY 1",
                "SELECT 성명 || '' AS who, count(*) AS n FROM hospital.patients GROUP BY 1",
                "SELECT 주민등록번호, 진단코드, count(*) AS n FROM hospital.patients "
                "GROUP BY ALL ORDER BY 주민등록번호"]:
        answer = ask(w, zone, sql)
        assert answer.status_code in (200, 422), answer.text
        assert leaked(w, answer.text) == [], (sql, answer.text[:300])
    # one person's diagnosis: refused the same way whether they are a patient or not
    for name in (w.persons[5].name, "없는사람"):
        answer = ask(w, zone, f"SELECT 진단코드, count(*) AS n FROM hospital.patients "
                              f"WHERE 성명 = '{name}' GROUP BY 1")
        assert answer.status_code == 422 and answer.json()["code"] == "query_set_too_small"
        assert leaked(w, answer.text) == []
    # large groups keep their keys
    answer = w.ok(w.researcher, "POST", f"/privacy/zones/{zone}/query", json={
        "sql": "SELECT 진단코드, count(*) AS n FROM hospital.patients GROUP BY 1 ORDER BY 1"})
    assert [row[0] for row in answer["rows"]] == ["E11", "I10", "J45"]

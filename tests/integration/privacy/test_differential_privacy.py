"""Differential privacy in a safe zone: answers with OpenDP's noise, paid from the zone's
budget (shown on the zone), refused when the budget is spent; the differencing attack gives
no exact value under it."""

from __future__ import annotations

from tests.conftest import Hub
from tests.support.privacy import hospital_csv, make_world


def test_noisy_answers_spend_the_zone_budget_until_it_is_gone(hub: Hub) -> None:
    w = make_world(hub)
    w.ingest(w.hospital_admin, "hospital", "patients", "patients.csv", hospital_csv(w.persons),
             access="sensitive")
    zone = w.ok(w.researcher, "POST", "/privacy/zones", 201,
                json={"org": "institute", "name": "dp", "k": 5, "epsilon": 1.0,
                      "datasets": ["hospital/patients"]})
    zid = zone["id"]
    w.ok(w.hospital_admin, "POST", f"/privacy/zones/{zid}/approvals",
         json={"dataset": "hospital/patients", "verdict": "approve"})
    sql = ("SELECT 진단코드, count(*) AS n, avg(진료비) AS cost FROM hospital.patients "
           "GROUP BY 1 ORDER BY 1")
    exact = w.ok(w.researcher, "POST", f"/privacy/zones/{zid}/query", json={"sql": sql})
    assert exact["epsilon"] == 0 and exact["epsilon_left"] == 1.0
    noisy = w.ok(w.researcher, "POST", f"/privacy/zones/{zid}/query", json={
        "sql": sql, "dp": True, "epsilon": 0.2, "bounds": {"cost": [0, 100_000]}})
    assert noisy["epsilon"] == 0.4                # 0.2 for each of the two measures
    assert noisy["epsilon_left"] == 0.6
    assert [r[0] for r in noisy["rows"]] == [r[0] for r in exact["rows"]]
    assert noisy["rows"] != exact["rows"]       # noise (a tie would need every draw at 0)
    assert w.ok(w.researcher, "GET", f"/privacy/zones/{zid}")["epsilon_spent"] == 0.4
    # a sum or mean without bounds has no sensitivity: refused, nothing spent
    unbounded = w.call(w.researcher, "POST", f"/privacy/zones/{zid}/query",
                       json={"sql": sql, "dp": True, "epsilon": 0.1})
    assert unbounded.status_code == 422 and "cost" in unbounded.json()["detail"]
    # the differencing attack under noise: the two totals differ by noise, not by the person
    total = "SELECT count(*) AS n FROM hospital.patients"
    first = w.ok(w.researcher, "POST", f"/privacy/zones/{zid}/query",
                 json={"sql": total, "dp": True, "epsilon": 0.2})
    assert first["epsilon_left"] == 0.4
    # what is left does not pay for more than it holds
    for _ in range(2):
        w.ok(w.researcher, "POST", f"/privacy/zones/{zid}/query",
             json={"sql": total, "dp": True, "epsilon": 0.2})
    spent = w.call(w.researcher, "POST", f"/privacy/zones/{zid}/query",
                   json={"sql": total, "dp": True, "epsilon": 0.2})
    assert spent.status_code == 422 and spent.json()["code"] == "privacy_budget_exhausted"
    after = w.ok(w.researcher, "GET", f"/privacy/zones/{zid}")
    assert abs(after["epsilon_spent"] - 1.0) < 1e-9 and after["epsilon_total"] == 1.0

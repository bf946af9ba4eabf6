"""Refusals in a safe zone: queries that would return records, cells under k reached through a
JOIN or a HAVING, the differencing attack, sources not approved for this analyst, people who
are not analysts. Every refused query is in the zone's log with `refused` set, and no refusal
changes anything else."""

from __future__ import annotations

from typing import Any

from tests.conftest import Hub
from tests.support.privacy import World
from tests.support.refusals import changed, refused, state, zone_world

ROW_LEVEL = [
    ("SELECT * FROM hospital.patients", "row_level_output"),
    ("SELECT 성명 FROM hospital.patients", "row_level_output"),
    ("SELECT 주민등록번호, count(*) AS n FROM hospital.patients GROUP BY 주민등록번호",
     "row_level_output"),
    ("SELECT min(진료비) AS 최소 FROM hospital.patients", "row_level_aggregate"),
    ("SELECT 진단코드, max(진료비) AS 최대 FROM hospital.patients GROUP BY 진단코드",
     "row_level_aggregate"),
    ("SELECT string_agg(성명, ',') AS 이름들 FROM hospital.patients", "row_level_aggregate"),
    ("SELECT 진단코드, list(성명) AS 이름들 FROM hospital.patients GROUP BY 진단코드",
     "row_level_aggregate"),
    ("SELECT 진단코드, count(*) AS n, row_number() OVER (ORDER BY 진단코드) AS r "
     "FROM hospital.patients GROUP BY 진단코드", "window_function"),
    ("SELECT count(*) AS n FROM (SELECT * FROM hospital.patients ORDER BY 진료비 DESC LIMIT 1)",
     "record_picking"),
    ("SELECT sum(CASE WHEN 성명 = '홍길동' THEN 진료비 END) AS s FROM hospital.patients",
     "conditional_aggregate"),
]


def query(w: World, zone: int, sql: str, user: Any = None) -> Any:
    return w.call(user or w.researcher, "POST", f"/privacy/zones/{zone}/query",
                  json={"sql": sql})


def refused_in_log(w: World, zone: int) -> list[str]:
    """The SQL of every refused query in the zone's log, oldest first."""
    log = w.ok(w.researcher, "GET", f"/privacy/zones/{zone}/queries")
    return [entry["sql"] for entry in reversed(log) if entry["refused"] is not None]


def test_queries_that_return_records_are_refused_and_logged(hub: Hub) -> None:
    w, zone = zone_world(hub)
    before = state(w)
    for sql, code in ROW_LEVEL:
        body = refused(query(w, zone, sql), 422, code, field="sql")
        assert body["detail"], sql
    assert changed(before, state(w)) == []
    assert refused_in_log(w, zone) == [sql for sql, _ in ROW_LEVEL]
    log = w.ok(w.researcher, "GET", f"/privacy/zones/{zone}/queries")
    assert all(entry["refused"].startswith(code + ":")
               for entry, (_, code) in zip(reversed(log), ROW_LEVEL, strict=True))


def test_a_join_with_a_small_lookup_table_shows_no_small_cell(hub: Hub) -> None:
    w, zone = zone_world(hub)
    marked = w.ok(w.researcher, "POST", f"/privacy/zones/{zone}/query", json={"sql": (
        "SELECT w.표시, count(*) AS n, avg(p.진료비) AS 평균 FROM hospital.patients p "
        "LEFT JOIN institute.watch w ON p.주민등록번호 = w.주민등록번호 GROUP BY 1")})
    # the small group is hidden, key and all; the other group is hidden too: the total
    # (another query) minus it would give the one
    assert "대상" not in str(marked["rows"]), marked
    assert all(row[1:] == [None, None] for row in marked["rows"]), marked
    inner = w.call(w.researcher, "POST", f"/privacy/zones/{zone}/query", json={"sql": (
        "SELECT count(*) AS n, sum(p.진료비) AS s FROM hospital.patients p "
        "JOIN institute.watch w ON p.주민등록번호 = w.주민등록번호")})
    assert inner.status_code == 422 and inner.json()["code"] == "query_set_too_small", \
        inner.text


def test_having_shows_no_small_group(hub: Hub) -> None:
    w, zone = zone_world(hub)
    small = w.ok(w.researcher, "POST", f"/privacy/zones/{zone}/query", json={"sql": (
        "SELECT regexp_extract(주소, '^\\S+ \\S+') AS 시군구, count(*) AS n, "
        "avg(진료비) AS 평균 FROM hospital.patients GROUP BY 1 HAVING count(*) < 5")})
    assert small["rows"] == [], small
    everything = w.ok(w.researcher, "POST", f"/privacy/zones/{zone}/query", json={"sql": (
        "SELECT regexp_extract(주소, '^\\S+ \\S+') AS 시군구, count(*) AS n "
        "FROM hospital.patients GROUP BY 1 HAVING count(*) >= 1")})
    counts = {row[0]: row[1] for row in everything["rows"]}
    # 울릉군's 3 patients: hidden first, so HAVING never sees their count
    assert counts.get("경상북도 울릉군") is None and len(counts) >= 3, counts


def test_the_differencing_attack_is_refused(hub: Hub) -> None:
    w, zone = zone_world(hub)
    target = w.persons[5]
    total = w.ok(w.researcher, "POST", f"/privacy/zones/{zone}/query", json={
        "sql": "SELECT count(*) AS n, avg(진료비) AS 평균 FROM hospital.patients"})
    assert total["rows"][0][0] == 200
    before = state(w)
    attacks = [
        f"SELECT count(*) AS n, avg(진료비) AS 평균 FROM hospital.patients "
        f"WHERE 주민등록번호 <> '{target.rrn}'",
        f"SELECT count(*) AS n, sum(진료비) AS 합계 FROM hospital.patients "
        f"WHERE 성명 <> '{target.name}'",
        f"SELECT 진단코드, count(*) AS n, avg(진료비) AS 평균 FROM hospital.patients "
        f"WHERE 성명 <> '{target.name}' GROUP BY 진단코드",
    ]
    refusals = []
    for sql in attacks:
        answer = query(w, zone, sql)
        if answer.status_code == 200:       # or the cells that differ by one are hidden
            assert all(v is None for row in answer.json()["rows"] for v in row[-2:]), sql
        else:
            refused(answer, 422, "differencing", field="sql")
            refusals.append(sql)
    if len(refusals) < len(attacks):        # an answer with hidden cells is an audit event
        before["audit_event"] = state(w)["audit_event"]
    assert changed(before, state(w)) == []
    assert refused_in_log(w, zone) == refusals


def test_only_analysts_the_owner_approved_may_query(hub: Hub) -> None:
    w, zone = zone_world(hub)
    late = hub.make_user("late@institute.re.kr")
    w.ok(w.researcher, "POST", f"/privacy/zones/{zone}/analysts", 201,
         json={"email": late.email})
    sql = "SELECT 진단코드, count(*) AS n FROM hospital.patients GROUP BY 진단코드"
    before = state(w, late)
    # added after the owner's approval: not approved for them until the owner approves again
    refused(query(w, zone, sql, late), 403, "not_zone_source", "hospital.patients",
            field="sql")
    # the owner's admin sees the zone (they decide on it) but is no analyst
    refused(query(w, zone, sql, w.hospital_admin), 403, "not_zone_analyst")
    # a stranger does not even see the zone
    assert query(w, zone, sql, w.reviewers[0]).status_code in (403, 404)
    assert changed(before, state(w, late)) == []
    assert refused_in_log(w, zone) == [sql, sql]

    w.ok(w.hospital_admin, "POST", f"/privacy/zones/{zone}/approvals",
         json={"dataset": "hospital/patients", "verdict": "approve"})
    answer = query(w, zone, sql, late)
    assert answer.status_code == 200, answer.text
    assert sum(row[1] for row in answer.json()["rows"]) == 200

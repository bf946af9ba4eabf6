"""The privacy pages as people use them without JavaScript: the journey of test_journey.py
walked through the forms — findings on the dataset page, a pseudonymisation planned column by
column, a re-identification report, a safe zone and a combination opened and decided, a query
answered with its hidden cells marked, an export reviewed by three and downloaded once — and
each refusal re-rendered with its reason. The web surface does not depend on the database."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from dpghub.core import jobs
from dpghub.privacy.models import Pseudonymisation
from tests.conftest import Hub
from tests.support.identity import csrf_of
from tests.support.privacy import SMALL, World, hospital_csv, make_world, welfare_csv
from tests.support.testbed_pages import Visitor, visitor

PATIENTS = "/privacy/datasets/hospital/patients"
SQL = ("SELECT regexp_extract(주소, '^\\S+ \\S+') AS 시군구, count(*) AS 인원, "
       "avg(월급여액) AS 평균급여 FROM combined.patients_welfare GROUP BY 1 ORDER BY 1")


@pytest.fixture
def world(sqlite_hub: Hub) -> World:
    """The two providers' files ingested (through the API: uploading is the lake's page). Its
    people read the portal in English, so the tests can name what they see by its message
    ids; the Korean pages are checked by test_the_dataset_page_is_korean_first and the
    accessibility tests."""
    w = make_world(sqlite_hub, language="en")
    w.ingest(w.hospital_admin, "hospital", "patients", "patients.csv", hospital_csv(w.persons),
             access="sensitive")
    w.ingest(w.agency_admin, "welfare", "recipients", "recipients.csv", welfare_csv(w.persons),
             access="sensitive")
    return w


def finish(w: World, job_id: int) -> None:
    job = jobs.wait(w.hub.factory, job_id, timeout=120)
    assert job.state == "succeeded", job.error


def text_of(page: str) -> str:
    """The page's words, tags and entities gone, spaces collapsed: what a reader sees."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def plan_form(page: str) -> dict[str, str]:
    """The pseudonymisation form's fields as the browser would send them untouched."""
    form = page[page.index('action="/privacy/datasets/'):]
    form = form[:form.index("</form>")]
    data = {m.group(1): m.group(2) for m in re.finditer(
        r'<select[^>]*name="([^"]+)"[^>]*>.*?<option value="([^"]*)"[^>]*selected', form)}
    for name in re.findall(r'<select[^>]*name="([^"]+)"', form):
        data.setdefault(name, "")
    data["target"] = re.search(r'name="target"[^>]*value="([^"]*)"', form).group(1)
    return data


# --- a dataset's personal data --------------------------------------------------------------


def test_the_dataset_page_shows_the_findings_in_korean_and_in_english(world: World) -> None:
    world.ok(world.hospital_admin, "PATCH", "/me", json={"language": "ko"})
    owner = visitor(world.hub, world.hospital_admin)
    page = owner.get("/datasets/hospital/patients")
    assert page.status_code == 200
    assert '<html lang="ko"' in page.text
    assert 'aria-labelledby="privacy-h"' in page.text
    seen = text_of(page.text)
    assert "주민등록번호 주민등록번호 rrn 100.0% (200 / 200)" in seen
    assert "연락처 휴대전화번호 mobile" in seen
    assert f'<a href="{PATIENTS}">' in page.text
    assert "******" in page.text                         # the owner's masked example
    # a visitor (signed out) sees what was found, never an example value; in English when
    # the browser asks for it (a signed-in user's own language setting wins over it)
    anonymous = visitor(world.hub).get("/datasets/hospital/patients")
    assert anonymous.status_code == 200 and '<html lang="ko"' in anonymous.text
    assert "연락처 휴대전화번호 mobile" in text_of(anonymous.text)
    assert "******" not in anonymous.text
    english = visitor(world.hub, **{"accept-language": "en"})
    page = english.get("/datasets/hospital/patients")
    assert '<html lang="en"' in page.text
    seen = text_of(page.text)
    assert "Personal data" in seen and "연락처 mobile phone number mobile" in seen
    assert "휴대전화번호" not in page.text


def test_the_privacy_page_of_a_dataset_shows_findings_and_the_forms(world: World) -> None:
    owner = visitor(world.hub, world.hospital_admin)
    page = owner.get(PATIENTS)
    assert page.status_code == 200
    seen = text_of(page.text)
    assert "Direct identifiers in 연락처, 주민등록번호" in seen
    assert 'style="' not in page.text        # the portal's CSP refuses inline styles
    assert "******" in page.text                         # the owner's masked example
    assert 'name="action:주민등록번호"' in page.text and 'name="opt:연락처:keep_start"' in page.text
    assert f'action="{PATIENTS}/risk"' in page.text
    assert "_source_file" not in page.text
    # a stranger may look at the findings but gets neither form
    stranger = visitor(world.hub, world.researcher).get(PATIENTS)
    assert stranger.status_code == 200
    assert f'action="{PATIENTS}/pseudonymise"' not in stranger.text


def test_a_pseudonymisation_planned_on_the_form_runs_and_shows_its_record(world: World) -> None:
    owner = visitor(world.hub, world.hospital_admin)
    data = plan_form(owner.get(PATIENTS).text)
    assert data["action:주민등록번호"] == "drop" and data["action:진단코드"] == "keep"
    data.update({"target": "patients-pseudo", "action:주민등록번호": "generalise",
                 "opt:주민등록번호:to": "age_band", "opt:주민등록번호:width": "10",
                 "action:성명": "drop", "action:연락처": "mask",
                 "opt:연락처:keep_start": "3", "opt:연락처:keep_end": "4",
                 "action:주소": "generalise", "opt:주소:to": "sigungu"})
    data["opt:성명:width"] = "5"          # typed, then the action changed: not sent on
    started = owner.submit(PATIENTS, f"{PATIENTS}/pseudonymise", data, follow_redirects=False)
    assert started.status_code == 303, started.text
    planned = text_of(owner.get(PATIENTS).text)
    assert "hospital/patients v1 → hospital/patients-pseudo" in planned
    assert "성명 drop planned" in planned
    finish(world, _pseudonymisation_job(world))
    seen = text_of(owner.get(PATIENTS).text)
    assert "성명 drop" in seen and "planned" not in seen
    assert "연락처 mask masked with '*' all but the first 3 and the last 4" in seen
    target = owner.get("/privacy/datasets/hospital/patients-pseudo")
    assert target.status_code == 200
    made = text_of(target.text)
    assert "How this dataset was made" in made and "Direct identifiers" not in made
    assert "주소 generalise" in made


def _pseudonymisation_job(w: World) -> int:
    with w.hub.session() as s:
        return s.scalars(select(Pseudonymisation.job_id)).one()


def test_a_bad_plan_is_shown_on_the_form_naming_the_column(world: World) -> None:
    owner = visitor(world.hub, world.hospital_admin)
    data = plan_form(owner.get(PATIENTS).text)
    data.update({"action:진료비": "generalise", "opt:진료비:to": "month"})
    refused = owner.submit(PATIENTS, f"{PATIENTS}/pseudonymise", data)
    assert refused.status_code == 422, refused.text
    assert "진료비" in text_of(refused.text)
    assert f'action="{PATIENTS}/pseudonymise"' in refused.text         # the form, again
    taken = owner.submit(PATIENTS, f"{PATIENTS}/pseudonymise", {**data, "target": "patients"})
    assert taken.status_code in (409, 422) and 'action="' in taken.text


def test_the_risk_form_shows_the_report(world: World) -> None:
    owner = visitor(world.hub, world.hospital_admin)
    shown = owner.submit(PATIENTS, f"{PATIENTS}/risk",
                         {"quasi": ["주소", "진단코드"], "sensitive": "진료비", "k": "5"})
    assert shown.status_code == 200, shown.text
    report = world.ok(world.hospital_admin, "GET", f"{PATIENTS}/risk",
                      params={"quasi": "주소,진단코드", "k": 5, "sensitive": "진료비"})
    seen = text_of(shown.text)
    assert 'id="risk-report"' in shown.text and "<svg" in shown.text
    assert f"Records {report['records']:,}" in seen
    assert f"Records at risk {report['records_at_risk']:,}" in seen
    assert "l-diversity" in seen
    best = report["suggestions"][0]
    table = shown.text[shown.text.index("Suggested generalisations, best first"):]
    body = table[table.index("<tbody>"):]
    first_row = body[:body.index("</tr>")]
    assert f'<th scope="row">{best["column"]}</th><td>{html.escape(best["change"])}' \
        in first_row, first_row
    assert '<option value="주소" selected>' in shown.text       # the form keeps its choices
    wrong = owner.submit(PATIENTS, f"{PATIENTS}/risk", {"quasi": "주소", "k": "1"})
    assert wrong.status_code == 422 and "k must be at least 2" in text_of(wrong.text)
    assert f'action="{PATIENTS}/risk"' in wrong.text


# --- zones, combinations, exports -------------------------------------------------------------


def _zone_and_combination(w: World) -> tuple[Visitor, int, int]:
    """The researcher opens a zone and asks for the combination, on the overview's forms."""
    researcher = visitor(w.hub, w.researcher)
    opened = researcher.submit("/privacy", "/privacy/zones", {
        "org": "institute", "name": "만성질환 복지연구", "purpose": "만성질환자의 복지 수급 현황 통계",
        "datasets": "", "k": "5", "epsilon": ""}, follow_redirects=False)
    assert opened.status_code == 303, opened.text
    zone_id = int(re.fullmatch(r"/privacy/zones/(\d+)", opened.headers["location"]).group(1))
    home = researcher.get("/privacy")
    assert f'<a href="/privacy/zones/{zone_id}">만성질환 복지연구</a>' in home.text
    asked = researcher.submit("/privacy", "/privacy/combinations", {
        "zone": str(zone_id), "name": "patients_welfare", "purpose": "만성질환자의 복지 수급 현황 통계",
        "parts": "hospital/patients: 주민등록번호\nwelfare/recipients: 주민번호"},
        follow_redirects=False)
    assert asked.status_code == 303, asked.text
    cid = int(re.fullmatch(r"/privacy/combinations/(\d+)", asked.headers["location"]).group(1))
    return researcher, zone_id, cid


def test_a_zone_and_a_combination_are_opened_and_decided_on_the_forms(world: World) -> None:
    researcher, zone_id, cid = _zone_and_combination(world)
    page = f"/privacy/combinations/{cid}"
    shown = researcher.get(page)
    assert shown.status_code == 200 and "combined.patients_welfare" in shown.text
    assert 'name="verdict"' not in shown.text               # the researcher decides nothing
    keys = visitor(world.hub, world.key_manager)
    keyed = keys.submit(page, f"{page}/approve", {"verdict": "approve"})
    assert keyed.status_code == 200, keyed.text
    assert 'name="dataset"' not in keyed.text and "Key manager: salt" not in keyed.text
    hospital = visitor(world.hub, world.hospital_admin)
    form = hospital.get(page).text
    assert 'value="hospital/patients"' in form and 'value="welfare/recipients"' not in form
    decided = hospital.submit(page, f"{page}/approve", {"dataset": "hospital/patients",
                                                         "verdict": "approve", "comment": "좋음"})
    assert decided.status_code == 200 and "좋음" in decided.text
    agency = visitor(world.hub, world.agency_admin)
    agency.submit(page, f"{page}/approve", {"dataset": "welfare/recipients",
                                            "verdict": "approve"})
    combination = world.ok(world.researcher, "GET", f"/privacy/combinations/{cid}")
    finish(world, combination["job_id"])
    done = text_of(researcher.get(page).text)
    assert "80.0% (160 / 200)" in done
    # a late decision is refused on the combination's page, with the reason
    late = agency.client.post(f"{page}/approve", data={
        "csrf_token": _token(agency, page), "dataset": "welfare/recipients",
        "verdict": "reject"})
    assert late.status_code == 409
    assert 'id="form-error">This combination is done; decisions are over' in late.text
    assert f"<h1>Combination #{cid}" in late.text
    sources = text_of(researcher.get(f"/privacy/zones/{zone_id}").text)
    assert "combined.patients_welfare" in sources


def _token(who: Visitor, page: str) -> str:
    return csrf_of(who.get(page).text)


def test_a_zone_query_marks_hidden_cells_and_an_export_is_reviewed_and_taken_once(
        world: World) -> None:
    researcher, zone_id, cid = _zone_and_combination(world)
    page = f"/privacy/combinations/{cid}"
    for who, dataset in ((world.key_manager, None), (world.hospital_admin, "hospital/patients"),
                         (world.agency_admin, "welfare/recipients")):
        data = {"verdict": "approve", **({"dataset": dataset} if dataset else {})}
        assert visitor(world.hub, who).submit(page, f"{page}/approve", data).status_code == 200
    finish(world, world.ok(world.researcher, "GET", f"/privacy/combinations/{cid}")["job_id"])
    zone = f"/privacy/zones/{zone_id}"
    answered = researcher.submit(zone, f"{zone}/query", {"sql": SQL})
    assert answered.status_code == 200, answered.text
    body = answered.text
    assert f"<td>{SMALL}</td>" not in body    # a small group's key is hidden with its values
    rows = [r for r in body.split("<tr>") if "fewer than k records" in r]
    assert len(rows) == 1 and rows[0].count(">hidden<") == 3, rows
    assert 'id="e-purpose"' in body
    refused = researcher.submit(zone, f"{zone}/query",
                                {"sql": "SELECT * FROM combined.patients_welfare"})
    assert refused.status_code == 422 and 'action="' + zone + '/query"' in refused.text
    assert "only counts, sums and means per group may leave a safe zone" in refused.text
    assert "SELECT * FROM combined.patients_welfare</textarea>" in refused.text   # kept
    log = text_of(researcher.get(zone).text)
    assert "row_level_output" in log
    # the export: asked for on the answer's form, reviewed by three, downloaded once
    query_id = re.search(r'name="query_id" value="(\d+)"', body).group(1)
    asked = researcher.client.post(f"{zone}/exports", data={
        "csrf_token": _token(researcher, zone), "query_id": query_id,
        "purpose": "연구 보고서 표 3", "contents": "시군구별 인원과 평균 급여", "quasi": "시군구"},
        follow_redirects=False)
    assert asked.status_code == 303, asked.text
    export = asked.headers["location"]
    shown = researcher.get(export)
    assert shown.status_code == 200 and 'id="risk-report"' in shown.text
    assert f'action="{export}/file"' not in shown.text          # not approved yet
    for reviewer in world.reviewers:
        home = visitor(world.hub, reviewer)
        assert f'<a href="{export}">' in home.get("/privacy").text
        reviewed = home.submit(export, f"{export}/reviews", {"verdict": "approve",
                                                             "comment": "소지역 억제 확인"})
        assert reviewed.status_code == 200, reviewed.text
        assert f'action="{export}/reviews"' not in reviewed.text   # one review each
    ready = researcher.get(export)
    assert f'action="{export}/file"' in ready.text
    file = researcher.submit(export, f"{export}/file")
    assert file.status_code == 200 and file.headers["content-disposition"].startswith(
        "attachment")
    assert file.content.decode("utf-8").splitlines()[0] == "시군구,인원,평균급여"
    again = researcher.client.post(f"{export}/file",
                                   data={"csrf_token": _token(researcher, zone)})
    assert again.status_code == 409 and "already been downloaded" in text_of(again.text)


def test_a_refused_zone_form_is_shown_again_with_the_reason(world: World) -> None:
    researcher = visitor(world.hub, world.researcher)
    refused = researcher.submit("/privacy", "/privacy/zones", {
        "org": "institute", "name": "잘못된 구역", "datasets": "hospital/nothing", "k": "5"})
    assert 400 <= refused.status_code < 500, refused.text
    assert "nothing" in text_of(refused.text)
    assert 'action="/privacy/zones"' in refused.text
    bad = researcher.submit("/privacy", "/privacy/zones", {"org": "institute", "name": "x",
                                                           "k": "1"})
    assert bad.status_code == 422 and 'action="/privacy/zones"' in bad.text


POSTS = ["/privacy/zones", "/privacy/combinations", f"{PATIENTS}/pseudonymise",
         f"{PATIENTS}/risk", f"{PATIENTS}/settings", "/privacy/zones/1/query",
         "/privacy/zones/1/analysts", "/privacy/zones/1/approvals", "/privacy/zones/1/exports",
         "/privacy/combinations/1/approve", "/privacy/exports/1/reviews",
         "/privacy/exports/1/file"]


@pytest.mark.parametrize("path", POSTS)
def test_every_form_post_without_a_csrf_token_is_refused(sqlite_hub: Hub, path: str) -> None:
    user = sqlite_hub.make_user("someone@example.kr")
    browser = visitor(sqlite_hub, user)
    refused = browser.client.post(path, data={"verdict": "approve"})
    assert refused.status_code == 403, refused.text
    assert "csrf_failed" in refused.text

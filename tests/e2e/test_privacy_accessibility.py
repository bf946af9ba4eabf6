"""The privacy pages pass axe-core's WCAG 2.0/2.1 A and AA rules, in a real browser.

One hub (`dpghub serve`) gets the privacy journey of tests/support/privacy.py through its
command line and API: a hospital and a welfare agency upload files of people, the hospital
pseudonymises its own, a research institute's safe zone receives their combination (salted by
a key manager, approved by both owners), a query there hides a small district, and an export
waits for the last of three reviewers; a second combination waits for its key manager.
Headless Debian Chromium opens each page as the person who uses it — with a risk report
computed, a zone answer shown — and fails on any violation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api

from tests.e2e.conftest import (
    WAIT_MS,
    Screen,
    axe_violations,
    describe,
    hub_env,
    init_hub,
    serving,
    wait_job,
)
from tests.support.privacy import hospital_csv, people, welfare_csv

pytestmark = pytest.mark.browser

HOSPITAL, WELFARE, RESEARCHER = ("privacy@hospital.example", "data@welfare.go.kr",
                                 "analyst@institute.re.kr")
KEYS = "keys@kisa.or.kr"
REVIEWERS = [f"reviewer{i}@committee.kr" for i in (1, 2, 3)]
PASSWORD = "privacy-pass-1"
SQL = ("SELECT regexp_extract(주소, '^\\S+ \\S+') AS 시군구, count(*) AS 인원, "
       "avg(월급여액) AS 평균급여 FROM combined.patients_welfare GROUP BY 1 ORDER BY 1")


@dataclass(frozen=True)
class Sample:
    base: str
    zone: int
    combination: int     # done, with match rates
    waiting: int         # a combination waiting for the key manager
    export: int          # waiting for its third review


def _ok(answer: httpx.Response) -> Any:
    assert answer.is_success, f"{answer.request.method} {answer.request.url}: " \
                              f"{answer.status_code} {answer.text}"
    return answer.json()


def _load(base: str, tokens: dict[str, str]) -> Sample:
    """The journey, made through the API as its people would."""
    def client(email: str) -> httpx.Client:
        return httpx.Client(base_url=base, timeout=60,
                            headers={"Authorization": f"Bearer {tokens[email]}"})

    persons = people()
    with client(HOSPITAL) as hospital, client(WELFARE) as welfare, \
            client(RESEARCHER) as researcher, client(KEYS) as keys, \
            client(REVIEWERS[0]) as first:
        for api, org, name, content in ((hospital, "hospital", "patients",
                                         hospital_csv(persons)),
                                        (welfare, "welfare", "recipients",
                                         welfare_csv(persons))):
            _ok(api.post(f"/api/v1/orgs/{org}/datasets", json={"slug": name, "title_ko": name,
                                                         "access": "sensitive"}))
            wait_job(api, _ok(api.post(f"/api/v1/datasets/{org}/{name}/ingest",
                                       files={"files": (f"{name}.csv", content)}))["id"])
        made = _ok(hospital.post("/api/v1/privacy/datasets/hospital/patients/pseudonymise", json={
            "target": "patients-pseudo",
            "plan": {"주민등록번호": {"action": "generalise", "to": "age_band"},
                     "성명": {"action": "drop"},
                     "연락처": {"action": "mask", "keep_start": 3, "keep_end": 4}}}))
        wait_job(hospital, made["job_id"])
        zone = _ok(researcher.post("/api/v1/privacy/zones", json={
            "org": "institute", "name": "만성질환 복지연구", "k": 5,
            "purpose": "만성질환자의 복지 수급 현황 통계"}))["id"]

        def combination(name: str) -> int:
            return _ok(researcher.post("/api/v1/privacy/combinations", json={
                "name": name, "zone": zone, "purpose": "만성질환자의 복지 수급 현황 통계",
                "datasets": [{"dataset": "hospital/patients", "columns": ["주민등록번호"]},
                             {"dataset": "welfare/recipients", "columns": ["주민번호"]}]}))["id"]

        done = combination("patients_welfare")
        _ok(keys.post(f"/api/v1/privacy/combinations/{done}/approve", json={"verdict": "approve"}))
        _ok(hospital.post(f"/api/v1/privacy/combinations/{done}/approve",
                          json={"dataset": "hospital/patients", "verdict": "approve"}))
        started = _ok(welfare.post(f"/api/v1/privacy/combinations/{done}/approve",
                                   json={"dataset": "welfare/recipients",
                                         "verdict": "approve"}))
        wait_job(researcher, started["job_id"])
        waiting = combination("patients_welfare_again")
        answer = _ok(researcher.post(f"/api/v1/privacy/zones/{zone}/query", json={"sql": SQL}))
        export = _ok(researcher.post(f"/api/v1/privacy/zones/{zone}/exports", json={
            "purpose": "연구 보고서 표 3", "contents": "시군구별 인원과 평균 급여",
            "query_id": answer["query_id"], "quasi": ["시군구"]}))["id"]
        _ok(first.post(f"/api/v1/privacy/exports/{export}/reviews",
                       json={"verdict": "approve", "comment": "소지역 억제 확인"}))
    return Sample(base, zone, done, waiting, export)


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    folder = tmp_path_factory.mktemp("privacy-a11y")
    env = hub_env(folder / "home")
    commands: list[tuple[str, ...]] = []
    for slug, ko, en, kind in (("hospital", "한빛병원", "Hanbit Hospital", "company"),
                               ("welfare", "복지부", "Welfare Ministry", "public"),
                               ("institute", "사회연구원", "Social Research Institute",
                                "research")):
        commands.append(("org", "create", slug, "--name-ko", ko, "--name-en", en,
                         "--kind", kind))
    for email, org in ((HOSPITAL, "hospital"), (WELFARE, "welfare"), (RESEARCHER, "institute")):
        commands.append(("user", "create", email, "--org", org, "--role", "admin",
                         "--password", PASSWORD))
    for email, role in ((KEYS, "key_manager"), *((r, "reviewer") for r in REVIEWERS)):
        commands.append(("user", "create", email, "--password", PASSWORD))
        commands.append(("user", "grant", email, role))
    with_tokens = (HOSPITAL, WELFARE, RESEARCHER, KEYS, REVIEWERS[0])
    for email in with_tokens:
        commands.append(("token", "create", email, "--name", "sample content", "--scope", "read",
                         "--scope", "write", "--days", "1"))
    outputs = init_hub(env, *commands)
    tokens = {email: out.strip()
              for email, out in zip(with_tokens, outputs[-len(with_tokens):], strict=True)}
    with serving(env, folder / "serve.log") as base:
        yield _load(base, tokens)


@pytest.fixture(scope="module")
def visitor(journey: Sample, browser: sync_api.Browser
            ) -> Iterator[Callable[..., sync_api.Page]]:
    """visitor(who, lang): a page signed in as `who` (an e-mail; None: signed out)."""
    contexts: dict[tuple[str | None, str], sync_api.BrowserContext] = {}

    def open_page(who: str | None, lang: str) -> sync_api.Page:
        if (who, lang) not in contexts:
            context = browser.new_context(base_url=journey.base,
                                          locale="ko-KR" if lang == "ko" else "en-US")
            context.set_default_timeout(WAIT_MS)
            context.set_default_navigation_timeout(WAIT_MS)
            if who is not None:
                page = context.new_page()
                page.goto("/signin")
                page.locator("#email").fill(who)
                page.locator("#password").fill(PASSWORD)
                page.locator("main form button[type=submit]").click()
                sync_api.expect(page).not_to_have_url(re.compile(r"/signin"))
                page.close()
            context.add_cookies([{"name": "dpghub_lang", "value": lang, "url": journey.base}])
            contexts[(who, lang)] = context
        return contexts[(who, lang)].new_page()

    yield open_page
    for context in contexts.values():
        context.close()


# --- what is done on a page before it is checked ----------------------------------------------


def _risk_report(page: sync_api.Page) -> None:
    page.locator("#r-quasi").select_option(["주소", "진단코드"])
    page.locator("#r-sens").select_option("진료비")
    page.locator("form[action$='/risk'] button[type=submit]").click()


def _zone_answer(page: sync_api.Page) -> None:
    page.locator("#q-sql").fill(SQL)
    page.locator("form[action$='/query'] button[type=submit]").click()


def _refused_plan(page: sync_api.Page) -> None:
    page.locator("select[name='action:진료비']").select_option("generalise")
    page.locator("select[name='opt:진료비:to']").select_option("month")
    page.locator("form[action$='/pseudonymise'] button[type=submit]").click()


SCREENS = [
    Screen("overview", RESEARCHER, "/privacy", "#newzone-h"),
    Screen("overview-reviewer", REVIEWERS[1], "/privacy", "#rev-h"),
    Screen("dataset-section", HOSPITAL, "/datasets/hospital/patients", "#privacy-h"),
    Screen("dataset-section-signed-out", None, "/datasets/hospital/patients", "#privacy-h"),
    Screen("dataset", HOSPITAL, "/privacy/datasets/hospital/patients", "#plan-h"),
    Screen("dataset-risk", HOSPITAL, "/privacy/datasets/hospital/patients", "#risk-report svg",
           act=_risk_report),
    Screen("dataset-refused", HOSPITAL, "/privacy/datasets/hospital/patients", ".error",
           act=_refused_plan),
    Screen("pseudonymised", HOSPITAL, "/privacy/datasets/hospital/patients-pseudo", "#from-h"),
    Screen("zone", RESEARCHER, "/privacy/zones/{zone}", "#q-h"),
    Screen("zone-answer", RESEARCHER, "/privacy/zones/{zone}", "#e-purpose",
           act=_zone_answer),
    Screen("combination", RESEARCHER, "/privacy/combinations/{combination}", "main table"),
    Screen("combination-owner", HOSPITAL, "/privacy/combinations/{waiting}",
           "form[action$='/approve'] fieldset"),
    Screen("combination-key", KEYS, "/privacy/combinations/{waiting}",
           "form[action$='/approve'] fieldset"),
    Screen("export-reviewer", REVIEWERS[1], "/privacy/exports/{export}", "#rv-c"),
    Screen("export-analyst", RESEARCHER, "/privacy/exports/{export}", "#risk-report"),
]
IN_ENGLISH_TOO = {"overview", "dataset-section", "dataset-risk", "zone-answer", "combination",
                  "export-reviewer"}
CASES = [pytest.param(s, "ko", id=f"ko-{s.name}") for s in SCREENS] + \
    [pytest.param(s, "en", id=f"en-{s.name}") for s in SCREENS if s.name in IN_ENGLISH_TOO]


@pytest.mark.parametrize(("screen", "lang"), CASES)
def test_privacy_page_has_no_wcag_violations(screen: Screen, lang: str, axe_js: Path,
                                             journey: Sample,
                                             visitor: Callable[..., sync_api.Page]) -> None:
    page = visitor(screen.who, lang)
    try:
        path = screen.path.format(**asdict(journey))
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, \
            f"{path}: HTTP {answer.status if answer else None}"
        if screen.act:
            screen.act(page)
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        sync_api.expect(page.locator("html")).to_have_attribute("lang", lang)
        sync_api.expect(page.locator(screen.shows).first).to_be_visible()
        violations = axe_violations(page, axe_js)
        assert not violations, \
            f"{path} ({lang}, {screen.who or 'signed out'}) breaks WCAG 2.x A/AA rules:\n" \
            + describe(violations)
    finally:
        page.close()

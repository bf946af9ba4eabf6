"""The testbed's pages pass axe-core's WCAG 2.0/2.1 A and AA rules, in a real browser.

One hub (`dpghub serve`) gets a testbed through its command line and API: a startup whose
developer registers their own service (the dev server of tests/support/devserver.py, faults
planted, running on loopback), a small open dataset, a project on both with sandbox calls in
its inspector (one breaking the contract), a synthetic copy with its quality charts, a failed
validation with curls, and questions — one answered by support staff and published as a FAQ.
Headless Debian Chromium opens each page as the developer, the supporter or a visitor, with
every folded part (charts, violations, answers) unfolded, and fails on any violation.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
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
from tests.support.devserver import KEY, devserver
from tests.support.testbed_pages import shops_csv

pytestmark = pytest.mark.browser

DEV, HELPER = "dev@startup.kr", "help@nia.or.kr"
PASSWORDS = {DEV: "startup-pass-1", HELPER: "support-pass-1"}
FAQ_TITLE = "목업이 400을 줍니다"


@dataclass(frozen=True)
class Sample:
    base: str
    project: int
    validation: int
    answered: int       # a published ticket
    waiting: int        # a ticket still waiting for an answer

    def paths(self) -> dict[str, str]:
        return {"project": str(self.project), "validation": str(self.validation),
                "answered": str(self.answered), "waiting": str(self.waiting)}


def _ok(answer: httpx.Response) -> Any:
    assert answer.is_success, f"{answer.request.method} {answer.request.url}: " \
                              f"{answer.status_code} {answer.text}"
    return answer.json()


def _load(base: str, dev_token: str, helper_token: str, dev_url: str,
          spec: dict[str, Any]) -> Sample:
    """The developer's testbed, made through the API as they and the support desk would."""
    auth = {"Authorization": f"Bearer {dev_token}"}
    with httpx.Client(base_url=base, headers=auth, timeout=60) as api, \
            httpx.Client(base_url=base, timeout=60,
                         headers={"Authorization": f"Bearer {helper_token}"}) as staff:
        _ok(api.post("/api/v1/orgs/startup/services", json={
            "slug": "bizcheck", "title_ko": "거래처 상태 확인", "upstream_url": dev_url,
            "openapi": spec}))
        _ok(api.post("/api/v1/orgs/startup/datasets", json={"slug": "shops",
                                                            "title_ko": "상가 현황"}))
        wait_job(api, _ok(api.post("/api/v1/datasets/startup/shops/ingest", files={
            "files": ("상가.csv", shops_csv(120), "text/csv")}))["id"])
        project = _ok(api.post("/api/v1/orgs/startup/testbed/projects", json={
            "name": "거래처 확인", "purpose": "사업자 상태로 거래처를 확인한다",
            "services": ["startup/bizcheck"], "datasets": ["startup/shops"]}))["id"]
        key = _ok(api.post(f"/api/v1/testbed/projects/{project}/keys"))["key"]
        sandbox = {"X-API-Key": key}
        api.get("/sandbox/startup/bizcheck/businesses", headers=sandbox)
        api.get("/sandbox/startup/bizcheck/businesses", params={"page": "첫째"},
                headers=sandbox)
        copy = _ok(api.post(f"/api/v1/testbed/projects/{project}/synthetic",
                            json={"dataset": "startup/shops"}))
        wait_job(api, copy["job_id"])
        validation = _ok(api.post(f"/api/v1/testbed/projects/{project}/validations", json={
            "service": "startup/bizcheck", "url": dev_url, "max_cases": 3,
            "headers": {"X-API-Key": KEY}}))
        wait_job(api, validation["job_id"])
        answered = _ok(api.post(f"/api/v1/testbed/projects/{project}/tickets", json={
            "title": FAQ_TITLE, "question": "b_no를 문자열로 보내면 왜 400인가요?",
            "category": "api", "consent_to_publish": True}))["id"]
        _ok(staff.post(f"/api/v1/testbed/tickets/{answered}/answers",
                       json={"body": "b_no는 문자열 배열입니다: [\"2208162517\"]"}))
        _ok(staff.post(f"/api/v1/testbed/tickets/{answered}/actions",
                       json={"action": "publish"}))
        waiting = _ok(api.post(f"/api/v1/testbed/projects/{project}/tickets", json={
            "title": "합성 사본의 행 수", "question": "행 수를 줄일 수 있나요?",
            "category": "data", "priority": "low"}))["id"]
    return Sample(base, project, validation["id"], answered, waiting)


@pytest.fixture(scope="module")
def testbed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sample]:
    folder = tmp_path_factory.mktemp("testbed-a11y")
    env = hub_env(folder / "home")
    *_, dev_token, helper_token = init_hub(
        env,
        ("org", "create", "startup", "--name-ko", "거래처랩", "--name-en", "Partner Lab",
         "--kind", "company"),
        ("user", "create", DEV, "--org", "startup", "--role", "admin", "--password",
         PASSWORDS[DEV], "--name", "김개발"),
        ("user", "create", HELPER, "--password", PASSWORDS[HELPER], "--name", "지원 담당"),
        ("user", "role", HELPER, "supporter"),
        *(("token", "create", email, "--name", "sample content", "--scope", "read", "--scope",
           "write", "--days", "1") for email in (DEV, HELPER)))
    tokens = [dev_token.strip(), helper_token.strip()]
    with devserver(slow_s=0.05) as dev, serving(env, folder / "serve.log") as base:
        yield _load(base, *tokens, dev.base_url, dev.spec)


@pytest.fixture(scope="module")
def visitor(testbed: Sample, browser: sync_api.Browser
            ) -> Iterator[Callable[..., sync_api.Page]]:
    """visitor(who, lang): a page signed in as `who` (an e-mail; None: signed out)."""
    contexts: dict[tuple[str | None, str], sync_api.BrowserContext] = {}

    def open_page(who: str | None, lang: str) -> sync_api.Page:
        if (who, lang) not in contexts:
            context = browser.new_context(base_url=testbed.base,
                                          locale="ko-KR" if lang == "ko" else "en-US")
            context.set_default_timeout(WAIT_MS)
            context.set_default_navigation_timeout(WAIT_MS)
            if who is not None:
                page = context.new_page()
                page.goto("/signin")
                page.locator("#email").fill(who)
                page.locator("#password").fill(PASSWORDS[who])
                page.locator("main form button[type=submit]").click()
                sync_api.expect(page).not_to_have_url(re.compile(r"/signin"))
                page.close()
            context.add_cookies([{"name": "dpghub_lang", "value": lang, "url": testbed.base}])
            contexts[(who, lang)] = context
        return contexts[(who, lang)].new_page()

    yield open_page
    for context in contexts.values():
        context.close()


# --- what is done on a page before it is checked ----------------------------------------------


def _unfold(page: sync_api.Page) -> None:
    """Open every <details>: the charts, the violations, the answers are checked too."""
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")


def _make_key(page: sync_api.Page) -> None:
    page.locator("form[action$='/keys'] button[type=submit]").click()


def _refused_validation(page: sync_api.Page) -> None:
    page.locator("#v-url").fill("http://127.0.0.1:9/api")
    page.locator("#v-headers").fill("X-API-Key dev-only-key")
    page.locator("form[action$='/validations'] button[type=submit]").click()


SCREENS = [
    Screen("home", DEV, "/testbed", "#start-h"),
    Screen("home-signed-out", None, "/testbed", "#faq-h"),
    Screen("project", DEV, "/testbed/projects/{project}", "svg.chart"),
    Screen("project-new-key", DEV, "/testbed/projects/{project}", "#new-key", act=_make_key),
    Screen("project-refused", DEV, "/testbed/projects/{project}", "#form-error",
           act=_refused_validation),
    Screen("inspector-broken", DEV, "/testbed/projects/{project}?valid=no#inspector",
           "section[aria-labelledby=inspector] details"),
    Screen("validation", DEV, "/testbed/validations/{validation}", "main pre code"),
    Screen("queue", HELPER, "/testbed/tickets", "main table a[href='/testbed/tickets/{waiting}']"),
    Screen("my-questions", DEV, "/testbed/tickets?state=open", "main table"),
    Screen("ticket-staff", HELPER, "/testbed/tickets/{waiting}", "#answer-body"),
    Screen("ticket-asker", DEV, "/testbed/tickets/{answered}", "main article"),
    Screen("faq", None, "/testbed/faq", "main article h2"),
    Screen("faq-search", None, "/testbed/faq?q=문자열", "main article h2"),
]
IN_ENGLISH_TOO = {"home", "project", "validation", "ticket-staff", "faq"}
CASES = [pytest.param(s, "ko", id=f"ko-{s.name}") for s in SCREENS] + \
    [pytest.param(s, "en", id=f"en-{s.name}") for s in SCREENS if s.name in IN_ENGLISH_TOO]


@pytest.mark.parametrize(("screen", "lang"), CASES)
def test_testbed_page_has_no_wcag_violations(screen: Screen, lang: str, axe_js: Path,
                                             testbed: Sample,
                                             visitor: Callable[..., sync_api.Page]) -> None:
    page = visitor(screen.who, lang)
    try:
        path = screen.path.format(**testbed.paths())
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, \
            f"{path}: HTTP {answer.status if answer else None}"
        if screen.act:
            screen.act(page)
        _unfold(page)
        sync_api.expect(page.locator("html")).to_have_attribute("lang", lang)
        sync_api.expect(page.locator(screen.shows.format(**testbed.paths())).first) \
            .to_be_visible()
        violations = axe_violations(page, axe_js)
        assert not violations, \
            f"{path} ({lang}, {screen.who or 'signed out'}) breaks WCAG 2.x A/AA rules:\n" \
            + describe(violations)
    finally:
        page.close()

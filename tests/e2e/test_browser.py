"""One whole journey in a real browser against a real `dpghub serve` process.

Headless Debian Chromium (driven by Playwright) signs up in Korean, creates an organization,
switches the portal to English, creates an API token on the account page and the token is then
used from Python against /api/v1/me. Along the way: HTML in a display name stays text.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from playwright import sync_api

from tests.e2e.conftest import CHROMIUM_ARGS, WAIT_MS, chromium

pytestmark = pytest.mark.browser


def _api_get(url: str, token: str) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}",
                                                   "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


# --- the journey -----------------------------------------------------------------------------


def test_korean_sign_up_org_language_token_journey(server: str, tmp_path: Path) -> None:
    executable = chromium()
    expect = sync_api.expect
    expect.set_options(timeout=WAIT_MS)

    suffix = uuid.uuid4().hex[:8]
    email = f"minji.{suffix}@example.kr"
    display_name = "김민지 <b>x</b>"
    password = "sejong-daero-209"
    slug = f"seoul-{suffix}"
    name_ko = "서울특별시 테스트기관"
    name_en = "Seoul Test Agency"
    screenshot = tmp_path / "account.png"

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), headless=True,
                                             args=CHROMIUM_ARGS)
        try:
            # A Korean visitor: the browser asks for Korean, as a browser in Korea does.
            context = browser.new_context(base_url=server, locale="ko-KR")
            context.set_default_timeout(WAIT_MS)
            context.set_default_navigation_timeout(WAIT_MS)
            page = context.new_page()

            # 1. The home page is in Korean.
            page.goto("/")
            expect(page.locator("html")).to_have_attribute("lang", "ko")
            expect(page).to_have_title(re.compile("디지털플랫폼정부 허브"))
            expect(page.get_by_role("heading", level=1)).to_have_text("디지털플랫폼정부 허브")
            nav = page.get_by_role("navigation", name="주 메뉴")
            expect(nav.get_by_role("link", name="기관")).to_be_visible()

            # 2. Sign up, with HTML in the display name.
            nav.get_by_role("link", name="회원가입").click()
            expect(page).to_have_url(f"{server}/signup")
            expect(page.get_by_role("heading", level=1)).to_have_text("회원가입")
            page.get_by_label("이메일").fill(email)
            page.get_by_label("이름", exact=True).fill(display_name)
            page.get_by_label(re.compile(r"^비밀번호 \(")).fill(password)
            page.get_by_label("비밀번호 확인").fill(password)
            expect(page.get_by_label("언어")).to_have_value("ko")
            page.get_by_role("button", name="계정 만들기").click()

            # 3. The account page, where the name is text, not markup.
            expect(page).to_have_url(f"{server}/account")
            expect(page.get_by_role("status")).to_have_text("환영합니다! 계정이 준비되었습니다.")
            expect(page.get_by_role("heading", level=1)).to_have_text("내 계정")
            main = page.locator("main")
            expect(main).to_contain_text(f"{display_name} <{email}>")
            expect(main.locator("b")).to_have_count(0)
            expect(page.get_by_label("이름", exact=True)).to_have_value(display_name)
            expect(main).to_contain_text("아직 속한 기관이 없습니다.")

            # 4. Create an organization.
            main.get_by_role("link", name="기관 만들기").click()
            expect(page).to_have_url(f"{server}/orgs/new")
            page.get_by_label(re.compile(r"^식별자\(slug\)")).fill(slug)
            page.get_by_label("한글 이름").fill(name_ko)
            page.get_by_label("영문 이름").fill(name_en)
            page.get_by_label("유형").select_option("company")
            page.get_by_role("button", name="만들기", exact=True).click()

            # 5. The organization's page shows it, and the user as its admin.
            expect(page).to_have_url(f"{server}/orgs/{slug}")
            expect(page.get_by_role("status")).to_have_text("기관을 만들었습니다.")
            expect(page.get_by_role("heading", level=1)).to_have_text(name_ko)
            expect(main).to_contain_text(slug)
            expect(main).to_contain_text("기업")
            row = main.get_by_role("row").filter(has_text=email)
            expect(row).to_have_count(1)
            expect(row).to_contain_text(display_name)
            role_select = row.get_by_label("역할")
            expect(role_select).to_have_value("admin")
            expect(role_select.locator("option:checked")).to_have_text("관리자")
            expect(main.locator("b")).to_have_count(0)

            # 6. Switch to English with the header's language button.
            page.get_by_role("banner").get_by_role("button", name="English").click()
            expect(page).to_have_url(f"{server}/orgs/{slug}")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_role("heading", level=1)).to_have_text(name_en)
            expect(row.get_by_label("Role").locator("option:checked")).to_have_text("admin")
            nav = page.get_by_role("navigation", name="Main")
            expect(nav.get_by_role("link", name="My account")).to_be_visible()
            expect(page.get_by_role("banner").get_by_role("button", name="한국어")).to_be_visible()

            # 7. Create an API token on the account page; it is shown once.
            nav.get_by_role("link", name="My account").click()
            expect(page).to_have_url(f"{server}/account")
            expect(page.locator("html")).to_have_attribute("lang", "en")
            expect(page.get_by_role("heading", level=1)).to_have_text("My account")
            expect(main.get_by_role("link", name=name_en)).to_be_visible()
            page.get_by_label("Token name").fill("노트북 browser test")
            expect(page.get_by_label("read")).to_be_checked()
            page.get_by_label("write").check()
            page.get_by_label("Expires in").select_option("30")
            page.get_by_role("button", name="Create token").click()
            expect(page).to_have_url(f"{server}/account#tokens")
            secret_box = page.locator("#new-token")
            expect(secret_box).to_be_visible()
            token = secret_box.inner_text().strip()
            assert token and " " not in token
            tokens = main.get_by_role("table", name="API tokens")
            expect(tokens.get_by_role("row").filter(has_text="노트북 browser test")) \
                .to_contain_text("read, write")
            expect(main).to_contain_text(f"{display_name} <{email}>")
            expect(main.locator("b")).to_have_count(0)

            # 8. A screenshot of the account page.
            page.screenshot(path=str(screenshot), full_page=True)
            context.close()
        finally:
            browser.close()

    assert screenshot.exists() and screenshot.stat().st_size > 0
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    # 9. The token works from outside the browser.
    status, me = _api_get(server + "/api/v1/me", token)
    assert status == 200, me
    assert me["email"] == email
    assert me["display_name"] == display_name
    assert me["language"] == "en"  # the language button saved the signed-in user's choice
    assert {"org": slug, "name_ko": name_ko, "name_en": name_en, "role": "admin"} in \
        me["memberships"]
    assert [m["org"] for m in me["memberships"]] == [slug]

    status, _ = _api_get(server + "/api/v1/me", token + "x")
    assert status == 401

"""Identity rules through the services and the pages, on both backends."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from dpghub.core.audit import AuditEvent
from dpghub.identity import service
from dpghub.identity.models import User, WebSession
from tests.conftest import PASSWORD, Hub
from tests.support.identity import csrf_of, sign_in  # noqa: E402


def test_repeated_failures_slow_that_address_down_without_locking_the_account(
        hub: Hub) -> None:
    from dpghub.core.db import utcnow

    user = hub.make_user("kim@example.com")
    frozen = utcnow()
    hub.app.state.clock = lambda: frozen          # no time passes unless the test says so
    attacker = hub.browser()
    free = hub.settings.login_max_failures
    for _ in range(free):
        wrong = sign_in(attacker, "kim@example.com", "wrong-password!")
        assert wrong.status_code == 401 and "비밀번호가 틀렸습니다" in wrong.text
    throttled = sign_in(attacker, "kim@example.com", "wrong-password!")
    assert throttled.status_code == 401          # this failure starts the first delay
    waiting = sign_in(attacker, "kim@example.com")   # even the right password waits now
    assert waiting.status_code == 429 and waiting.headers["retry-after"] == "1"
    assert "다시 시도" in waiting.text
    # the owner, from another address, signs in as usual: nobody can lock anyone out
    owner = TestClient(hub.app, headers={"accept": "text/html"}, client=("203.0.113.9", 50000))
    assert sign_in(owner, "kim@example.com").status_code == 303
    with hub.session() as s:
        fresh = s.get(User, user.id)
        assert fresh is not None and fresh.locked_until is None
        actions = s.scalars(select(AuditEvent.action).where(
            AuditEvent.target_id == str(user.id))).all()
        assert actions.count("identity.user.sign_in_failed") == free + 1


def test_a_throttled_unknown_account_answers_exactly_like_a_real_one(hub: Hub) -> None:
    from dpghub.core.db import utcnow

    hub.make_user("real@example.com")
    frozen = utcnow()
    hub.app.state.clock = lambda: frozen
    answers = {}
    for email in ("real@example.com", "ghost@example.com"):
        browser = hub.browser()
        seen = [sign_in(browser, email, "wrong-password!").status_code
                for _ in range(hub.settings.login_max_failures + 2)]
        answers[email] = seen
    assert answers["real@example.com"] == answers["ghost@example.com"]
    assert answers["real@example.com"][-1] == 429


def test_delays_grow_and_end_with_an_injected_clock(hub: Hub) -> None:
    from datetime import timedelta

    from dpghub.core.db import utcnow
    from dpghub.identity import throttle

    limits = throttle.Limits(free=2, longest=timedelta(seconds=5))
    now = utcnow()
    delays = []
    with hub.session() as s:
        for _ in range(6):
            left = throttle.wait_left(s, "x@example.com", "198.51.100.7", now)
            now += timedelta(seconds=left)                 # wait exactly as told
            result = service.authenticate(s, email="x@example.com", password="nope",
                                          address="198.51.100.7", limits=limits, now=now)
            assert result.error is not None and result.error.code == "wrong_credentials"
            delays.append(throttle.wait_left(s, "x@example.com", "198.51.100.7", now))
    assert delays == [0, 0, 1, 2, 4, 5]                 # growing, capped at the longest
    with hub.session() as s:   # another address for the same account is not slowed
        assert throttle.wait_left(s, "x@example.com", "198.51.100.8", now) == 0


def test_unknown_email_fails_like_a_wrong_password(hub: Hub) -> None:
    answer = sign_in(hub.browser(), "nobody@example.com")
    assert answer.status_code == 401 and "이메일 주소 또는 비밀번호가 틀렸습니다" in answer.text


def test_sign_in_sign_out_and_password_change(hub: Hub) -> None:
    hub.make_user("lee@example.com")
    first, second = hub.browser(), hub.browser()
    assert sign_in(first, "lee@example.com").headers["location"] == "/account"
    assert sign_in(second, "lee@example.com").status_code == 303
    cookie = first.cookies.get("dpghub_session")
    assert cookie
    page = first.get("/account")
    assert page.status_code == 200 and "lee@example.com" in page.text
    changed = first.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "new-password-42",
        "new_password2": "new-password-42", "csrf_token": csrf_of(page.text)},
        follow_redirects=False)
    assert changed.status_code == 303
    assert first.get("/account", follow_redirects=False).status_code == 200  # this one stays
    assert second.get("/account", follow_redirects=False).status_code == 303  # others end
    out = first.post("/signout", data={"csrf_token": csrf_of(first.get("/account").text)},
                     follow_redirects=False)
    assert out.status_code == 303
    assert first.get("/account", follow_redirects=False).headers["location"].startswith("/signin")
    with hub.session() as s:
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0


def test_session_cookie_flags(hub: Hub) -> None:
    hub.make_user("flags@example.com")
    answer = sign_in(hub.browser(), "flags@example.com")
    cookie = [v for k, v in answer.headers.multi_items() if k == "set-cookie"
              and v.startswith("dpghub_session=")][0].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_forms_without_csrf_token_change_nothing(hub: Hub) -> None:
    hub.make_user("park@example.com")
    browser = hub.browser()
    sign_in(browser, "park@example.com")
    refused = browser.post("/orgs/new", data={"slug": "nocsrf", "name_ko": "가", "name_en": "A",
                                              "kind": "civic"})
    assert refused.status_code == 403 and "csrf_failed" in refused.text
    forged = browser.post("/orgs/new", data={"slug": "nocsrf", "name_ko": "가", "name_en": "A",
                                             "kind": "civic", "csrf_token": "0" * 64})
    assert forged.status_code == 403
    anonymous = hub.browser().post("/signup", data={"email": "x@example.com"})
    assert anonymous.status_code == 403
    with hub.session() as s:
        assert service.list_orgs(s)[0] == []


def test_signup_page_and_duplicate_email(hub: Hub) -> None:
    browser = hub.browser()
    form = {"email": "choi@example.com", "display_name": "최<b>수</b>",
            "password": PASSWORD, "password2": PASSWORD}
    created = browser.post("/signup", data={**form, "csrf_token": csrf_of(
        browser.get("/signup").text)}, follow_redirects=False)
    assert created.status_code == 303
    account = browser.get("/account").text
    assert "최&lt;b&gt;수&lt;/b&gt;" in account and "최<b>수</b>" not in account
    other = hub.browser()
    again = other.post("/signup", data={**form, "csrf_token": csrf_of(other.get("/signup").text)})
    assert again.status_code == 409 and "이미 있습니다" in again.text
    mismatch = other.post("/signup", data={**form, "email": "new@example.com", "password2": "x",
                                           "csrf_token": csrf_of(other.get("/signup").text)})
    assert mismatch.status_code == 400 and "두 비밀번호가 다릅니다" in mismatch.text
    with hub.session() as s:
        assert s.scalar(select(func.count()).select_from(User)) == 1


def test_language_switch_and_accept_language(hub: Hub) -> None:
    browser = hub.browser()
    assert '<html lang="ko">' in browser.get("/").text
    assert '<html lang="en">' in browser.get("/", headers={"Accept-Language": "en-US"}).text
    page = browser.get("/")
    switched = browser.post("/lang", data={"lang": "en", "next": "/orgs",
                                           "csrf_token": csrf_of(page.text)})
    assert switched.url.path == "/orgs" and '<html lang="en">' in switched.text
    assert "Organizations" in switched.text


def test_member_management_pages_and_last_admin(hub: Hub) -> None:
    admin = hub.make_user("admin@example.com")
    hub.make_user("member@example.com")
    org = hub.make_org("seoul", admin=admin)
    browser = hub.browser()
    sign_in(browser, "admin@example.com")
    page = browser.get(f"/orgs/{org.slug}")
    added = browser.post(f"/orgs/{org.slug}/members", data={
        "email": "member@example.com", "role": "member", "csrf_token": csrf_of(page.text)})
    assert added.status_code == 200 and "member@example.com" in added.text
    invited = browser.post(f"/orgs/{org.slug}/members", data={
        "email": "new@example.com", "role": "editor", "csrf_token": csrf_of(added.text)})
    url = re.search(r'id="invite-url">([^<]+)<', invited.text)
    assert url and "/invite/inv_" in url.group(1)
    last = browser.post(f"/orgs/{org.slug}/members/{admin.id}/remove",
                        data={"csrf_token": csrf_of(invited.text)})
    assert last.status_code == 409 and "관리자가 한 명 이상" in last.text
    # the invitee signs up through the link and joins
    invitee = hub.browser()
    path = "/invite/" + url.group(1).rsplit("/invite/", 1)[1]
    landing = invitee.get(path)
    assert "new@example.com" in landing.text
    signup = invitee.get(f"/signup?invite={path.rsplit('/', 1)[1]}")
    joined = invitee.post("/signup", data={
        "email": "new@example.com", "display_name": "새 사람", "password": PASSWORD,
        "password2": PASSWORD, "invite": path.rsplit("/", 1)[1], "csrf_token": csrf_of(signup.text)})
    assert joined.status_code == 200
    assert "seoul" in invitee.get("/account").text


def test_operator_desk_is_for_operators_only(hub: Hub) -> None:
    hub.make_user("op@example.com", operator=True)
    admin = hub.make_user("orgadmin@example.com")
    hub.make_org("pending-agency", admin=admin)
    org_admin = hub.browser()
    sign_in(org_admin, "orgadmin@example.com")
    assert org_admin.get("/admin").status_code == 403
    refused = org_admin.post("/admin/orgs/pending-agency/verify",
                             data={"csrf_token": csrf_of(org_admin.get("/account").text)})
    assert refused.status_code == 403
    operator = hub.browser()
    sign_in(operator, "op@example.com")
    desk = operator.get("/admin")
    assert desk.status_code == 200 and "pending-agency" in desk.text
    done = operator.post("/admin/orgs/pending-agency/verify", data={"csrf_token": csrf_of(desk.text)})
    assert done.status_code == 200 and "pending-agency" in done.text
    checked = operator.post("/admin/audit/verify", data={"csrf_token": csrf_of(done.text)})
    assert "감사 체인이 온전합니다" in checked.text


def test_new_token_is_shown_once_and_language_switch_returns_to_a_page(hub: Hub) -> None:
    hub.make_user("once@example.com")
    browser = hub.browser()
    sign_in(browser, "once@example.com")
    made = browser.post("/account/tokens", data={
        "name": "batch", "scopes": "read", "expires_in_days": "30",
        "csrf_token": csrf_of(browser.get("/account").text)})
    assert made.url.path == "/account"  # post/redirect/get: a reload does not make another
    token = re.search(r'id="new-token">([^<]+)<', made.text)
    assert token and token.group(1).startswith("dpg_")
    assert 'id="new-token"' not in browser.get("/account").text  # shown once
    switched = browser.post("/lang", data={"lang": "en", "next": "/account",
                                           "csrf_token": csrf_of(made.text)})
    assert switched.status_code == 200 and '<html lang="en">' in switched.text
    failed = browser.post("/account/password", data={
        "current_password": "wrong-password", "new_password": "new-password-42",
        "new_password2": "new-password-42", "csrf_token": csrf_of(switched.text)})
    assert failed.status_code == 422
    assert 'name="next" value="/account"' in failed.text  # not the POST-only address


def test_names_longer_than_their_column_are_refused_not_crashed(hub: Hub) -> None:
    user = hub.make_user()
    auth = hub.bearer(user)
    long = "가" * 150
    too_long = hub.client.patch("/api/v1/me", headers=auth, json={"display_name": long})
    assert too_long.status_code == 422 and too_long.json()["field"] == "display_name"
    token = hub.client.post("/api/v1/tokens", headers=auth, json={"name": long})
    assert token.status_code == 422 and token.json()["field"] == "name"
    org = hub.client.post("/api/v1/orgs", headers=auth, json={
        "slug": "long-name", "name_ko": "가" * 200, "name_en": "A" * 200, "kind": "civic"})
    assert org.status_code == 201


def test_an_operator_reset_lifts_the_delays_on_the_account(hub: Hub) -> None:
    from dpghub.core.db import utcnow
    from dpghub.identity import throttle
    from dpghub.identity.policy import CLI

    user = hub.make_user("park@example.com")
    frozen = utcnow()
    hub.app.state.clock = lambda: frozen
    browser = hub.browser()
    for _ in range(hub.settings.login_max_failures + 1):
        sign_in(browser, "park@example.com", "wrong-password!")
    assert sign_in(browser, "park@example.com").status_code == 429
    with hub.session() as s:
        service.set_password(s, actor=CLI, user=s.get(User, user.id), password=PASSWORD)
        assert throttle.wait_left(s, "park@example.com", "testclient", frozen) == 0
    assert sign_in(browser, "park@example.com").status_code == 303

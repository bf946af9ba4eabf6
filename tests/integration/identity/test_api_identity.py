"""The identity API on both backends: the journey, and every kind of bad input."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from dpghub.core.audit import AuditEvent
from dpghub.core.db import utcnow
from dpghub.identity.models import ApiToken, Organization, Role
from tests.conftest import Hub

PROBLEM = "application/problem+json"


def assert_problem(response, status: int, code: str, field: str | None = None) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["code"] == code and body["status"] == status
    assert body["detail"] and body["title"] and body["type"] == f"urn:dpghub:problem:{code}"
    if field is not None:
        assert body["field"] == field
    return body


def test_health_ready_and_docs(hub: Hub) -> None:
    assert hub.client.get("/api/v1/health").json()["status"] == "ok"
    ready = hub.client.get("/api/v1/ready")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "redis": "not configured"}
    schema = hub.client.get("/api/openapi.json").json()
    assert "/api/v1/me" in schema["paths"] and "/api/v1/orgs/{slug}/members" in schema["paths"]
    docs = hub.client.get("/api/docs")
    assert docs.status_code == 200 and "/api/docs/assets/swagger-ui-bundle.js" in docs.text
    assert hub.client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_org_member_token_journey(hub: Hub) -> None:
    alice = hub.make_user("alice@example.com")
    bob = hub.make_user("bob@example.com")
    alice_h = hub.bearer(alice)

    created = hub.client.post("/api/v1/orgs", headers=alice_h, json={
        "slug": "hanbit", "name_ko": "한빛데이터", "name_en": "Hanbit Data", "kind": "company"})
    assert created.status_code == 201, created.text
    assert created.json()["verified"] is False

    me = hub.client.get("/api/v1/me", headers=alice_h).json()
    assert me["email"] == "alice@example.com"
    assert me["memberships"] == [{"org": "hanbit", "name_ko": "한빛데이터",
                                  "name_en": "Hanbit Data", "role": "admin"}]

    added = hub.client.post("/api/v1/orgs/hanbit/members", headers=alice_h,
                            json={"email": "bob@example.com", "role": "editor"})
    assert added.status_code == 201 and added.json()["role"] == "editor"
    members = hub.client.get("/api/v1/orgs/hanbit/members", headers=hub.bearer(bob)).json()
    assert {(m["email"], m["role"]) for m in members} == {
        ("alice@example.com", "admin"), ("bob@example.com", "editor")}

    promoted = hub.client.patch(f"/api/v1/orgs/hanbit/members/{bob.id}", headers=alice_h,
                                json={"role": "admin"})
    assert promoted.json()["role"] == "admin"
    assert hub.client.delete(f"/api/v1/orgs/hanbit/members/{alice.id}",
                             headers=hub.bearer(bob)).status_code == 204
    assert_problem(hub.client.delete(f"/api/v1/orgs/hanbit/members/{bob.id}",
                                     headers=hub.bearer(bob)), 409, "last_admin")

    token = hub.client.post("/api/v1/tokens", headers=alice_h,
                            json={"name": "노트북", "scopes": ["read"], "expires_in_days": 7})
    assert token.status_code == 201
    secret = token.json()["token"]
    listed = hub.client.get("/api/v1/tokens", headers={"Authorization": f"Bearer {secret}"})
    assert listed.status_code == 200 and isinstance(listed.json(), list), listed.text
    assert all("token" not in t for t in listed.json())
    assert listed.json()[0]["last_used_at"] is not None
    with hub.session() as s:
        stored = s.scalar(select(ApiToken).where(ApiToken.name == "노트북"))
        assert stored is not None and secret not in stored.token_hash


def test_the_audit_log_records_every_change(hub: Hub) -> None:
    admin = hub.make_user(operator=True)
    hub.make_org("mois", admin=admin)
    events = hub.client.get("/api/v1/audit", headers=hub.bearer(admin)).json()
    actions = [e["action"] for e in events]
    assert "identity.org.create" in actions and "identity.token.create" in actions
    verified = hub.client.get("/api/v1/audit/verify", headers=hub.bearer(admin)).json()
    assert verified["ok"] is True and verified["events"] >= 3


def test_duplicate_and_malformed_input_change_nothing(hub: Hub) -> None:
    alice = hub.make_user()
    h = hub.bearer(alice)
    body = {"slug": "mois", "name_ko": "행정안전부", "name_en": "MOIS", "kind": "public"}
    assert hub.client.post("/api/v1/orgs", headers=h, json=body).status_code == 201
    assert_problem(hub.client.post("/api/v1/orgs", headers=h, json=body), 409, "slug_taken",
                   "slug")
    bad = assert_problem(hub.client.post("/api/v1/orgs", headers=h,
                                         json={**body, "slug": "Bad Slug!"}), 422, "invalid", "slug")
    assert "slug" in bad["detail"]
    assert_problem(hub.client.post("/api/v1/orgs", headers=h, json={**body, "slug": "x2",
                                                                     "kind": "army"}),
                   422, "invalid", "kind")
    assert_problem(hub.client.post("/api/v1/orgs", headers=h, content=b"{not json",
                                   ), 422, "invalid")
    with hub.session() as s:
        assert s.scalars(select(Organization.slug)).all() == ["mois"]


def test_html_in_names_is_stored_verbatim_and_returned_as_data(hub: Hub) -> None:
    alice = hub.make_user()
    name = "<script>alert(1)</script>기관"
    created = hub.client.post("/api/v1/orgs", headers=hub.bearer(alice), json={
        "slug": "xss", "name_ko": name, "name_en": "X", "kind": "civic"})
    assert created.json()["name_ko"] == name
    page = hub.client.get("/orgs/xss")
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;기관" in page.text


def test_tokens_expired_revoked_unknown_and_read_only(hub: Hub) -> None:
    alice = hub.make_user()
    org = hub.make_org(admin=alice)
    secret = hub.make_token(alice)
    auth = {"Authorization": f"Bearer {secret}"}
    token_id = hub.client.get("/api/v1/tokens", headers=auth).json()[0]["id"]
    assert hub.client.delete(f"/api/v1/tokens/{token_id}", headers=auth).status_code == 200
    assert_problem(hub.client.get("/api/v1/me", headers=auth), 401, "token_revoked")

    expiring = hub.make_token(alice)
    with hub.session() as s:
        s.execute(update(ApiToken).where(ApiToken.revoked_at.is_(None))
                  .values(expires_at=utcnow() - timedelta(minutes=1)))
    assert_problem(hub.client.get("/api/v1/me", headers={"Authorization": f"Bearer {expiring}"}),
                   401, "token_expired")
    assert_problem(hub.client.get("/api/v1/me", headers={"Authorization": "Bearer dpg_nope"}),
                   401, "token_invalid")

    reader = hub.bearer(alice, scopes=("read",))
    assert hub.client.get("/api/v1/me", headers=reader).status_code == 200
    assert_problem(hub.client.patch(f"/api/v1/orgs/{org.slug}", headers=reader,
                                    json={"name_en": "Changed"}), 403, "insufficient_scope")


def test_outsiders_and_org_admins_are_refused_what_is_not_theirs(hub: Hub) -> None:
    a_admin = hub.make_user()
    b_admin = hub.make_user()
    org_a = hub.make_org(admin=a_admin)
    hub.make_org(admin=b_admin)
    as_b = hub.bearer(b_admin)
    assert_problem(hub.client.get(f"/api/v1/orgs/{org_a.slug}/members", headers=as_b),
                   403, "forbidden")
    assert_problem(hub.client.post(f"/api/v1/orgs/{org_a.slug}/members", headers=as_b,
                                   json={"email": b_admin.email}), 403, "forbidden")
    # an org admin is not an operator
    assert_problem(hub.client.post(f"/api/v1/orgs/{org_a.slug}/verify",
                                   headers=hub.bearer(a_admin)), 403, "forbidden")
    assert_problem(hub.client.get("/api/v1/audit", headers=hub.bearer(a_admin)), 403, "forbidden")
    assert_problem(hub.client.post("/api/v1/orgs", json={}), 401, "unauthenticated")


def test_operator_verifies_a_public_agency(hub: Hub) -> None:
    operator = hub.make_user(operator=True)
    org = hub.make_org("molit", admin=hub.make_user())
    verified = hub.client.post(f"/api/v1/orgs/{org.slug}/verify", headers=hub.bearer(operator))
    assert verified.json()["verified"] is True and verified.json()["verified_at"]
    listed = hub.client.get("/api/v1/orgs", params={"verified": "true"}).json()
    assert [o["slug"] for o in listed["items"]] == ["molit"]


def test_invitation_for_an_address_without_account(hub: Hub) -> None:
    admin = hub.make_user()
    org = hub.make_org(admin=admin)
    invited = hub.client.post(f"/api/v1/orgs/{org.slug}/invitations", headers=hub.bearer(admin),
                              json={"email": "new@example.com", "role": "editor"})
    assert invited.status_code == 201
    secret = invited.json()["url"].rsplit("/", 1)[1]
    stranger = hub.make_user("someone@example.com")
    assert_problem(hub.client.post("/api/v1/invitations/accept", headers=hub.bearer(stranger),
                                   json={"token": secret}), 403, "invitation_other_user")
    newcomer = hub.make_user("new@example.com")
    accepted = hub.client.post("/api/v1/invitations/accept", headers=hub.bearer(newcomer),
                               json={"token": secret})
    assert accepted.status_code == 200 and accepted.json()["role"] == "editor"
    assert_problem(hub.client.post("/api/v1/invitations/accept", headers=hub.bearer(newcomer),
                                   json={"token": secret}), 409, "invitation_used")


def test_pagination_with_cursor(hub: Hub) -> None:
    for i in range(5):
        hub.make_org(f"org-{i}")
    first = hub.client.get("/api/v1/orgs", params={"limit": 2}).json()
    assert [o["slug"] for o in first["items"]] == ["org-0", "org-1"]
    second = hub.client.get("/api/v1/orgs", params={"limit": 2,
                                                    "cursor": first["next_cursor"]}).json()
    assert [o["slug"] for o in second["items"]] == ["org-2", "org-3"]
    assert_problem(hub.client.get("/api/v1/orgs", params={"cursor": "@@@"}), 422,
                   "invalid_cursor", "cursor")
    assert_problem(hub.client.get("/api/v1/orgs", params={"limit": 5000}), 422, "invalid",
                   "limit")


def test_errors_speak_the_callers_language(hub: Hub) -> None:
    ko = hub.client.get("/api/v1/orgs/nope")
    en = hub.client.get("/api/v1/orgs/nope", headers={"Accept-Language": "en"})
    assert ko.json()["detail"] == "기관 nope이(가) 없습니다"
    assert en.json()["detail"] == "Organization nope does not exist"


def test_audit_rows_are_written_in_the_same_transaction(hub: Hub) -> None:
    """A refused change leaves neither the change nor an audit event behind."""
    admin = hub.make_user()
    org = hub.make_org(admin=admin)
    with hub.session() as s:
        before = s.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    hub.client.patch(f"/api/v1/orgs/{org.slug}/members/{admin.id}", headers=hub.bearer(admin),
                     json={"role": "member"})
    with hub.session() as s:
        after = s.scalars(select(AuditEvent.action).where(AuditEvent.seq > before)).all()
        roles = s.scalars(select(Organization).where(Organization.id == org.id)).one()
        assert roles.memberships[0].role == Role.admin
    assert after == ["identity.token.create"]

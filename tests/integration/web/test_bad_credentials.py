"""A credential that is sent must be valid, on every endpoint, also those anonymous callers
may read: a client with a typo in its token learns it at once (as on GitHub's and CKAN's
APIs) instead of silently reading as nobody."""

from __future__ import annotations

import pytest

from tests.conftest import Hub


def readable_paths(hub: Hub) -> list[str]:
    """Every JSON GET route the schema lists that needs no path parameter."""
    schema = hub.client.get("/api/openapi.json").json()
    return sorted(path for path, ops in schema["paths"].items()
                  if "get" in ops and "{" not in path)


def test_a_malformed_token_is_refused_everywhere(sqlite_hub: Hub) -> None:
    paths = readable_paths(sqlite_hub)
    assert "/api/v1/datasets" in paths and "/api/v1/health" in paths
    for path in paths:
        answer = sqlite_hub.client.get(path, headers={"Authorization": "Bearer dpg_typo"})
        assert answer.status_code == 401, (path, answer.status_code)
        assert answer.headers["content-type"].startswith("application/problem+json"), path
        assert answer.json()["code"] == "token_invalid", path


@pytest.mark.parametrize("case", ["revoked", "expired", "app_key_revoked"])
def test_revoked_and_expired_credentials_are_refused_on_public_reads(sqlite_hub: Hub,
                                                                    case: str) -> None:
    hub = sqlite_hub
    user = hub.make_user()
    hub.make_org("hanbit", admin=user, kind="company")
    auth = hub.bearer(user)
    hub.make_org("molit", admin=user)
    made = hub.client.post("/api/v1/orgs/molit/datasets", headers=auth,
                           json={"slug": "open-data", "title_ko": "공개"})
    assert made.status_code == 201
    if case == "app_key_revoked":
        app = hub.client.post("/api/v1/orgs/hanbit/apps", headers=auth,
                              json={"name": "앱"}).json()
        hub.client.delete(f"/api/v1/apps/{app['id']}/keys/{app['keys'][0]['id']}",
                          headers=auth)
        headers = {"X-API-Key": app["key"]}
    else:
        token = hub.make_token(user, days=30)
        if case == "revoked":
            listed = hub.client.get("/api/v1/tokens", headers=auth).json()
            mine = next(t for t in listed if token.startswith(t["prefix"]))
            assert hub.client.delete(f"/api/v1/tokens/{mine['id']}",
                                     headers=auth).status_code == 200
        else:
            from sqlalchemy import update

            from dpghub.core.db import utcnow
            from dpghub.core.security import digest
            from dpghub.identity.models import ApiToken

            with hub.session() as s:
                s.execute(update(ApiToken).where(ApiToken.token_hash == digest(token))
                          .values(expires_at=utcnow()))
        headers = {"Authorization": f"Bearer {token}"}
    for path in ("/api/v1/datasets", "/api/v1/datasets/molit/open-data", "/api/v1/health"):
        assert hub.client.get(path, headers=headers).status_code == 401, path
    # without any credential the same reads are open
    assert hub.client.get("/api/v1/datasets/molit/open-data").status_code == 200

"""The CKAN front sees every dataset, however many: it pages through the catalogue instead
of stopping at a silent cap (it read the first 1,000 only)."""

from __future__ import annotations

import pytest

from dpghub.catalog.ckan import packages as ckan_packages
from tests.conftest import Hub


def test_package_and_organization_lists_cover_every_page(sqlite_hub: Hub,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    hub = sqlite_hub
    user = hub.make_user()
    auth = hub.bearer(user)
    for org in ("org-a", "org-b", "org-c"):
        hub.make_org(org, admin=user)
        for n in range(3):
            made = hub.client.post(f"/api/v1/orgs/{org}/datasets", headers=auth,
                                   json={"slug": f"data-{n}", "title_ko": f"자료 {n}",
                                         "access": "restricted" if n == 2 else "open"})
            assert made.status_code == 201
    monkeypatch.setattr(ckan_packages, "PAGE", 2)     # pages of two, so there are many
    listed = hub.client.get("/api/3/action/package_list").json()["result"]
    assert len(listed) == 6 and "org-c__data-1" in listed and "org-a__data-2" not in listed
    mine = hub.client.get("/api/3/action/package_search", headers=auth,
                          params={"include_private": "true", "rows": 100}).json()["result"]
    assert mine["count"] == 9                 # the member reads the restricted ones too
    orgs = hub.client.get("/api/3/action/organization_list").json()["result"]
    assert orgs == ["org-a", "org-b", "org-c"]
    refused = hub.client.get("/api/3/action/package_show", params={"id": "org-a__data-2"})
    assert refused.status_code == 403
    assert refused.json()["error"]["__type"] == "Authorization Error"

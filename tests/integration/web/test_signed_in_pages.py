"""Pages for signed-in people send a visitor to sign in and bring them back afterwards —
the one dependency (`SignedInPageActor`) instead of a check in each handler."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Hub


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/account"), ("GET", "/apps"), ("GET", "/orgs/new"),
    ("POST", "/invite/not-a-real-secret"),
])
def test_a_visitor_is_sent_to_sign_in_and_back(sqlite_hub: Hub, method: str, path: str) -> None:
    visitor = sqlite_hub.browser()
    form = re.search(r'name="csrf_token" value="([^"]+)"', visitor.get("/signin").text)
    data = {"csrf_token": form.group(1)} if method == "POST" else None
    answer = visitor.request(method, path, data=data, follow_redirects=False)
    assert answer.status_code == 303
    location = urlsplit(answer.headers["location"])
    assert location.path == "/signin"
    assert parse_qs(location.query)["next"] == [path]

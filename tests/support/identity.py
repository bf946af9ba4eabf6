"""Page helpers for tests through the browser pages: the CSRF token of a page, signing in."""

from __future__ import annotations

import re

from tests.conftest import PASSWORD


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def sign_in(client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/signin").text)
    return client.post("/signin", data={"email": email, "password": password,
                                        "csrf_token": token}, follow_redirects=False)

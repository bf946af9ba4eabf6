"""Every portal page and API answer tells the browser what it may do with it."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest

from tests.conftest import Hub


@pytest.mark.parametrize("path", ["/", "/signin", "/datasets", "/services",
                                  "/api/v1/health", "/api/v1/datasets", "/static/hub.css",
                                  "/no-such-page"])
def test_portal_and_api_answers_carry_the_security_headers(sqlite_hub: Hub, path: str) -> None:
    answer = sqlite_hub.client.get(path)
    policy = answer.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "script-src" not in policy          # the portal runs no script but its own files
    assert answer.headers["x-frame-options"] == "DENY"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "strict-origin-when-cross-origin"


def test_the_api_reference_allows_its_own_start_up_script_by_hash_only(
        sqlite_hub: Hub) -> None:
    page = sqlite_hub.client.get("/api/docs")
    policy = page.headers["content-security-policy"]
    inline = re.findall(r"<script>(.*?)</script>", page.text, re.S)
    assert inline, "the page has its start-up script"
    for script in inline:
        digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    assert page.headers.get_list("content-security-policy") == [policy]   # one policy only

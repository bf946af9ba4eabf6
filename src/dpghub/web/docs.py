"""The browsable API reference at /api/docs, served from the installed Swagger UI bundle
(no CDN: the hub often runs on networks without internet access)."""

from __future__ import annotations

import base64
import hashlib
import re

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/api/docs")
def api_docs() -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url="/api/openapi.json",
        title="DPG Hub API",
        swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/api/docs/assets/swagger-ui.css",
        swagger_favicon_url="/api/docs/assets/favicon-32x32.png",
    )
    page.headers["Content-Security-Policy"] = _policy(bytes(page.body))
    return page


def _policy(html: bytes) -> str:
    """The portal's policy, plus the page's own inline start-up script by its hash (the only
    script not in a file) and the inline styles Swagger UI sets."""
    scripts = re.findall(rb"<script>(.*?)</script>", html, re.S)
    hashes = " ".join("'sha256-" + base64.b64encode(hashlib.sha256(s).digest()).decode() + "'"
                      for s in scripts)
    return ("default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
            f"frame-ancestors 'none'; script-src 'self' {hashes}; "
            "style-src 'self' 'unsafe-inline'")

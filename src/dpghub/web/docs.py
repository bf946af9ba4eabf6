"""The browsable API reference at /api/docs, served from the installed Swagger UI bundle
(no CDN: the hub often runs on networks without internet access)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/api/docs")
def api_docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/api/openapi.json",
        title="DPG Hub API",
        swagger_js_url="/api/docs/assets/swagger-ui-bundle.js",
        swagger_css_url="/api/docs/assets/swagger-ui.css",
        swagger_favicon_url="/api/docs/assets/favicon-32x32.png",
    )

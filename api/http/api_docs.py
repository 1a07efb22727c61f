"""/docs (Swagger UI) and /redoc served from this server alone: their scripts, styles and icon
come from the installed `fastapi-offline` package, so the pages work without the internet and
load nothing from elsewhere."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib.resources import files
from typing import Final

from fastapi import FastAPI
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS: Final = "/docs/assets"
OAUTH2_REDIRECT: Final = "/docs/oauth2-redirect"


def install(app: FastAPI) -> None:
    """Serve /docs, /redoc and their assets (the app is made with docs_url=redoc_url=None)."""
    static = files("fastapi_offline") / "static"
    app.mount(ASSETS, StaticFiles(directory=str(static)), name="docs-assets")
    spec, title, icon = (
        app.openapi_url or "/openapi.json",
        f"{app.title} · API",
        f"{ASSETS}/favicon.png",
    )
    pages = {
        "/docs": get_swagger_ui_html(
            openapi_url=spec,
            title=title,
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=icon,
            oauth2_redirect_url=OAUTH2_REDIRECT,
            swagger_ui_parameters={"validatorUrl": None},  # no public validator's badge
        ),
        "/redoc": get_redoc_html(
            openapi_url=spec,
            title=title,
            redoc_js_url=f"{ASSETS}/redoc.standalone.js",
            redoc_favicon_url=icon,
            with_google_fonts=False,  # no fonts from Google's servers
        ),
        OAUTH2_REDIRECT: get_swagger_ui_oauth2_redirect_html(),
    }
    for path, page in pages.items():
        app.add_api_route(path, _serving(bytes(page.body)), include_in_schema=False)


def _serving(html: bytes) -> Callable[[], Awaitable[HTMLResponse]]:
    """An endpoint answering this page."""

    async def page() -> HTMLResponse:
        return HTMLResponse(html)

    return page

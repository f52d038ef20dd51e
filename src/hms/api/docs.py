"""The interactive docs page, with its scripts and styles served by HMS itself: hospital
networks are often closed to the internet, so nothing is fetched from a CDN."""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from hms.api.middleware import PAGE_CSP

DOCS_PATH = "/api/v1/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
OPENAPI_PATH = "/api/v1/openapi.json"

router = APIRouter(include_in_schema=False)


@router.get(DOCS_PATH)
async def docs_page() -> HTMLResponse:
    page = get_swagger_ui_html(
        openapi_url=OPENAPI_PATH,
        title="HMS API",
        swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
        swagger_ui_parameters={"persistAuthorization": False, "tryItOutEnabled": True},
    )
    page.headers["Content-Security-Policy"] = PAGE_CSP
    return page


def mount_docs(app: FastAPI) -> None:
    app.include_router(router)
    static = files("fastapi_offline") / "static"
    app.mount(ASSETS_PATH, StaticFiles(directory=str(static)), name="docs-assets")

"""The API explorer at ``/api/docs``: Swagger UI, served from our own server.

Its files come from the npm package ``swagger-ui-dist`` (package.json / package-lock.json,
installed by ``./dev setup``), not from a CDN: the explorer works on a machine with no
internet, and what it runs is the version the lock file names. Swagger UI is one
self-contained bundle with no dependencies of its own, so opening the page makes no request
to another origin.

The page is ours, not Litestar's: Litestar's Swagger page starts the bundle with an inline
script (and styles the body inline), which our Content-Security-Policy refuses. Ours has
neither; ``static/api-docs.js`` starts Swagger UI on the OpenAPI document's URL, which the
page gives in a data attribute. So ``/api/docs`` runs under the same policy as every page.
"""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from rounds.settings import Settings

ASSETS_URL = "/static/vendor/swagger-ui"
STATIC_URL = "/static/api-docs"
STATIC_DIR = Path(__file__).resolve().parent / "static"


class SwaggerPage(SwaggerRenderPlugin):
    """Swagger UI with no inline script or style: the bundle, its stylesheets and our
    start-up script, all files from our own origin."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema["info"]["title"]))
        url = escape(self.get_openapi_json_route(request))
        return (
            "<!DOCTYPE html><html lang='en'><head>"
            f"<meta charset='utf-8'><title>{title}</title>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"{self.favicon}"
            f"<link rel='stylesheet' href='{self.css_url}'>"
            f"<link rel='stylesheet' href='{ASSETS_URL}/index.css'>"  # page margin
            f"<script src='{self.js_url}' defer></script>"
            f"<script src='{STATIC_URL}/api-docs.js' defer></script>"
            f"</head><body><div id='swagger-container' data-openapi-url='{url}'></div>"
            "</body></html>").encode()

    def receive_router(self, router: Router) -> None:
        """No ``oauth2-redirect.html``: the API has no OAuth2 sign-in, and Litestar's page
        for it is an inline script."""


def openapi_config(title: str, version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title=title, version=version, path="/api/docs",
        render_plugins=[SwaggerPage(
            js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            css_url=f"{ASSETS_URL}/swagger-ui.css",
            # Litestar's default favicon is on a CDN too.
            favicon=f"<link rel='icon' type='image/png' href='{ASSETS_URL}/favicon-32x32.png'>",
            path="/swagger")],
        openapi_router=Router("/api/docs", route_handlers=[], opt={"public": True}))


def asset_handlers(settings: Settings) -> list[Any]:
    """The explorer's files, from the npm package, and our start-up script (public, like
    the explorer itself)."""
    folder = Path(settings.node_modules_dir) / "swagger-ui-dist"
    return [create_static_files_router(path=ASSETS_URL, directories=[folder],
                                       name="vendor_swagger_ui", opt={"public": True}),
            create_static_files_router(path=STATIC_URL, directories=[STATIC_DIR],
                                       name="api_docs_static", opt={"public": True})]

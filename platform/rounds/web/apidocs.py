"""The API explorer at ``/api/docs``: Swagger UI, served from our own server.

Its files come from the npm package ``swagger-ui-dist`` (package.json / package-lock.json,
installed by ``./dev setup``), not from a CDN: the explorer works on a machine with no
internet, and what it runs is the version the lock file names. Swagger UI is one
self-contained bundle with no dependencies of its own, and the page embeds the schema, so
opening it makes no request to another origin.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router

from rounds.settings import Settings

ASSETS_URL = "/static/vendor/swagger-ui"


def openapi_config(title: str, version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title=title, version=version, path="/api/docs",
        render_plugins=[SwaggerRenderPlugin(
            js_url=f"{ASSETS_URL}/swagger-ui-bundle.js",
            css_url=f"{ASSETS_URL}/swagger-ui.css",
            standalone_preset_js_url=f"{ASSETS_URL}/swagger-ui-standalone-preset.js",
            # Litestar's default favicon is on a CDN too.
            favicon=f"<link rel='icon' type='image/png' href='{ASSETS_URL}/favicon-32x32.png'>",
            path="/swagger")],
        openapi_router=Router("/api/docs", route_handlers=[], opt={"public": True}))


def asset_handlers(settings: Settings) -> list[Any]:
    """The explorer's files, from the npm package (public, like the explorer itself)."""
    folder = Path(settings.node_modules_dir) / "swagger-ui-dist"
    return [create_static_files_router(path=ASSETS_URL, directories=[folder],
                                       name="vendor_swagger_ui", opt={"public": True})]

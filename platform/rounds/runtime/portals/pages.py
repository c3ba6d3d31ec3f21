"""The portals' pages in one router: the retailer's own shop (``shop_pages``) and the
notices' authoring (``notices_pages``), with the slice's static files (``/static/portals``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Router
from litestar.exceptions import HTTPException
from litestar.static_files import create_static_files_router

from rounds.errors import RoundsError
from rounds.runtime.access import NotAuthenticated
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.portals import notices_pages, shop_pages
from rounds.settings import Settings

STATIC_DIR = Path(__file__).resolve().parent / "static"
PUBLIC = {"public": True}


def handlers(settings: Settings) -> list[Any]:
    pages = Router(path="/", route_handlers=[*shop_pages.route_handlers(),
                                             *notices_pages.route_handlers()],
                   exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                                       HTTPException: error_page})
    return [pages, create_static_files_router(path=shop_pages.PORTALS_URL,
                                              directories=[STATIC_DIR],
                                              name="portals_static", opt=PUBLIC)]

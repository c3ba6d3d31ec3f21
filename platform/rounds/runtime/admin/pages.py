"""The admin app's landing page (``/admin``) and its wiring: :func:`handlers` gives the app
every admin route (each section's module adds its own to :func:`route_handlers`) and the
static router of ``admin_ui/static`` under ``/static/admin``.

The shell every page renders through (environment, ``render``, ``require_admin``, the
sub-navigation) is :mod:`rounds.runtime.admin.shell`, re-exported here; a section's page
module imports the shell, not this module (which imports the sections).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get
from litestar.exceptions import HTTPException
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import RoundsError
from rounds.i18n import table
from rounds.runtime import audit
from rounds.runtime.access import NotAuthenticated, Principal
from rounds.runtime.admin import (
    audit_pages,
    definition_pages,
    editor_pages,
    people_pages,
    places_pages,
    service,
)
from rounds.runtime.admin.shell import (
    ADMIN_URL,
    DOMAIN,
    KINDS,
    SECTIONS,
    Section,
    action_text,
    environment,
    lang_of,
    nav,
    render,
    require_admin,
    say,
    target_text,
)
from rounds.runtime.fieldwork import views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.settings import Settings

__all__ = ["ADMIN_URL", "DOMAIN", "KINDS", "SECTIONS", "Section", "environment", "handlers",
           "nav", "render", "require_admin", "say"]
PUBLIC = {"public": True}


# -- /admin --------------------------------------------------------------------------------

@get("/admin", include_in_schema=False)
async def admin_home(request: Request[Any, Any, Any], *, db: AsyncSession,
                     settings: Settings, principal: Principal) -> Response[str]:
    """The landing page: a card per section with its figures, and the latest changes."""
    require_admin(principal)
    lang = lang_of(request)
    found = await service.counts(db)
    latest = await audit.entries(db, limit=5)
    names = await service.people_names(db, {e.actor_id for e in latest if e.actor_id})
    kinds = [*KINDS, *sorted(k for k in found.definitions if k not in KINDS)]
    cards: dict[str, dict[str, Any]] = {
        "definitions": {"figures": [{"label": say(lang, f"kind_{k}") if f"kind_{k}" in
                                     table(DOMAIN, lang) else k,
                                     "value": found.definitions.get(k, 0),
                                     "href": views.href("/admin/definitions", lang, kind=k)}
                                    for k in kinds],
                        "note": say(lang, "drafts_waiting", n=found.drafts),
                        "note_href": views.href("/admin/definitions", lang, status="draft")},
        "orgs": {"figures": [], "note": say(lang, "orgs_note"), "note_href": None},
        "people": {"figures": [{"label": say(lang, "people_active"), "value": found.people,
                                "href": None}], "note": "", "note_href": None},
        "sites": {"figures": [{"label": say(lang, "sites_count"), "value": found.sites,
                               "href": None}], "note": "", "note_href": None},
        "imports": {"figures": [], "note": say(lang, "imports_note"), "note_href": None},
        "audit": {"figures": [], "note": "", "note_href": None},
    }
    sections = [{**s, "intro": say(lang, f"intro_{s['key']}"), **cards[s["key"]]}
                for s in nav(principal, lang, "")]
    tz = settings.tz
    recent = [{"at": e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
               "who": names.get(e.actor_id, str(e.actor_id)) if e.actor_id
               else say(lang, "actor_system"),
               "action": action_text(lang, e.action),
               "target": target_text(lang, e.target_kind, e.target_id)} for e in latest]
    return render(request, "admin_home.html", lang, principal, title=say(lang, "home_title"),
                  section="", sections=sections, recent=recent,
                  audit_href=views.href("/admin/audit", lang))


def route_handlers() -> list[Any]:
    """Every admin page: the landing page, then each section's module (a new section's
    module adds its ``route_handlers()`` here)."""
    return [admin_home, *definition_pages.route_handlers(), *audit_pages.route_handlers()]


def handlers(settings: Settings) -> list[Any]:
    """The admin pages (their errors as pages: sign in, 403, 404) and ``admin_ui/static``
    under ``/static/admin``."""
    pages = Router(path="/", route_handlers=route_handlers(),
                   exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                                       HTTPException: error_page})
    static = create_static_files_router(
        path=ADMIN_URL, directories=[Path(settings.admin_ui_dir) / "static"],
        name="admin_static", opt=PUBLIC)
    # the editor, people and places answer with their own routers (same error pages): they
    # import the shell, not this module
    return [pages, *editor_pages.handlers(settings), *people_pages.handlers(),
            *places_pages.handlers(), static]

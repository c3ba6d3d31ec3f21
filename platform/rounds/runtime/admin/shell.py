"""The shell of the administrators' app (``/admin``): its templates' environment, the page
it renders every admin page in, the sub-navigation and the guard. Each section's page
module imports this one (never :mod:`~rounds.runtime.admin.pages`, which imports them to
wire their routes).

The pages are server-rendered in the field pages' chrome (:mod:`rounds.runtime.fieldwork
.chrome`: the same layout, navigation with its "管理" link, language switch), with the
admin sub-navigation of ``admin_ui/templates/_admin.html`` above each page's content. The
templates and static files live in the top-level ``admin_ui/`` folder (the setting
``ROUNDS_ADMIN_UI_DIR``), found before the field pages' and the forms engine's templates.
Words: the ``admin`` catalogue, then ``fieldwork`` and ``common``.

Every admin route calls :func:`require_admin` (or a section's own capability): a field user
gets the 403 page, an anonymous reader is sent to sign in. Forms are posted by
``admin.js`` with the page's CSRF token in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
)
from litestar import MediaType, Request, Response

from rounds.errors import Forbidden
from rounds.i18n import table
from rounds.i18n import text as i18n_text
from rounds.runtime.access import ADMIN_CAPABILITIES, NotAuthenticated, Principal, has_admin
from rounds.runtime.fieldwork import chrome, views
from rounds.settings import Settings
from rounds.web.language import request_language

DOMAIN = "admin"
ADMIN_URL = "/static/admin"


def say(lang: str, key: str, /, **fields: Any) -> str:
    return i18n_text(DOMAIN, lang, key, **fields)


@dataclass(frozen=True)
class Section:
    """A part of the admin app: its key (the ``section`` a page names), path and the
    capabilities of which any one shows it."""

    key: str
    path: str
    capabilities: tuple[str, ...]

    def allowed(self, principal: Principal) -> bool:
        return any(principal.can(c) for c in self.capabilities)


SECTIONS: tuple[Section, ...] = (
    Section("definitions", "/admin/definitions", ("definition.author", "definition.publish")),
    Section("orgs", "/admin/orgs", ("user.manage",)),
    Section("people", "/admin/people", ("user.manage",)),
    Section("sites", "/admin/sites", ("site.manage",)),
    Section("imports", "/admin/imports", ("user.manage", "site.manage")),
    Section("audit", "/admin/audit", ADMIN_CAPABILITIES),
)


def section(key: str) -> Section:
    return next(s for s in SECTIONS if s.key == key)


def require_admin(principal: Principal | None, key: str | None = None) -> Principal:
    """The principal if they may use the admin app (and the section ``key``, if given);
    anonymous: NotAuthenticated (the sign-in page); anyone else: Forbidden (the 403 page)."""
    if principal is None:
        raise NotAuthenticated("sign in to use the admin pages")
    if not has_admin(principal) or (key is not None and not section(key).allowed(principal)):
        raise Forbidden(f"your role ({principal.role_id}) may not use the admin pages")
    return principal


@lru_cache(maxsize=4)
def environment(folder: str = "admin_ui") -> Environment:
    """``folder``/templates first (the admin app), then the field pages' templates (the
    layout, the navigation, the pager) and the forms engine's; ``_`` reads ``admin``, then
    ``fieldwork``, ``common``."""
    return chrome.page_environment(FileSystemLoader(str(Path(folder) / "templates")),
                                   DOMAIN, admin_url=ADMIN_URL)


def _folder(request: Request[Any, Any, Any]) -> str:
    settings: Settings = request.app.state.settings
    return str(settings.admin_ui_dir)


def nav(principal: Principal, lang: str, current: str) -> list[dict[str, Any]]:
    """The admin sub-navigation: the sections the principal may use."""
    return [{"key": s.key, "href": views.href(s.path, lang), "text": say(lang, f"section_{s.key}"),
             "current": s.key == current} for s in SECTIONS if s.allowed(principal)]


SCRIPT_WORDS = ("sending", "send_failed")


def render(request: Request[Any, Any, Any], template: str, lang: str, principal: Principal,
           *, title: str, section: str, status: int = 200, **values: Any) -> Response[str]:
    """An admin page: ``template`` (extending ``_admin.html``) in the field chrome, with the
    admin sub-navigation showing ``section`` as the current one."""
    html = environment(_folder(request)).get_template(template).render(
        **chrome.context(request, lang, principal, "admin"), title=title, section=section,
        admin_nav=nav(principal, lang, section),
        admin_config={"lang": lang, "text": {k: say(lang, k) for k in SCRIPT_WORDS}},
        **values)
    return Response(html, status_code=status, media_type=MediaType.HTML,
                    headers=dict(chrome.PRIVATE))


def lang_of(request: Request[Any, Any, Any]) -> str:
    return request_language(request)


def action_text(lang: str, action: str) -> str:
    """An audit entry's action in words (``definition.publish`` → "发布"); an action the
    catalogue does not know yet is shown as its code."""
    key = "action_" + action.replace(".", "_")
    return say(lang, key) if key in table(DOMAIN, lang) else action


def target_text(lang: str, kind: str, target: str) -> str:
    key = "target_" + kind
    name = say(lang, key) if key in table(DOMAIN, lang) else kind
    return say(lang, "target_value", kind=name, id=target)


KINDS = ("site_kind", "role", "standard", "survey", "okr")  # in the order lists show them

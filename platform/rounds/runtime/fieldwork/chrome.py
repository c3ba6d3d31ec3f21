"""What every field page shares: the templates' environment, the page's chrome (navigation,
language switch, the scripts' configuration) and the response a page is sent in.

Both :mod:`~rounds.runtime.fieldwork.pages` and :mod:`~rounds.runtime.fieldwork.issue_pages`
render through here. The language of a page is the request's
(:func:`rounds.web.language.request_language`); templates say ``{{ _("key", name=...) }}``,
the ``fieldwork`` catalogue's words (:mod:`rounds.i18n.jinja`), and the scripts get the
same words as ``fw_config.text``.

Imports: rounds.i18n, rounds.forms.render (the layout the pages extend), rounds.web,
rounds.runtime.access and this slice's :mod:`~rounds.runtime.fieldwork.views`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    PackageLoader,
    StrictUndefined,
    select_autoescape,
)
from litestar import MediaType, Request, Response

from rounds import i18n
from rounds.forms.render import CHROME, STATIC_URL
from rounds.i18n import jinja
from rounds.runtime.access import Principal, has_admin, has_dashboard
from rounds.runtime.fieldwork import views

STATIC_DIR = Path(__file__).resolve().parent / "static"
FIELDWORK_URL = "/static/fieldwork"
# Personal pages: never kept by a shared cache or shown again from the back button's cache
# after signing out.
PRIVATE = {"Cache-Control": "no-store"}


def page_environment(first: BaseLoader | None, *domains: str, **urls: str) -> Environment:
    """An environment for pages drawn in this chrome: ``first``'s templates (a slice's own),
    then this slice's (the layout, the navigation, the pager) and the forms engine's; ``_``
    reads ``domains``, then ``fieldwork`` and ``common``; ``urls`` are globals for the
    templates (a slice's static folder). Autoescaped, strict about undefined names."""
    loaders: list[BaseLoader] = [PackageLoader("rounds.runtime.fieldwork", "templates"),
                                 PackageLoader("rounds.forms", "templates")]
    env = Environment(
        loader=ChoiceLoader([first, *loaders] if first is not None else loaders),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.policies["json.dumps_kwargs"] = {"ensure_ascii": False, "sort_keys": False}
    env.globals.update(static_url=STATIC_URL, fieldwork_url=FIELDWORK_URL, **urls)
    return jinja.install(env, *domains, views.DOMAIN, "common")


@lru_cache(maxsize=1)
def environment() -> Environment:
    """This slice's templates first, then the forms engine's (the layout, the form); ``_``
    reads the ``fieldwork`` catalogue, then ``common``, in the page's ``lang``."""
    return page_environment(None)


def other_language(lang: str) -> str:
    """The language the switch offers: the next one there are words for."""
    languages = i18n.LANGUAGES
    return languages[(languages.index(lang) + 1) % len(languages)] if lang in languages \
        else i18n.DEFAULT


def switch_href(request: Request[Any, Any, Any], lang: str) -> str:
    """The same page in the other language (other query parameters kept)."""
    params = {k: v for k, v in request.query_params.items() if k != "lang"}
    return "?" + urlencode({**params, "lang": other_language(lang)})


def extension_menu(request: Request[Any, Any, Any], lang: str,
                   principal: Principal | None) -> list[dict[str, str]]:
    """The enabled extensions' menu entries (``app.state.extensions``) this user may use:
    ``path`` (what a page passes as ``active``), ``href`` (in the page's language), label."""
    active = request.app.state.get("extensions")
    if principal is None or active is None:
        return []
    out: dict[str, dict[str, str]] = {}
    for m in active.menu():  # one link per page: the first entry this user may use names it
        if m.href not in out and (not m.capability or principal.can(m.capability)):
            out[m.href] = {"path": m.href, "href": views.href(m.href, lang),
                           "label": i18n.pick(m.label, lang, m.href)}
    return list(out.values())


def context(request: Request[Any, Any, Any], lang: str, principal: Principal | None,
            active: str = "", unread: int | None = None) -> dict[str, Any]:
    """What every field page's layout reads."""
    links = {"today": views.href("/today", lang), "results": views.href("/me/submissions", lang),
             "my_issues": views.href("/me/issues", lang), "board": views.href("/issues", lang),
             "inbox": views.href("/me/notifications", lang),
             # the dashboards slice's pages (rounds.runtime.dashboards)
             "dashboard": views.href("/dashboard", lang),
             "my_month": views.href("/me/month", lang),
             # the campaigns slice's pages (rounds.runtime.campaigns), for campaign.manage
             "campaigns": views.href("/campaigns", lang),
             # the industry portal (rounds.runtime.portals.industry), for industry users
             "industry": views.href("/industry", lang),
             # the surveys slice's pages (rounds.runtime.surveys), for survey.manage
             "surveys": views.href("/surveys", lang),
             # the admin slice's app (rounds.runtime.admin), for the administrators
             "admin": views.href("/admin", lang),
             "sign_in": views.href("/sign-in", lang),
             # the portals slice's pages (rounds.runtime.portals): the retailer's own shop,
             # and the notices those with notice.publish write
             "shop": views.href("/shop", lang), "shop_issues": views.href("/shop/issues", lang),
             "shop_feedback": views.href("/shop/feedback/new", lang),
             "notices": views.href("/notices", lang)}
    other = other_language(lang)
    # ``t``: the words of the forms engine's layout (base.html), with the field pages' own
    # "skip" link and the switch to the other language named in that language.
    layout = CHROME.get(lang) or CHROME[i18n.DEFAULT]  # the forms engine's (zh, en)
    t = {**layout, "skip": views.say(lang, "skip"), "other_language_code": other,
         "other_language": i18n.text("common", other, "language_name")}
    # The dashboard link (rounds.runtime.access.has_dashboard); the field staff get their
    # month instead.
    dashboard = principal is not None and has_dashboard(principal)
    my_month = principal is not None and not dashboard and principal.can("visit.check_in")
    shop = principal is not None and views.has_shop(principal)
    # A retailer's account without a shop yet: neither the shop's links nor a field day.
    shopless = principal is not None and views.is_shop(principal) and not shop
    return {
        "nav_extensions": extension_menu(request, lang, principal),
        "lang": lang, "t": t, "nav_dashboard": dashboard, "nav_my_month": my_month,
        "nav_admin": principal is not None and has_admin(principal),
        "nav_industry": principal is not None and views.is_industry(principal),
        "home_url": views.href(views.home_for(principal), lang) if principal else links["today"],
        "nav_shop": shop, "nav_shopless": shopless, "links": links, "active": active,
        "switch_language": switch_href(request, lang), "user": principal, "unread": unread,
        "fw_config": {"lang": lang, "text": dict(views.words(lang)), "links": links,
                      "csrf_token": principal.csrf_token if principal else None},
    }


def page(request: Request[Any, Any, Any], template: str, lang: str,
         principal: Principal | None, *, title: str, active: str = "", status: int = 200,
         unread: int | None = None, **values: Any) -> Response[str]:
    """A field page: ``template`` rendered with the chrome, ``title`` and ``values``."""
    html = environment().get_template(template).render(
        **context(request, lang, principal, active, unread), title=title, **values)
    return Response(html, status_code=status, media_type=MediaType.HTML,
                    headers=PRIVATE if principal else {})

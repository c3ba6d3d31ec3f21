"""The consumer page (``/consumer``): public, no account, light on a cheap phone.

What a consumer sees: the company's notices for consumers, the open consumer surveys (their
campaign-wide links; a shop's own links when the page is opened for a shop,
``/consumer?shop=<licence number>``, as the survey's thank-you page does) and a complaint
form (投诉): the topic (the ``consumer`` role's ``complaints`` topics in the definitions),
the shop (optional: its licence number or name), what happened, and a contact only with an
explicit consent box (``issues.complaints``: no contact is stored without it).

``POST /consumer/complaints`` opens the issue, routed by the topic's rule; on problems the
page comes back with every one at its field, the values kept (422). Limited per client
address (``ROUNDS_SURVEYS_PER_MINUTE``, per process, as the survey answers). Plain HTML
forms, no script, the survey pages' small stylesheet. Words: ``survey_public``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader
from litestar import MediaType, Request, Response, Router, get, post
from litestar.exceptions import HTTPException
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds import i18n
from rounds.db import utcnow
from rounds.errors import InvalidInput, RoundsError
from rounds.i18n import pick
from rounds.runtime.fieldwork import chrome, views
from rounds.runtime.fieldwork.pages import error_page
from rounds.runtime.issues import complaints
from rounds.runtime.portals.notices import current_notices
from rounds.runtime.surveys import links
from rounds.runtime.surveys.models import CONSUMER, OPEN, SurveyCampaign
from rounds.runtime.surveys.public_pages import (
    DOMAIN,
    NO_STORE,
    PUBLIC,
    PUBLIC_FORM,
    STATIC,
    client_address,
    say,
    window,
)
from rounds.settings import Settings
from rounds.web.language import request_language

PAGE = "/consumer"
ACTION = "/consumer/complaints"
FIELDS = ("topic", "shop", "text", "contact", "consent")


@lru_cache(maxsize=1)
def environment() -> Environment:
    return chrome.page_environment(PackageLoader("rounds.runtime.portals", "templates"),
                                   DOMAIN, survey_public_url=STATIC)


async def open_campaigns(db: AsyncSession) -> list[SurveyCampaign]:
    """The consumer surveys open now, the newest first."""
    now = utcnow()
    rows = await db.execute(select(SurveyCampaign).where(
        SurveyCampaign.audience == CONSUMER, SurveyCampaign.status == OPEN,
        SurveyCampaign.opens_at <= now, SurveyCampaign.closes_at > now)
        .order_by(SurveyCampaign.opens_at.desc(), SurveyCampaign.id.desc()).limit(20))
    return list(rows.scalars())


def _message(problem_code: str, lang: str, field: str) -> str:
    """A problem of the form in the reader's words (the service's codes, per field)."""
    words = i18n.table(DOMAIN, lang)
    for key in (f"complaint_{field}_{problem_code}", f"complaint_{field}_invalid"):
        if key in words:
            return words[key]
    return say(lang, "complaint_invalid")


async def _page(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings,
                lang: str, *, shop: str | None, values: Mapping[str, str] | None = None,
                errors: Mapping[str, str] | None = None, status: int = 200
                ) -> Response[str]:
    now = utcnow()
    notices = [{"title": pick(n.title, lang), "body": pick(n.body, lang),
                "topic": say(lang, f"topic_{n.topic}"),
                "day": say(lang, "date", y=n.published_at.year, m=n.published_at.month,
                           d=n.published_at.day)}
               for n in await current_notices(db, CONSUMER, now=now, limit=10)]
    site = None
    if shop:
        found = await complaints.find_shop(db, shop)
        site = found[0] if len(found) == 1 else None
    key = await links.link_key(db, settings)
    surveys = [{"title": c.title,
                "href": "/s/" + (links.shop_link(key, c.id, site.id) if site is not None
                                 else links.campaign_link(key, c.id)) + f"?lang={lang}"}
               for c in await open_campaigns(db)]
    topics = [{"id": t.id, "title": pick(t.title, lang, t.id)}
              for t in await complaints.complaint_topics(db)]
    form = {k: "" for k in FIELDS}
    form["shop"] = site.code if site is not None else (shop or "")
    form.update(values or {})
    errors = dict(errors or {})
    context = chrome.context(request, lang, None)
    context["home_url"] = views.href(PAGE, lang)
    html = environment().get_template("consumer.html").render(
        **context, title=say(lang, "consumer_title"), notices=notices, surveys=surveys,
        topics=topics, form=form, errors=errors, action=f"{ACTION}?lang={lang}",
        shop_name=site.name if site is not None else None)
    return Response(html, status_code=status, media_type=MediaType.HTML, headers=NO_STORE)


@get(PAGE, opt=PUBLIC, include_in_schema=False)
async def consumer_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                        settings: Settings, shop: str | None = None) -> Response[str]:
    """Notices, open surveys and the complaint form."""
    lang = request_language(request)
    return await _page(request, db, settings, lang, shop=(shop or "").strip()[:64] or None)


@post(ACTION, opt=PUBLIC_FORM, include_in_schema=False, status_code=200)
async def file_complaint(request: Request[Any, Any, Any], *, db: AsyncSession,
                         settings: Settings) -> Response[str]:
    """Open the complaint's issue, or the page again with every problem at its field."""
    lang = request_language(request)
    wait = window("complaint_address", settings.surveys.per_minute).take(
        client_address(request))
    if wait:
        return _done(request, lang, "too_many", 429, headers={"Retry-After": str(wait)},
                     seconds=wait)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in FIELDS}
    try:
        await complaints.file_complaint(
            db, topic=values["topic"].strip(), text=values["text"], now=utcnow(),
            shop=values["shop"], contact=values["contact"], consent=values["consent"] == "yes")
    except InvalidInput as exc:
        errors: dict[str, str] = {}
        for p in exc.problems:
            field = p.pointer.strip("/") or "text"
            errors.setdefault(field, _message(p.code, lang, field))
        return await _page(request, db, settings, lang, shop=None, values=values,
                           errors=errors, status=422)
    return _done(request, lang, "complaint_filed", 200)


def _done(request: Request[Any, Any, Any], lang: str, kind: str, status: int, *,
          headers: Mapping[str, str] | None = None, **values: Any) -> Response[str]:
    context = chrome.context(request, lang, None)
    context["home_url"] = views.href(PAGE, lang)
    html = environment().get_template("consumer_done.html").render(
        **context, title=say(lang, f"{kind}_title"), kind=kind,
        text=say(lang, f"{kind}_text", **values), back=views.href(PAGE, lang))
    return Response(html, status_code=status, media_type=MediaType.HTML,
                    headers={**NO_STORE, **(headers or {})})


def handlers() -> list[Any]:
    return [Router(path="/", route_handlers=[consumer_page, file_complaint],
                   exception_handlers={RoundsError: error_page, HTTPException: error_page})]

"""Public survey links: the page a consumer's phone opens from a QR code, and the manager's
page of a campaign's links and QR codes.

``GET /s/{token}`` and ``POST /s/{token}`` (no account, no sign-in): the survey as a plain
HTML form that works without JavaScript (radio groups, check boxes, text fields from the
survey version's items; the forms engine's controls). The server judges it: on problems the
page comes back with every error at its field, the answers kept and a summary at the top
(422). Stored through :func:`~rounds.runtime.surveys.responses.store_response` as an
anonymous consumer's response: the shop (and its unit) from a shop's link, the token's nonce
for a single-use link, else a hash of the device's cookie (``rounds_device``, random,
HttpOnly, SameSite=Lax, set on the first visit) and the campaign. The response's id is a
hidden field minted when the page is drawn, so a double tap is a retry of the same response,
not a second one. Clear pages, with the right status, when the link is invalid (404), the
survey not yet open (403) or over (410), already answered with this link or device (409), or
too many answers come at once (429, ``Retry-After``). No user row is ever made.

Light on a cheap phone: the page is one HTML document and two small stylesheets (the forms
engine's and this page's own); no script at all.

CSRF: these forms act for no session, so a forged cross-site post can steal no one's
authority. What it could do is add a response "from" a visitor's device: it cannot, because
the device cookie is SameSite=Lax (a browser does not send it on a cross-site POST) and a
shared link's post without the cookie is refused; a single-use token is itself the whole
authority, and whoever holds it may as well answer with it.

Rate limits, per process (each API process counts its own): per client address
(``ROUNDS_SURVEYS_PER_MINUTE``) and per campaign from all addresses together
(``ROUNDS_SURVEYS_CAMPAIGN_PER_MINUTE``), sliding windows of a minute held in memory.

``/surveys/{id}/links`` (survey.manage): the campaign's link and its QR code, a printable
sheet of per-shop QR cards (店铺二维码) filtered by org unit, and for a campaign answered once
per token a CSV of N single-use links. Words: the ``survey_public`` catalogue.
"""

from __future__ import annotations

import csv
import hashlib
import io
import secrets
import time
import uuid
from collections import deque
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

import msgspec
import segno
from jinja2 import Environment, PackageLoader
from litestar import MediaType, Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import HTTPException
from litestar.middleware.rate_limit import get_remote_address
from litestar.params import Parameter
from litestar.static_files import create_static_files_router
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds import i18n
from rounds.db import as_utc, utcnow
from rounds.errors import Forbidden, NotFound, RoundsError
from rounds.forms.messages import SubmissionInvalid
from rounds.forms.render import form_context
from rounds.runtime.access import NotAuthenticated, Principal, site_scope
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.fieldwork import chrome, views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.sites.models import Site
from rounds.runtime.surveys import links
from rounds.runtime.surveys.models import (
    CLOSED,
    CONSUMER,
    PER_TOKEN,
    SurveyCampaign,
    SurveyResponse,
)
from rounds.runtime.surveys.responses import (
    AlreadyAnswered,
    CampaignNotOpen,
    Respondent,
    ResponseIdConflict,
    is_open,
    store_response,
)
from rounds.settings import Settings
from rounds.web.exports import disposition
from rounds.web.language import request_language
from rounds.web.params import Id, OptionalId
from rounds.web.security import ACCEPTS

DOMAIN = "survey_public"
STATIC_DIR = Path(__file__).resolve().parent / "public_static"
STATIC = "/static/survey-public"
PUBLIC = {"public": True}
FORM_BODY = {ACCEPTS: ("application/x-www-form-urlencoded",)}
PUBLIC_FORM = {**PUBLIC, **FORM_BODY}
DEVICE_COOKIE = "rounds_device"
DEVICE_MAX_AGE = 2 * 365 * 24 * 3600
# The survey's page is personal (its response id, its device): never kept by a cache.
NO_STORE = {"Cache-Control": "no-store"}
SHEET_MAX = 500  # shops on one printed sheet
# Item kinds a public form asks; a survey for consumers has no photo, place or repeated group.
PUBLIC_KINDS = frozenset({"yes_no", "scale", "single_choice", "multiple_choice", "number",
                          "text", "date", "check"})


def say(lang: str, key: str, /, **values: Any) -> str:
    return i18n.text(DOMAIN, lang, key, **values)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """This slice's templates, then the field pages' and the forms engine's (the layout and
    the controls, ``_items.html``); ``_`` reads ``survey_public``, then ``fieldwork``."""
    return chrome.page_environment(PackageLoader("rounds.runtime.surveys", "templates"),
                                   DOMAIN, survey_public_url=STATIC)


# -- rate limits: sliding windows of a minute, in this process's memory ----------------------

class SlidingWindow:
    """At most ``limit`` events per key in any ``seconds``; 0 is no limit. Per process."""

    def __init__(self, limit: int, seconds: float = 60.0) -> None:
        self.limit, self.seconds = limit, seconds
        self._events: dict[str, deque[float]] = {}

    def take(self, key: str, now: float | None = None) -> int:
        """0 when the event may happen (and it is counted), else the seconds to wait."""
        if self.limit <= 0:
            return 0
        now = time.monotonic() if now is None else now
        if len(self._events) > 10_000:  # forget the quiet keys
            self._events = {k: q for k, q in self._events.items()
                            if q and q[-1] > now - self.seconds}
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.seconds:
            events.popleft()
        if len(events) >= self.limit:
            return max(1, int(events[0] + self.seconds - now + 0.999))
        events.append(now)
        return 0


_windows: dict[tuple[str, int], SlidingWindow] = {}


def window(name: str, limit: int) -> SlidingWindow:
    """The process's window ``name`` for ``limit`` (one per setting's value)."""
    key = (name, limit)
    if key not in _windows:
        _windows[key] = SlidingWindow(limit)
    return _windows[key]


def client_address(request: Request[Any, Any, Any]) -> str:
    return str(get_remote_address(request))


# -- what a page reads of the campaign -------------------------------------------------------

# Keyed by database and id, as ids belong to one database (tests use several at once).
_contents: dict[tuple[Any, int], dict[str, Any]] = {}


async def survey_content(db: AsyncSession, version_id: int) -> dict[str, Any]:
    """The survey version's content (published versions never change: kept per process)."""
    key = (db.bind, version_id)
    found = _contents.get(key)
    if found is None:
        content = (await db.execute(select(DefinitionVersion.content).where(
            DefinitionVersion.id == version_id))).scalar_one_or_none()
        if content is None:
            raise NotFound(f"no survey version {version_id}")
        found = _contents[key] = dict(content)
    return found


class Opened:
    """A valid link's campaign and shop."""

    def __init__(self, link: links.Link, campaign: SurveyCampaign, site: Site | None) -> None:
        self.link, self.campaign, self.site = link, campaign, site


# The answers' hot path reads a campaign at most every CAMPAIGN_SECONDS per process (a copy
# no session holds): a campaign closed takes answers in a process for that long at most.
CAMPAIGN_SECONDS = 2.0
_campaigns: dict[tuple[Any, int], tuple[float, SurveyCampaign]] = {}


async def recent_campaign(db: AsyncSession, campaign_id: int) -> SurveyCampaign | None:
    """The campaign as read in the last :data:`CAMPAIGN_SECONDS` (a detached copy)."""
    now = time.monotonic()
    key = (db.bind, campaign_id)
    hit = _campaigns.get(key)
    if hit is not None and now - hit[0] < CAMPAIGN_SECONDS:
        return hit[1]
    row = await db.get(SurveyCampaign, campaign_id)
    if row is None:
        return None
    copy = SurveyCampaign(**{c.key: getattr(row, c.key)
                             for c in SurveyCampaign.__table__.columns})
    if len(_campaigns) >= 1024:
        _campaigns.clear()
    _campaigns[key] = (now, copy)
    return copy


async def open_link(db: AsyncSession, settings: Settings, token: str, *,
                    recent: bool = False) -> Opened:
    """The campaign (for consumers) and shop a token names, or :class:`links.LinkInvalid`;
    ``recent``: the campaign may be a copy read a moment ago (the answers' hot path)."""
    link = links.verify(await links.link_key(db, settings), token)
    campaign = await recent_campaign(db, link.campaign_id) if recent \
        else await db.get(SurveyCampaign, link.campaign_id)
    if campaign is None or campaign.audience != CONSUMER:
        raise links.LinkInvalid("this survey link is not valid")
    site = None
    if link.site_id is not None:
        site = await db.get(Site, link.site_id)
        if site is None:
            raise links.LinkInvalid("this survey link is not valid")
    return Opened(link, campaign, site)


def device_hash(cookie: str, campaign_id: int) -> str:
    """What holds a device to one response in a campaign: never the cookie itself."""
    return hashlib.sha256(f"{cookie}:{campaign_id}".encode()).hexdigest()


async def answered(db: AsyncSession, opened: Opened, device: str | None) -> bool:
    """Whether this single-use token, or this device, already answered the campaign."""
    c = SurveyResponse.campaign_id == opened.campaign.id
    if opened.link.nonce is not None:
        cond = SurveyResponse.token_nonce == opened.link.nonce
    elif device is not None:
        cond = (SurveyResponse.device_hash == device_hash(device, opened.campaign.id))
    else:
        return False
    found = await db.execute(select(SurveyResponse.id).where(c, cond).limit(1))
    return found.scalar_one_or_none() is not None


def answers_of(content: Mapping[str, Any], form: Any) -> dict[str, Any]:
    """The answers a posted form gives, typed as the survey's items want them (what cannot
    be read as its type is kept as sent, and the validation says what is wrong with it)."""
    out: dict[str, Any] = {}
    for section in content.get("sections") or ():
        for item in section.get("items") or ():
            kind, item_id = str(item.get("type")), str(item.get("id"))
            if kind not in PUBLIC_KINDS or "calculate" in item:
                continue
            name = f"f-{item_id}"
            if kind == "multiple_choice":
                chosen = [str(v) for v in form.getall(name, []) if str(v)]
                if chosen:
                    out[item_id] = chosen
                continue
            raw = form.get(name)
            if raw is None:
                continue
            value = str(raw).strip()
            if kind == "check":
                out[item_id] = True
            elif value == "":
                continue
            elif kind == "scale" and value != "na":
                out[item_id] = _number(value, integer=True)
            elif kind == "number":
                out[item_id] = _number(value, integer=False)
            else:
                out[item_id] = value
    return out


def _number(text: str, *, integer: bool) -> Any:
    try:
        return int(text) if integer or text.lstrip("-").isdigit() else float(text)
    except ValueError:
        return text


# -- the pages ---------------------------------------------------------------------------------

def _layout(request: Request[Any, Any, Any], lang: str, title: str) -> dict[str, Any]:
    context = chrome.context(request, lang, None)
    context["home_url"] = views.href("/consumer", lang)
    return {**context, "title": title}


_drawn: dict[tuple[Any, ...], str] = {}


def message_page(request: Request[Any, Any, Any], lang: str, kind: str, status: int, *,
                 headers: Mapping[str, str] | None = None, shop_href: str | None = None,
                 **values: Any) -> Response[str]:
    """One of the survey's plain pages: thanks, closed, not yet open, invalid, answered,
    too many (``kind`` names its words: ``<kind>_title``, ``<kind>_text``)."""
    # The same for everyone who gets it (no session, no per-person word): drawn once per
    # language, switch link and shop, then kept (the thank-you page is on the hot path).
    key = (kind, lang, chrome.switch_href(request, lang), shop_href,
           tuple(sorted(values.items())))
    html = _drawn.get(key)
    if html is None:
        title = say(lang, f"{kind}_title")
        html = environment().get_template("public_message.html").render(
            **_layout(request, lang, title), kind=kind,
            text=say(lang, f"{kind}_text", **values), consumer=views.href("/consumer", lang),
            shop_href=shop_href)
        if len(_drawn) >= 1024:
            _drawn.clear()
        _drawn[key] = html
    return Response(html, status_code=status, media_type=MediaType.HTML,
                    headers={**NO_STORE, **(headers or {})})


def _refusal(request: Request[Any, Any, Any], lang: str, exc: Exception,
             campaign: SurveyCampaign | None = None) -> Response[str]:
    if isinstance(exc, links.LinkInvalid):
        return message_page(request, lang, "invalid", 404)
    if isinstance(exc, AlreadyAnswered | ResponseIdConflict):
        return message_page(request, lang, "answered", 409)
    if isinstance(exc, CampaignNotOpen) and campaign is not None:
        return _not_open(request, lang, campaign)
    raise exc


def _not_open(request: Request[Any, Any, Any], lang: str, campaign: SurveyCampaign
              ) -> Response[str]:
    now = utcnow()
    if campaign.status == CLOSED or as_utc(campaign.closes_at) <= now:
        return message_page(request, lang, "closed", 410)
    opens = as_utc(campaign.opens_at)
    return message_page(request, lang, "not_open", 403, day=say(
        lang, "date", y=opens.year, m=opens.month, d=opens.day))


def _form_page(request: Request[Any, Any, Any], lang: str, opened: Opened,
               content: dict[str, Any], *, token: str, response_id: str,
               answers: dict[str, Any] | None = None, errors: list[dict[str, str]] | None = None,
               status: int = 200, cookie: str | None = None) -> Response[str]:
    form = form_context(content, lang=lang, values=answers or {}, errors=errors or [])
    title = opened.campaign.title or form["title"]
    html = environment().get_template("public_survey.html").render(
        **_layout(request, lang, title), form=form, survey_title=form["title"],
        shop=opened.site.name if opened.site is not None else None,
        action=f"/s/{token}?lang={lang}", response_id=response_id)
    response = Response(html, status_code=status, media_type=MediaType.HTML, headers=NO_STORE)
    if cookie is not None:
        response.set_cookie(Cookie(key=DEVICE_COOKIE, value=cookie, max_age=DEVICE_MAX_AGE,
                                   path="/s", httponly=True, samesite="lax",
                                   secure=request.url.scheme == "https"))
    return response


@get("/s/{token:str}", opt=PUBLIC, include_in_schema=False)
async def survey_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                      settings: Settings, token: str) -> Response[str]:
    """The survey, ready to answer (or the page that says why it cannot be)."""
    lang = request_language(request)
    try:
        opened = await open_link(db, settings, token)
    except links.LinkInvalid as exc:
        return _refusal(request, lang, exc)
    if not is_open(opened.campaign, utcnow()):
        return _not_open(request, lang, opened.campaign)
    device = request.cookies.get(DEVICE_COOKIE)
    if await answered(db, opened, device):
        return message_page(request, lang, "answered", 409)
    content = await survey_content(db, opened.campaign.version_id)
    new_cookie = None if device else secrets.token_urlsafe(24)
    return _form_page(request, lang, opened, content, token=token, response_id=str(uuid.uuid4()),
                      cookie=new_cookie)


@post("/s/{token:str}", opt=PUBLIC_FORM, include_in_schema=False, status_code=200)
async def answer_survey(request: Request[Any, Any, Any], *, db: AsyncSession,
                        settings: Settings, token: str) -> Response[str]:
    """Store the answers once, or the page again with every problem at its field."""
    lang = request_language(request)
    wait = window("survey_address", settings.surveys.per_minute).take(client_address(request))
    if wait:
        return message_page(request, lang, "too_many", 429,
                            headers={"Retry-After": str(wait)}, seconds=wait)
    try:
        opened = await open_link(db, settings, token, recent=True)
    except links.LinkInvalid as exc:
        return _refusal(request, lang, exc)
    campaign = opened.campaign
    form = await request.form()
    try:
        response_id = str(uuid.UUID(str(form.get("response_id") or "")))
    except ValueError:
        response_id = str(uuid.uuid4())
    device = request.cookies.get(DEVICE_COOKIE)
    respondent = Respondent(
        CONSUMER, site_id=opened.site.id if opened.site else None,
        org_unit_id=opened.site.org_unit_id if opened.site else None,
        token_nonce=opened.link.nonce,
        device_hash=device_hash(device, campaign.id) if device and opened.link.nonce is None
        else None)
    if opened.link.nonce is None and device is None:
        # A shared link holds a device to one response by its cookie: without one (cookies
        # off, or a post from another site, which SameSite=Lax keeps the cookie from) no.
        return message_page(request, lang, "no_cookie", 400)
    wait = window("survey_campaign", settings.surveys.campaign_per_minute).take(
        str(campaign.id))
    if wait:
        return message_page(request, lang, "too_many", 429,
                            headers={"Retry-After": str(wait)}, seconds=wait)
    content = await survey_content(db, campaign.version_id)
    answers = answers_of(content, form)
    body = msgspec.json.encode({"answers": answers})
    try:
        await store_response(db, campaign, response_id, body, respondent, lang=lang)
    except SubmissionInvalid as exc:
        errors = [{"pointer": p.pointer, "message": p.message} for p in exc.problems] or \
            [{"pointer": "", "message": exc.detail}]
        return _form_page(request, lang, opened, content, token=token, response_id=response_id,
                          answers=answers, errors=errors, status=422)
    except (AlreadyAnswered, ResponseIdConflict, CampaignNotOpen) as exc:
        return _refusal(request, lang, exc, campaign)
    shop_href = views.href("/consumer", lang, shop=opened.site.code) if opened.site else None
    return message_page(request, lang, "thanks", 200, shop_href=shop_href)


# -- the manager's page: links, QR codes, single-use tokens ---------------------------------

def qr_data_uri(url: str, scale: int = 4) -> str:
    return str(segno.make(url, error="m").svg_data_uri(scale=scale, border=2))


def base_url(request: Request[Any, Any, Any]) -> str:
    return str(request.base_url).rstrip("/")


async def managed_campaign(db: AsyncSession, principal: Principal, campaign_id: int
                           ) -> SurveyCampaign:
    principal.require("survey.manage")
    campaign = await db.get(SurveyCampaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no survey campaign {campaign_id}")
    return campaign


async def scoped_shops(db: AsyncSession, principal: Principal, unit_id: int | None,
                       limit: int = SHEET_MAX) -> tuple[list[Site], int]:
    """The retail shops in the manager's scope (under ``unit_id`` when given), by code."""
    stmt = select(Site).where(site_scope(principal), Site.site_kind == "retailer")
    if unit_id is not None:
        unit = await db.get(OrgUnit, unit_id)
        if unit is None:
            raise NotFound(f"no org unit {unit_id}")
        below = select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path)) if unit.path \
            else select(OrgUnit.id).where(OrgUnit.id == unit.id)
        stmt = stmt.where(Site.org_unit_id.in_(below))
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    shops = list((await db.execute(stmt.order_by(Site.code).limit(limit))).scalars())
    return shops, int(total)


def _unit_name(unit: OrgUnit, lang: str) -> str:
    return unit.name_zh if lang == "zh" else unit.name_en


async def _units(db: AsyncSession, lang: str) -> list[dict[str, Any]]:
    rows = (await db.execute(select(OrgUnit).order_by(OrgUnit.path, OrgUnit.id))).scalars()
    return [{"id": u.id, "name": _unit_name(u, lang)} for u in rows]


def _manager_page(request: Request[Any, Any, Any], template: str, lang: str,
                  principal: Principal, *, title: str, status: int = 200,
                  **values: Any) -> Response[str]:
    html = environment().get_template(template).render(
        **chrome.context(request, lang, principal, "surveys"), title=title, **values)
    return Response(html, status_code=status, media_type=MediaType.HTML,
                    headers=dict(chrome.PRIVATE))


@get("/surveys/{campaign_id:int}/links", include_in_schema=False)
async def links_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                     principal: Principal, campaign_id: Id, unit: OptionalId = None
                     ) -> Response[str]:
    """The campaign's shared link and QR, the shops' QR sheet, single-use links."""
    lang = request_language(request)
    campaign = await managed_campaign(db, principal, campaign_id)
    key = await links.link_key(db, settings)
    url = f"{base_url(request)}/s/{links.campaign_link(key, campaign.id)}"
    return _manager_page(
        request, "public_links.html", lang, principal,
        title=say(lang, "links_title", campaign=campaign.title), campaign=campaign,
        consumer=campaign.audience == CONSUMER, link=url, qr=qr_data_uri(url, 6),
        per_token=campaign.one_per == PER_TOKEN, units=await _units(db, lang), unit=unit,
        max_tokens=links.MAX_TOKENS, sheet_max=SHEET_MAX,
        sheet_action=f"/surveys/{campaign.id}/links/sheet",
        tokens_action=f"/surveys/{campaign.id}/links/tokens.csv")


@get("/surveys/{campaign_id:int}/links/sheet", include_in_schema=False)
async def sheet_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                     principal: Principal, campaign_id: Id, unit: OptionalId = None
                     ) -> Response[str]:
    """The shops' own QR cards (店铺二维码) as a sheet to print."""
    lang = request_language(request)
    campaign = await managed_campaign(db, principal, campaign_id)
    if campaign.audience != CONSUMER:
        raise NotFound(f"survey campaign {campaign.id} has no public links")
    key = await links.link_key(db, settings)
    shops, total = await scoped_shops(db, principal, unit)
    root = base_url(request)
    cards = []
    for s in shops:
        url = f"{root}/s/{links.shop_link(key, campaign.id, s.id)}"
        cards.append({"code": s.code, "name": s.name, "qr": qr_data_uri(url), "url": url})
    return _manager_page(request, "public_sheet.html", lang, principal,
                         title=say(lang, "sheet_title", campaign=campaign.title),
                         campaign=campaign, cards=cards, total=total, limit=SHEET_MAX,
                         back=views.href(f"/surveys/{campaign.id}/links", lang))


# How many single-use links one download makes: bounded where the request is read, so a
# number past the bound is a 400 naming ``n``, like every other parameter's.
TokenCount = Annotated[int, Parameter(ge=1, le=links.MAX_TOKENS)]


@get("/surveys/{campaign_id:int}/links/tokens.csv", include_in_schema=False)
async def tokens_csv(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                     principal: Principal, campaign_id: Id, n: TokenCount = 100
                     ) -> Response[bytes]:
    """``n`` single-use links of a campaign answered once per token, as CSV (UTF-8 BOM)."""
    campaign = await managed_campaign(db, principal, campaign_id)
    if campaign.audience != CONSUMER or campaign.one_per != PER_TOKEN:
        raise Forbidden(f"survey campaign {campaign.id} is not answered by single-use links")
    key = await links.link_key(db, settings)
    root = base_url(request)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["n", "url"])
    for i, token in enumerate(links.single_use_tokens(key, campaign.id, n), 1):
        writer.writerow([i, f"{root}/s/{token}"])
    return Response(("\ufeff" + out.getvalue()).encode(), media_type="text/csv; charset=utf-8",
                    headers={**disposition(f"survey-{campaign.id}-links.csv"),
                             **chrome.PRIVATE})


def _public_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    lang = request_language(request)
    if isinstance(exc, RoundsError) and exc.status == 404:
        return message_page(request, lang, "invalid", 404)
    return error_page(request, exc)


def handlers() -> list[Any]:
    public = Router(path="/", route_handlers=[survey_page, answer_survey],
                    exception_handlers={RoundsError: _public_error,
                                        HTTPException: _public_error})
    manager = Router(path="/", route_handlers=[links_page, sheet_page, tokens_csv],
                     exception_handlers={NotAuthenticated: to_sign_in,
                                         RoundsError: error_page, HTTPException: error_page})
    return [public, manager,
            create_static_files_router(path=STATIC, directories=[STATIC_DIR],
                                       name="survey_public_static", opt=PUBLIC)]

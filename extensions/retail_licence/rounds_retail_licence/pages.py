"""The pages of licence applications, in the field pages' chrome (phone first):

- ``/licence-applications/new``: apply, with the documents (each error at its field);
- ``/licence-applications`` (paged): mine, or the reviewer's queue, or my inspections;
- ``/licence-applications/{id}``: the timeline of events, the statutory limit, the
  inspection's result, the licence, and the steps the state allows this person;
- ``/licence-applications/{id}/inspect``: the inspection standard through the forms engine
  (the browser evaluates its rules, distance included, as the server will).

``static/licence.js`` posts to the API (``web``) with the page's CSRF token. Words: the
``retail_licence`` catalogue, then ``fieldwork`` and ``common``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from litestar import MediaType, Request, Response, Router, get
from litestar.exceptions import HTTPException
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import NotFound, RoundsError
from rounds.forms.render import form_context
from rounds.runtime.access import NotAuthenticated, Principal
from rounds.runtime.fieldwork import chrome, views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.people.models import User
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.params import Id, PageNumber
from rounds_retail_licence import service, states, workdays
from rounds_retail_licence.models import LicenceApplication
from rounds_retail_licence.service import DOMAIN, say

STATIC_DIR = Path(__file__).resolve().parent / "static"
STATIC_URL = "/static/retail_licence"
PER_PAGE = 20
PUBLIC = {"public": True}


@lru_cache(maxsize=1)
def environment() -> Environment:
    return chrome.page_environment(PackageLoader("rounds_retail_licence", "templates"),
                                   DOMAIN, licence_url=STATIC_URL)


def render(request: Request[Any, Any, Any], template: str, lang: str, principal: Principal,
           *, title: str, active: str = "/licence-applications", **values: Any) -> Response[str]:
    html = environment().get_template(template).render(
        **chrome.context(request, lang, principal, active), title=title, **values)
    return Response(html, media_type=MediaType.HTML, headers=dict(chrome.PRIVATE))


def day(lang: str, d: date | None) -> str:
    return say(lang, "date", y=d.year, m=d.month, d=d.day) if d is not None else ""


def _when(lang: str, at: datetime, tz: tzinfo) -> str:
    """A moment as people write it: 2026年12月3日 14:05."""
    local = at.astimezone(tz)
    return f"{day(lang, local.date())} {local:%H:%M}"


def _script_words(lang: str) -> dict[str, str]:
    keys = ("sending", "sent", "network_error", "failed", "field_required", "field_invalid",
            "uploading", "upload_failed", "locating", "located", "locate_failed",
            "err_required", "err_max_length", "err_pattern", "err_enum", "err_invalid",
            "err_unknown_photo", "err_duplicate", "err_date_min", "err_unknown_inspector",
            "err_licence_wrong_state", "err_licence_not_your_step", "withdraw_confirm")
    return {k: say(lang, k) for k in keys}


def _state_row(a: LicenceApplication, lang: str, today: date) -> dict[str, Any]:
    left = workdays.working_days_between(today, a.deadline)
    due = ""
    if a.state in states.OPEN:
        due = (say(lang, "due_left", n=left) if left >= 0
               else say(lang, "due_past", n=-left))
    return {"id": a.id, "number": a.number, "shop": a.shop_name, "address": a.address,
            "state": a.state, "state_text": say(lang, f"state_{a.state}"),
            "submitted": day(lang, a.submitted_at.date()), "deadline": day(lang, a.deadline),
            "due": due, "overdue": a.state in states.OPEN and left < 0,
            "href": views.href(f"/licence-applications/{a.id}", lang)}


def _today(tz: tzinfo) -> date:
    return datetime.now(UTC).astimezone(tz).date()


def _may_see_any(principal: Principal) -> None:
    if not any(principal.can(c) for c in states.CAPABILITIES):
        raise NotFound("no licence applications for your role")


@get("/licence-applications", include_in_schema=False)
async def list_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                    principal: Principal, page: PageNumber = 1, show: str = "all"
                    ) -> Response[str]:
    lang = request_language(request)
    _may_see_any(principal)
    show = show if show in ("all", "open", "mine") else "all"
    found, total = await service.listing(db, principal, show=show, limit=PER_PAGE,
                                         offset=(page - 1) * PER_PAGE)
    today = _today(settings.tz)
    filters = [{"key": k, "label": say(lang, f"show_{k}"), "current": k == show,
                "href": views.href("/licence-applications", lang, show=k)}
               for k in ("all", "open", "mine")
               if k != "mine" or principal.can(states.APPLY)]
    return render(request, "list.html", lang, principal, title=say(lang, "list_title"),
                  rows=[_state_row(a, lang, today) for a in found], filters=filters,
                  show=show, may_apply=principal.can(states.APPLY),
                  new_href=views.href("/licence-applications/new", lang),
                  pager=views.pager(page, PER_PAGE, total,
                                    lambda n: views.href("/licence-applications", lang,
                                                         show=show, page=n),
                                    say(lang, "pager")))


@get("/licence-applications/new", include_in_schema=False)
async def new_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                   principal: Principal) -> Response[str]:
    lang = request_language(request)
    states.may_submit(principal)
    from rounds.runtime.sites.models import Site

    site = await db.get(Site, principal.site_id) if principal.site_id is not None else None
    prefill = {"shop_name": site.name if site else "", "address": site.address if site else "",
               "owner_name": str((site.attributes or {}).get("owner_name", "")) if site
               else principal.display_name,
               "phone": str((site.attributes or {}).get("phone", "")) if site else "",
               "lat": site.lat if site else "", "lng": site.lng if site else ""}
    return render(request, "new.html", lang, principal, title=say(lang, "new_title"),
                  prefill=prefill, has_shop=site is not None,
                  business_types=[(b, say(lang, f"business_{b}"))
                                  for b in service.BUSINESS_TYPES],
                  areas=[(a, say(lang, f"area_{a}")) for a in service.MARKET_AREAS],
                  documents=[(k, say(lang, f"doc_{k}"), k in service.REQUIRED_DOCUMENTS)
                             for k in service.DOCUMENT_KINDS],
                  back_href=views.href("/licence-applications", lang),
                  done_href=views.href("/licence-applications/{id}", lang),
                  licence_config={"lang": lang, "text": _script_words(lang)})


def _inspection_view(a: LicenceApplication, lang: str) -> dict[str, Any] | None:
    ins = a.inspection
    if not ins:
        return None
    site = ins.get("ctx_site") or {}
    calculated = (ins.get("evaluation") or {}).get("calculated") or {}
    near = calculated.get("nearest_distance")
    minimum = calculated.get("minimum_distance")
    outcomes = (ins.get("evaluation") or {}).get("outcomes") or []
    level = outcomes[0].get("level") if outcomes else None
    return {"passed": bool(ins.get("passed")),
            "verdict": say(lang, f"outcome_{level}") if level in ("fit", "unfit", "too_close")
            else say(lang, "inspection_passed" if ins.get("passed") else "inspection_failed"),
            "too_close": "nearest_distance" in (ins.get("failed") or []),
            "distance": say(lang, "metres", n=round(float(near))) if near is not None
            else say(lang, "nearest_none"),
            "minimum": say(lang, "metres", n=round(float(minimum)))
            if minimum is not None else "",
            "nearest_name": str(site.get("nearest_licensed_name") or ""),
            "failed": len(ins.get("failed") or [])}


@get("/licence-applications/{app_id:int}", include_in_schema=False)
async def detail_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                      settings: Settings, principal: Principal, app_id: Id) -> Response[str]:
    lang = request_language(request)
    app, unit = await service.load(db, principal, app_id)
    today = _today(settings.tz)
    steps = states.allowed(service.facts(app), service.who(app, unit, principal))
    timeline = [{"action": say(lang, f"action_{e.action}"),
                 "who": name or say(lang, "system"),
                 "when": _when(lang, e.at, settings.tz),
                 "to": say(lang, f"state_{e.to_state}") if e.to_state else "",
                 "note": e.note if e.action not in ("record_inspection", "escalated") else
                 (say(lang, f"inspection_{e.note}") if e.action == "record_inspection"
                  else "")}
                for e, name in await service.events(db, app.id)]
    applicant = await db.get(User, app.applicant_id)
    inspector = await db.get(User, app.inspector_id) if app.inspector_id else None
    inspectors = (await service.inspectors(db, principal, unit)
                  if "schedule_inspection" in steps else [])
    docs = [{"kind": say(lang, f"doc_{d['kind']}"),
             "href": f"/api/photos/{d['photo_id']}"} for d in app.documents.get("items", [])]
    return render(
        request, "detail.html", lang, principal, title=say(lang, "detail_title",
                                                           number=app.number),
        a=_state_row(app, lang, today), app=app, steps=steps, timeline=timeline, docs=docs,
        applicant=applicant.display_name if applicant else "",
        inspector=inspector.display_name if inspector else "",
        inspection_on=day(lang, app.inspection_on), inspectors=inspectors,
        inspection=_inspection_view(app, lang),
        business=say(lang, f"business_{app.business_type}"),
        area=say(lang, f"area_{app.market_area}"),
        licence={"number": app.licence_number, "scope": say(lang, f"scope_{app.licence_scope}")
                 if app.licence_scope else "", "from": day(lang, app.valid_from),
                 "until": day(lang, app.valid_until)} if app.licence_number else None,
        decision_note=app.decision_note, decision=app.decision,
        scopes=[(s, say(lang, f"scope_{s}")) for s in service.SCOPES],
        inspect_href=views.href(f"/licence-applications/{app.id}/inspect", lang),
        back_href=views.href("/licence-applications", lang), today=today.isoformat(),
        shop_href=views.href("/shop", lang) if principal.site_id == app.site_id
        and app.site_id is not None else "",
        api=f"/api/licence-applications/{app.id}",
        licence_config={"lang": lang, "text": _script_words(lang)})


@get("/licence-applications/{app_id:int}/inspect", include_in_schema=False)
async def inspect_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                       settings: Settings, principal: Principal, app_id: Id
                       ) -> Response[str]:
    """The inspection standard for this application, through the forms engine."""
    lang = request_language(request)
    app, unit = await service.load(db, principal, app_id)
    states.check("record_inspection", service.facts(app), service.who(app, unit, principal))
    content, content_hash, number = await service.inspection_version(db)
    now = datetime.now(UTC)
    ctx = await service.inspection_context(db, principal, app, now=now, tz=settings.tz)
    context = form_context(
        content, lang=lang, action=f"/api/licence-applications/{app.id}/inspection",
        version={"number": number, "content_hash": content_hash, "status": "published"},
        ctx=ctx, photo_upload="/api/photos", csrf_token=principal.csrf_token,
        envelope={"definition_id": service.INSPECTION_STANDARD, "version": content_hash,
                  "visit_id": None,
                  "result_url": views.href(f"/licence-applications/{app.id}", lang)})
    shared = chrome.context(request, lang, principal, "/licence-applications")
    html = environment().get_template("inspect.html").render(
        # the chrome's navigation (menu entries too), the form's words and switch
        **{**shared, **context},
        shop=app.shop_name, number=app.number,
        back_href=views.href(f"/licence-applications/{app.id}", lang))
    return Response(html, media_type=MediaType.HTML, headers=dict(chrome.PRIVATE))


def handlers(settings: Settings) -> list[Any]:
    pages = Router(path="/", route_handlers=[list_page, new_page, detail_page, inspect_page],
                   exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                                       HTTPException: error_page})
    return [pages, create_static_files_router(path=STATIC_URL, directories=[STATIC_DIR],
                                              name="retail_licence_static", opt=PUBLIC)]

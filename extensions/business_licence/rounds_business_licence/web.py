"""The extension's HTTP side: the API (``/api/sites/{id}/business-licence-checks``: a site's
checks, and a new one) and the page ``/sites/{id}/business-licence`` (the latest result,
the history, and the form: photo, code, holder, premises, expiry). Thin: each handler calls
the service.

The page's form posts multipart (the photo with the rest); ``static/licence.js`` sends it
with the page's CSRF token (the field chrome's ``send_form.js``) and puts the answer in
place: the page again with the new result (303), or with every mistake at its field and the
summary (422). The registry (:mod:`.registry`) is configured from the environment when the
app is made (:func:`handlers`).
"""

from __future__ import annotations

import datetime as dt
import os
from functools import lru_cache
from typing import Any

import msgspec
from jinja2 import Environment, PackageLoader
from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import utcnow
from rounds.errors import Forbidden, NotAuthenticated, Problem, RoundsError, TryLater
from rounds.runtime.access import Principal
from rounds.runtime.fieldwork import chrome, views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.people.models import User
from rounds.runtime.sites.service import get_site
from rounds.runtime.storage import service as storage
from rounds.runtime.storage.store import photo_store
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.paging import Page, Paging, paged
from rounds.web.params import Id
from rounds.web.security import ACCEPTS
from rounds_business_licence import service, uscc
from rounds_business_licence.models import NOT_MADE, LicenceCheck
from rounds_business_licence.registry import Registry, RegistrySettings, registry_from
from rounds_business_licence.texts import DOMAIN, day, detail, say

STATIC_URL = "/static/extensions/business_licence"  # the core serves the static folder
FILE_BODY = {ACCEPTS: ("multipart/form-data",)}
_BODY_LIMIT = storage.MAX_PHOTO_BYTES + 1024 * 1024  # the photo and the form around it
HISTORY = 20  # earlier checks shown on the page


# -- the API ----------------------------------------------------------------------------------

class CheckIn(msgspec.Struct, forbid_unknown_fields=True):
    """A verification: the photo (an id from ``POST /api/photos``) and what the licence
    says; ``expires_on`` null or absent for a licence without an end date (长期). Loosely
    typed on purpose: the service names every mistake at once."""

    code: str = ""
    holder: str = ""
    address: str = ""
    photo_id: str = ""
    expires_on: str | None = None


class CheckResult(msgspec.Struct):
    check: str  # check_character | duplicate | holder | expiry | registry
    result: str  # ok | warning | failed | not_made
    detail: dict[str, Any]  # {"key", "params"}: the words are the catalogue's detail_<key>


class CheckOut(msgspec.Struct):
    id: int
    site_id: int
    code: str
    holder: str
    address: str
    expires_on: dt.date | None
    photo_id: str | None
    checked_by: int | None
    checked_at: dt.datetime
    outcome: str  # passed | warning | failed
    checks: list[CheckResult]
    registry: dict[str, Any] | None


def check_out(c: LicenceCheck) -> CheckOut:
    return CheckOut(id=c.id, site_id=c.site_id, code=c.code, holder=c.holder,
                    address=c.address, expires_on=c.expires_on, photo_id=c.photo_id,
                    checked_by=c.checked_by, checked_at=c.checked_at, outcome=c.outcome,
                    checks=[CheckResult(check=str(r.get("check")), result=str(r.get("result")),
                                        detail=dict(r.get("detail") or {}))
                            for r in c.checks],
                    registry=c.registry_answer)


def _today(settings: Settings) -> dt.date:
    return utcnow().astimezone(settings.tz).date()


# ``registry`` is typed Any in the handlers: Litestar checks a dependency's value against
# its annotation, and a Protocol (Registry) is not a type it can check an object against.

async def create_check_api(*, db: AsyncSession, principal: Principal, settings: Settings,
                           registry: Any, site_id: Id, data: CheckIn
                           ) -> CheckOut:
    row = await service.create_check(
        db, principal, site_id, code=data.code, holder=data.holder, address=data.address,
        expires_on=data.expires_on, photo_id=data.photo_id, now=utcnow(),
        today=_today(settings), registry=registry)
    return check_out(row)


async def list_checks_api(*, db: AsyncSession, principal: Principal, site_id: Id,
                          paging: Paging) -> Page[CheckOut]:
    rows, total = await service.checks_of_site(db, principal, site_id, limit=paging.limit,
                                               offset=paging.offset)
    return paging.of([check_out(r) for r in rows], total)


# -- the page ---------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def environment() -> Environment:
    return chrome.page_environment(PackageLoader("rounds_business_licence", "templates"),
                                   DOMAIN, licence_url=STATIC_URL)


def when(at: dt.datetime, lang: str, tz: dt.tzinfo) -> str:
    local = at.astimezone(tz)
    return say(lang, "date_time", y=local.year, m=local.month, d=local.day,
               time=local.strftime("%H:%M"))


def check_view(c: LicenceCheck, lang: str, tz: dt.tzinfo, names: dict[int, str]
               ) -> dict[str, Any]:
    rows = [{"name": say(lang, f"check_{r.get('check')}"), "result": str(r.get("result")),
             "result_text": say(lang, f"result_{r.get('result')}"),
             "detail": detail(r.get("detail"), lang)} for r in c.checks]
    made = sum(1 for r in c.checks if r.get("result") != NOT_MADE)
    who = names.get(c.checked_by or 0, "")
    return {"id": c.id, "code": c.code, "holder": c.holder, "address": c.address,
            "region": uscc.uscc_region(c.code) or "",
            "expires": day(c.expires_on, lang) if c.expires_on else say(lang, "expires_never"),
            "outcome": c.outcome, "outcome_text": say(lang, f"outcome_{c.outcome}"),
            "when": when(c.checked_at, lang, tz), "who": who,
            "by_line": say(lang, "checked_by_at", who=who, when=when(c.checked_at, lang, tz)),
            "checks": rows,
            "made_line": say(lang, "checks_made", made=made, not_made=len(rows) - made),
            "photo_url": f"/api/photos/{c.photo_id}" if c.photo_id else "",
            "photo_alt": say(lang, "photo_alt", when=when(c.checked_at, lang, tz))}


FIELDS = ("photo", "code", "holder", "address", "expires_on")  # the form's order


def errors_of(problems: list[Problem], lang: str) -> dict[str, str]:
    """Field → its first mistake in the reader's words (by pointer and code)."""
    out: dict[str, str] = {}
    for p in problems:
        name = p.pointer.strip("/")
        field = "photo" if name == "photo_id" else name if name in FIELDS else "form"
        key = f"err_{name}_{p.code}" if field != "form" else "err_form"
        try:
            text = say(lang, key, **p.params)
        except KeyError:
            text = say(lang, "err_form")
        out.setdefault(field, text)
    return out


async def _page(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings,
                principal: Principal, site_id: int, *, values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    lang = request_language(request)
    site = await get_site(db, principal, site_id)
    rows, total = await service.checks_of_site(db, principal, site_id, limit=HISTORY + 1)
    names = {int(uid): str(name) for uid, name in await db.execute(
        select(User.id, User.display_name).where(
            User.id.in_({r.checked_by for r in rows if r.checked_by})))}
    tz = settings.tz
    shown = [check_view(r, lang, tz, names) for r in rows]
    errors = errors or {}
    summary = [{"field": f, "text": errors[f],
                "anchor": "bl-" + f.replace("_", "-") if f != "form" else "bl-form"}
               for f in (*FIELDS, "form") if f in errors]
    title = say(lang, "page_title", site=site.name) if not errors else \
        say(lang, "page_title_errors", n=len(errors))
    path = f"/sites/{site.id}/business-licence"
    html = environment().get_template("licence.html").render(
        **chrome.context(request, lang, principal), title=title, site=site,
        site_line=say(lang, "site_line", code=site.code, address=site.address),
        latest=shown[0] if shown else None, history=shown[1:], total=total,
        just_checked=bool(shown) and request.query_params.get("checked") == str(shown[0]["id"]),
        may_verify=principal.can(service.VERIFY),
        # the site's own page (its visits and panels); a shop's account has /shop instead
        back=None if views.is_shop(principal) else views.href(f"/sites/{site.id}/history", lang),
        values={**dict.fromkeys(("code", "holder", "address", "expires_on", "photo_id"), ""),
                **(values or {})}, errors=errors,
        summary=summary, action=views.href(path, lang),
        licence_config={"lang": lang, "text": {k: say(lang, k)
                                               for k in ("sending", "send_failed")}})
    return Response(html, status_code=status, media_type=MediaType.HTML,
                    headers=dict(chrome.PRIVATE))


async def licence_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                       principal: Principal, site_id: Id) -> Response[str]:
    return await _page(request, db, settings, principal, site_id)


async def _photo(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings,
                 principal: Principal, form: Any) -> tuple[str, list[Problem]]:
    """The photo the form sent (stored now), else the one a previous try kept."""
    upload = form.get("photo")
    if isinstance(upload, UploadFile):
        data = await upload.read()
        if data:
            try:
                photo = await storage.upload(db, photo_store(settings.data_dir), principal,
                                             data if isinstance(data, bytes) else b"",
                                             settings.uploads)
            except (Forbidden, TryLater):
                raise  # not the photo's fault: the page says why (403, 429)
            except RoundsError:
                return "", [Problem("/photo_id", "not a readable photo", "unreadable")]
            return photo.id, []
    return str(form.get("photo_id") or ""), []


async def licence_post(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                       principal: Principal, registry: Any, site_id: Id
                       ) -> Response[Any]:
    """A new check, then the page with its result (303); with mistakes, the page again with
    every one at its field (422), nothing stored but the photo (kept for the next try)."""
    lang = request_language(request)
    principal.require(service.VERIFY)
    await get_site(db, principal, site_id)
    form = await request.form()
    values = {k: str(form.get(k) or "") for k in ("code", "holder", "address", "expires_on")}
    photo_id, problems = await _photo(request, db, settings, principal, form)
    values["photo_id"] = photo_id
    try:
        if not problems:
            row = await service.create_check(
                db, principal, site_id, code=values["code"], holder=values["holder"],
                address=values["address"], expires_on=values["expires_on"] or None,
                photo_id=photo_id, now=utcnow(), today=_today(settings), registry=registry)
            # The page again, saying the check was made (a fragment would be lost: fetch
            # gives the script the address it was redirected to without it).
            return Redirect(views.href(f"/sites/{site_id}/business-licence", lang,
                                       checked=row.id), status_code=303)
    except service.LicenceCheckInvalid as exc:
        problems.extend(exc.problems)
    else:
        # The photo was not readable: the rest is still checked, so one answer names all.
        try:
            await service.create_check(
                db, principal, site_id, code=values["code"], holder=values["holder"],
                address=values["address"], expires_on=values["expires_on"] or None,
                photo_id="", now=utcnow(), today=_today(settings), registry=None)
        except service.LicenceCheckInvalid as exc:
            problems.extend(p for p in exc.problems if p.pointer != "/photo_id")
    if any(p.pointer == "/photo_id" for p in problems):
        values["photo_id"] = ""
    return await _page(request, db, settings, principal, site_id, values=values,
                       errors=errors_of(problems, lang), status=422)


def handlers(settings: Any) -> list[Any]:
    """The routes, made for this app with the registry the environment configures (read
    now, once): the decorators are applied here so that each app has its own."""
    registry = registry_from(RegistrySettings.from_env(os.environ))

    def provide_registry() -> Registry | None:
        return registry

    deps = {"registry": Provide(provide_registry, sync_to_thread=False)}
    shown_as_page: dict[int | type[Exception], Any] = {
        NotAuthenticated: to_sign_in, RoundsError: error_page, HTTPException: error_page}
    checks = "/api/sites/{site_id:int}/business-licence-checks"
    page = "/sites/{site_id:int}/business-licence"
    return [
        post(checks, status_code=201, tags=["business licence"], dependencies=deps,
             summary="Verify a site's business licence (business_licence.verify): the "
                     "checks made and not made, and the outcome")(create_check_api),
        get(checks, tags=["business licence"], dependencies=paged(100),
            summary="A site's business-licence checks, newest first")(list_checks_api),
        get(page, include_in_schema=False, exception_handlers=shown_as_page)(licence_page),
        post(page, include_in_schema=False, opt=FILE_BODY, status_code=303,
             request_max_body_size=_BODY_LIMIT, dependencies=deps,
             exception_handlers=shown_as_page)(licence_post)]

"""The field staff's pages: sign in, my day, check-in, a visit, its forms, results.

Server-rendered HTML (Jinja2, the forms engine's layout); ``static/fieldwork.js`` adds what
needs the browser: the position, and the calls to the APIs that change data (sign-in,
check-in, check-out), each with the page's CSRF token. The handlers only read, through the
other slices' services, and translate to pages.

The language of every page is the request's (:func:`rounds.web.language.request_language`),
its words the ``fieldwork`` catalogue's; the chrome every field page shares (the templates,
the navigation, the response) is :mod:`~rounds.runtime.fieldwork.chrome`.

Pages that need a user are not public: the app's deny-by-default guard refuses anonymous
requests, and this router turns that refusal into a 303 to ``/sign-in?next=…`` (a person
gets the sign-in page, not the API's 401 document).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from litestar import MediaType, Request, Response, Router, get
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import NotFound, RoundsError
from rounds.forms.render import form_context
from rounds.i18n import normalize, pick
from rounds.rules.alerts import format_number
from rounds.runtime.access import Forbidden, NotAuthenticated, Principal
from rounds.runtime.definitions import service as definitions
from rounds.runtime.fieldwork import chrome, issue_pages, service, views
from rounds.runtime.fieldwork.views import say
from rounds.runtime.forms import results
from rounds.runtime.people import throttle
from rounds.runtime.sites.panels import panels_for
from rounds.runtime.sites.service import position
from rounds.runtime.submissions import service as submissions
from rounds.runtime.visits import plans
from rounds.runtime.visits import service as visits
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.params import Id, PageNumber

PUBLIC = {"public": True}
PER_PAGE = 20


# -- sign in ---------------------------------------------------------------------------------

@get("/sign-in", opt=PUBLIC, include_in_schema=False)
async def sign_in_page(request: Request[Any, Any, Any], maybe_principal: Principal | None,
                       next_url: str | None = Parameter(query="next", default=None)
                       ) -> Response[str]:
    target = views.safe_next(next_url)
    if maybe_principal is not None:
        return Redirect(target, status_code=303)
    language = request_language(request)
    minutes = int(throttle.PAIR.cap_s // 60)  # the longest wait, if Retry-After is lost
    return chrome.page(request, "sign_in.html", language, None,
                       title=say(language, "sign_in_title"), next=target,
                       wait_minutes=minutes)


@get("/", opt=PUBLIC, include_in_schema=False)
async def root_page(maybe_principal: Principal | None, lang: str | None = None
                    ) -> Redirect:
    """The site's address: a person's home when signed in (a leader's dashboard, a field
    worker's day), else the sign-in page."""
    target = views.home_for(maybe_principal) if maybe_principal is not None else "/sign-in"
    asked = normalize(lang, default="")
    if asked:  # a language asked for goes along
        target = views.href(target, asked)
    return Redirect(target, status_code=303)


# -- my day ----------------------------------------------------------------------------------

def _visit_card(view: visits.VisitView, principal: Principal, lang: str,
                settings: Settings) -> dict[str, Any]:
    v, s = view.visit, view.site
    flags = sorted(k for k, on in (v.flags or {}).items() if on)
    return {
        "id": v.id, "site": s.name, "address": s.address, "open": v.checked_out_at is None,
        "own": v.user_id == principal.user_id,
        "since": say(lang, "since", time=views.local(v.checked_in_at, settings.tz, "%H:%M")),
        "at": views.local(v.checked_in_at, settings.tz),
        "checked_out": views.local(v.checked_out_at, settings.tz) if v.checked_out_at else "",
        "method": say(lang, "method_qr" if v.method == visits.QR else "method_gps"),
        "distance": (views.distance_text(v.distance_m, lang) if v.distance_m is not None
                     else "—"),
        "accuracy": (say(lang, "accuracy_value", accuracy=format_number(v.accuracy_m, 0))
                     if v.accuracy_m is not None else "—"),
        "flag_codes": flags,
        "flags": views.flag_texts(flags, distance_m=v.distance_m, accuracy_m=v.accuracy_m,
                                  radius_m=principal.check_in_radius_m,
                                  max_accuracy_m=principal.check_in_max_accuracy_m, lang=lang,
                                  method=v.method),
        "href": views.href(f"/visits/{v.id}", lang),
    }


def _near(text: str | None) -> tuple[float, float] | None:
    """The position the page was asked for (``near=lat,lng``, which the browser adds once it
    knows where it is); a malformed one is no position rather than an error page."""
    if not text:
        return None
    try:
        return position(text)
    except RoundsError:
        return None


@get("/today", include_in_schema=False)
async def today_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                     principal: Principal, near: str | None = None,
                     acc: float | None = None, page: PageNumber = 1
                     ) -> Response[str]:
    """Today's sites, every one of them a page at a time with their count: nearest first
    from ``near`` (the browser's position; unknown distances last), by visits due without
    it; the open visit on top, and the month's planned, done and pending visits."""
    language = request_language(request)
    tz = settings.tz
    here = _near(near)
    current = await visits.current_visit(db, principal)
    try:
        day: plans.MyDay | None = await plans.my_day(
            db, principal, tz=tz, near=here, limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    except Forbidden:
        day = None  # a role without visits (a leader): nothing to plan
    month = day.month if day else plans.month_of(datetime.now(tz).date())
    progress: plans.PersonPlan | None = None
    try:
        people, _ = await plans.month_progress(db, principal, month,
                                               user_id=principal.user_id, tz=tz)
        progress = people[0] if people else None
    except (Forbidden, NotFound):
        progress = None
    words = views.words(language)
    stops = [{
        "site_id": s.site_id, "code": s.code, "name": s.name, "address": s.address,
        "remaining": words.get(f"remaining_{s.per}", words["remaining"]).format(
            remaining=s.remaining, planned=s.planned, campaign=s.campaign_title or ""),
        "distance": views.distance_text(s.distance_m, language),
    } for s in (day.stops if day else [])]
    today = datetime.now(tz).date().isoformat()
    # The links keep the position the list is sorted from (and the language).
    kept = {"near": f"{here[0]:.6f},{here[1]:.6f}" if here else None,
            "acc": format_number(acc, 0) if here and acc is not None else None}
    pager = views.pager(page, PER_PAGE, day.total if day else 0,
                        lambda n: views.href("/today", language, page=n if n > 1 else None,
                                             **kept),
                        words["stops_total"])
    return chrome.page(
        request, "today.html", language, principal, title=say(language, "today_title"),
        active="today", hello=say(language, "hello", name=principal.display_name, date=today),
        current=_visit_card(current, principal, language, settings) if current else None,
        day=day, stops=stops, month=month, progress=progress, pager=pager,
        sorted_near=(say(language, "sorted_near", accuracy=kept["acc"]) if kept["acc"]
                     else say(language, "sorted_near_plain")) if here else None)


# -- a visit ---------------------------------------------------------------------------------

@get("/visits/{visit_id:int}", include_in_schema=False)
async def visit_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                     principal: Principal, visit_id: Id, new: bool = False
                     ) -> Response[str]:
    """A visit: where and how it was checked in (distance, flags), the forms it offers, what
    was submitted during it, and the check-out."""
    language = request_language(request)
    view, refs = await visits.visit_forms(db, principal, visit_id)
    card = _visit_card(view, principal, language, settings)
    done = await service.visit_submissions(db, principal, visit_id)
    contents = await service.version_contents(db, {(d.definition_id, d.content_hash)
                                                   for d in done})
    forms = [{"title": pick(f.title, language, f.definition_id),
              "version": say(language, "version_short", number=f.version),
              "href": views.href(f"/visits/{visit_id}/forms/{f.definition_id}", language)}
             for f in refs]
    submitted = []
    for d in done:
        content = contents.get((d.definition_id, d.content_hash), {})
        submitted.append({
            "title": pick(content.get("title"), language, d.definition_id),
            "shown": results.listed(d.score_value, d.score_model, d.direction, d.outcome,
                                    definition=content, lang=language),
            "passed": d.passed, "failed_count": d.failed_count,
            "href": views.href(f"/submissions/{d.id}", language)})
    return chrome.page(request, "visit.html", language, principal,
                       title=say(language, "visit_title", site=view.site.name),
                       visit=card, forms=forms, submitted=submitted, just_checked_in=new,
                       panels=await panels_for(db, principal, view.site.id, language))


@get("/visits/{visit_id:int}/forms/{definition_id:str}", include_in_schema=False)
async def visit_form_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                          settings: Settings, principal: Principal, visit_id: Id,
                          definition_id: str) -> Response[str]:
    """A standard or survey to fill during a visit, at the version the visit offers now; the
    browser posts it as a submission and opens the result."""
    language = request_language(request)
    view, refs = await visits.visit_forms(db, principal, visit_id)
    ref = next((f for f in refs if f.definition_id == definition_id), None)
    if ref is None or view.visit.user_id != principal.user_id:
        raise NotFound(f"{definition_id!r} is not a form of your visit {visit_id}")
    if view.visit.checked_out_at is not None:  # nothing can be submitted to a closed visit
        return Redirect(views.href(f"/visits/{visit_id}", language), status_code=303)
    version = await definitions.get_version(db, definition_id, ref.content_hash)
    s = view.site
    # What the rules read under ctx, exactly as the submissions service gives it on submit
    # (the company's time zone), so the live form agrees with the server.
    ctx = visits.visit_rule_context(principal, view, now=datetime.now(UTC), tz=settings.tz)
    context = form_context(
        dict(version.content), lang=language, action="/api/submissions",
        version={"number": version.number, "content_hash": version.content_hash,
                 "status": version.status},
        ctx=ctx, photo_upload="/api/photos", csrf_token=principal.csrf_token,
        envelope={"definition_id": definition_id, "version": version.content_hash,
                  "visit_id": visit_id,
                  "result_url": views.href("/submissions/{id}", language)})
    shared = chrome.context(request, language, principal)
    html = chrome.environment().get_template("visit_form.html").render(
        **{**context, **{k: shared[k] for k in ("home_url", "links", "active", "user",
                                                "unread", "fw_config")}},
        site_name=s.name, visit_href=views.href(f"/visits/{visit_id}", language),
        # unsent answers kept on the phone: per user, visit, form and version (draft.js)
        draft={"key": f"rounds:draft:{principal.user_id}:{visit_id}:{definition_id}:"
                      f"{version.content_hash}",
               "text": {"restored": say(language, "draft_restored"),
                        "discard": say(language, "draft_discard")}})
    return Response(html, media_type=MediaType.HTML, headers=chrome.PRIVATE)


# -- results ---------------------------------------------------------------------------------

@get("/submissions/{submission_id:str}", include_in_schema=False)
async def result_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                      principal: Principal, submission_id: str
                      ) -> Response[str]:
    """A submission's score, its explanation section by section, the problems raised and
    the alerts, in the reader's language."""
    language = request_language(request)
    sub = await submissions.get_submission(db, principal, submission_id, lang=language)
    version = await definitions.get_version(db, sub["definition_id"], sub["version"])
    content = dict(version.content)
    score = sub["score"] or {}
    answers, evidence = sub.get("answers") or {}, sub.get("evidence") or {}
    failed = sub.get("failed_items") or []
    shown = results.result_view(score, sub.get("outcomes") or [], failed, content, language)
    current = await visits.current_visit(db, principal)
    names = await service.site_names(db, [sub.get("site_id")])
    return chrome.page(
        request, "result.html", language, principal, title=say(language, "result_title"),
        definition_title=pick(content.get("title"), language, sub["definition_id"]),
        site_name=names.get(sub.get("site_id") or 0, ""),
        submitted_at=views.local(sub["submitted_at"], settings.tz),
        result=shown,
        sections=views.explanation(score, content, answers, language),
        problems=views.problems(failed, content, answers, evidence, language),
        alerts=views.alert_lines(sub.get("alerts") or [], language),
        engine_text=sub.get("explanation") or "",
        # a retailer reading its shop's visit goes back to its portal's view of the visit
        visit_href=(None if not sub.get("visit_id") else
                    views.href(f"/shop/visits/{sub['visit_id']}", language)
                    if principal.can("shop.view_own") else
                    views.href(f"/visits/{sub['visit_id']}", language)),
        open_visit=(current.visit.id if current and current.visit.id == sub.get("visit_id")
                    else None))


@get("/me/submissions", include_in_schema=False)
async def my_results_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                          settings: Settings, principal: Principal,
                          page: PageNumber = 1) -> Response[str]:
    """My submissions, newest first, a page at a time."""
    language = request_language(request)
    found, total = await submissions.my_submissions(db, principal, limit=PER_PAGE,
                                                    offset=(page - 1) * PER_PAGE)
    contents = await service.version_contents(db, {(s.definition_id, s.version)
                                                   for s in found})
    names = await service.site_names(db, [s.site_id for s in found])
    rows = []
    for s in found:
        content = contents.get((s.definition_id, s.version), {})
        rows.append({
            "href": views.href(f"/submissions/{s.id}", language),
            "title": pick(content.get("title"), language, s.definition_id),
            "site": names.get(s.site_id or 0, ""),
            "at": views.local(s.submitted_at, settings.tz),
            "shown": results.listed(s.score_value, s.score_model, s.direction, s.outcome,
                                    definition=content, lang=language),
            "passed": s.passed,
            "failed": say(language, "failed_count", n=s.failed_count) if s.failed_count
            else "",
            "alerts": say(language, "alert_count", n=s.alert_count) if s.alert_count else "",
        })
    return chrome.page(request, "my_submissions.html", language, principal,
                       title=say(language, "my_title"), active="results", rows=rows,
                       pager=views.pager(page, PER_PAGE, total,
                                         lambda n: views.href("/me/submissions", language,
                                                              page=n),
                                         views.words(language)["page_of"]))


# -- errors as pages -------------------------------------------------------------------------

def to_sign_in(request: Request[Any, Any, Any], exc: NotAuthenticated) -> Response[Any]:
    """A person without a session goes to the sign-in page, and comes back afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return Redirect(f"/sign-in?{urlencode({'next': target})}", status_code=303)


def error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status = exc.status if isinstance(exc, RoundsError) else \
        exc.status_code if isinstance(exc, HTTPException) else 500
    principal: Principal | None = request.scope.get("state", {}).get("principal")
    language = request_language(request)
    message = {404: say(language, "not_found"), 403: say(language, "forbidden")}.get(status)
    if message is None:
        message = exc.detail if isinstance(exc, RoundsError) and status < 500 \
            else say(language, "error_generic")
    return chrome.page(request, "error.html", language, principal,
                       title=say(language, "error_title"), status=status, code=status,
                       message=message)


def handlers(settings: Settings) -> list[Any]:
    pages = Router(
        path="/", route_handlers=[root_page, sign_in_page, today_page, visit_page, visit_form_page,
                                  result_page, my_results_page, *issue_pages.route_handlers()],
        exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                            HTTPException: error_page})
    return [pages, create_static_files_router(path=chrome.FIELDWORK_URL,
                                              directories=[chrome.STATIC_DIR],
                                              name="fieldwork_static", opt=PUBLIC)]

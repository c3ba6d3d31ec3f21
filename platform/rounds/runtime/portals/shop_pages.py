"""The retailer's portal (``/shop``), phone first, in the field pages' chrome.

- ``/shop``: the shop's card (licence data, grade, delivery cycle, who serves it), its latest
  visits with their scores, the problems raised about it, its own complaints and
  suggestions, and the company's notices for it;
- ``/shop/visits`` (paged) and ``/shop/visits/{id}``: each visit with the role's word for it,
  the staff member, the forms filled and their score; a form's explanation is its result
  page (``/submissions/{id}``, open to the shop for its visits);
- ``/shop/issues`` (paged, ``show=mine`` or all): the problems about the shop; what it
  raised opens on the issue page (``/issues/{id}``), where it confirms the fix;
- ``/shop/feedback/new``: a complaint or a suggestion (工作建议); ``static/shop.js`` posts it
  to ``POST /api/issues/feedback`` with the page's CSRF token.

Words: the ``portals`` catalogue (then ``fieldwork``, ``common``). Dates as 2026年12月3日.
"""

from __future__ import annotations

from datetime import datetime, tzinfo
from functools import lru_cache
from typing import Any

from jinja2 import Environment, PackageLoader
from litestar import MediaType, Request, Response, get
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc, utcnow
from rounds.i18n import pick
from rounds.i18n import text as i18n_text
from rounds.runtime.access import Principal
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.fieldwork import chrome, views
from rounds.runtime.forms import results
from rounds.runtime.issues import texts as issue_texts
from rounds.runtime.issues.models import ACTIVE, Issue
from rounds.runtime.notifications.service import unread_count
from rounds.runtime.portals import shop
from rounds.runtime.portals.models import Notice
from rounds.runtime.portals.notices import current_notices
from rounds.runtime.sites.panels import panels_for
from rounds.runtime.surveys import service as surveys
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.params import Id, PageNumber

DOMAIN = "portals"
PORTALS_URL = "/static/portals"
PER_PAGE = 20
LATEST = 3  # visits and problems on the home page


def say(lang: str, key: str, /, **fields: Any) -> str:
    return i18n_text(DOMAIN, lang, key, **fields)


def day(at: datetime | str | None, tz: tzinfo, lang: str) -> str:
    """A date as people write it: 2026年12月3日, or 2026-12-03."""
    if at is None:
        return ""
    if isinstance(at, str):
        at = as_utc(datetime.fromisoformat(at))
    local = as_utc(at).astimezone(tz)
    return say(lang, "date", y=local.year, m=local.month, d=local.day)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """This slice's templates, then the field pages' and the forms engine's; ``_`` reads
    ``portals``, then ``fieldwork``, ``common``."""
    return chrome.page_environment(PackageLoader("rounds.runtime.portals", "templates"),
                                   DOMAIN, portals_url=PORTALS_URL)


def render(request: Request[Any, Any, Any], template: str, lang: str, principal: Principal,
           *, title: str, active: str, unread: int | None = None, status: int = 200,
           **values: Any) -> Response[str]:
    html = environment().get_template(template).render(
        **chrome.context(request, lang, principal, active, unread), title=title, **values)
    return Response(html, status_code=status, media_type=MediaType.HTML,
                    headers=dict(chrome.PRIVATE))


# -- what the templates show ----------------------------------------------------------------

async def _contents(db: AsyncSession, version_ids: set[int]) -> dict[int, dict[str, Any]]:
    if not version_ids:
        return {}
    rows = await db.execute(select(DefinitionVersion.id, DefinitionVersion.content)
                            .where(DefinitionVersion.id.in_(sorted(version_ids))))
    return {int(i): dict(c) for i, c in rows}


async def _visit_rows(db: AsyncSession, found: list[shop.ShopVisit], lang: str, tz: tzinfo
                      ) -> list[dict[str, Any]]:
    contents = await _contents(db, {f.version_id for v in found for f in v.forms})
    rows = []
    for v in found:
        forms = []
        for f in v.forms:
            content = contents.get(f.version_id, {})
            forms.append({
                "title": pick(content.get("title"), lang, f.definition_id),
                "shown": results.listed(f.score_value, f.score_model, f.direction, f.outcome,
                                        definition=content, lang=lang),
                "failed": say(lang, "failed_count", n=f.failed_count) if f.failed_count else "",
                "href": views.href(f"/submissions/{f.submission_id}", lang)})
        rows.append({"id": v.id, "href": views.href(f"/shop/visits/{v.id}", lang),
                     "what": say(lang, "visit_line", role=v.role, verb=v.verb),
                     "staff": v.staff, "date": day(v.at, tz, lang),
                     "time": views.local(v.at, tz, "%H:%M"),
                     "ended": views.local(v.ended_at, tz, "%H:%M") if v.ended_at else "",
                     "forms": forms})
    return rows


def _issue_rows(found: list[Issue], principal: Principal, lang: str, tz: tzinfo,
                now: datetime) -> list[dict[str, Any]]:
    rows = []
    for i in found:
        mine = i.reporter_id == principal.user_id and i.source in shop.FEEDBACK_SOURCES
        status = views.status_text(i.status, lang)
        waiting = (mine and i.status == "verified" and i.reporter_signed_at is None)
        rows.append({
            "id": i.id, "title": issue_texts.title_in(issue_texts.titles(i), lang, i.title),
            "status": status, "status_code": i.status, "mine": mine,
            "source": views.words(lang).get(f"src_{i.source}", i.source),
            "due": day(i.due_at, tz, lang) if i.due_at else "",
            "overdue": bool(i.due_at and i.status in ACTIVE and as_utc(i.due_at) < now),
            "created": day(i.created_at, tz, lang),
            "progress": say(lang, f"progress_{i.status}"),
            "to_confirm": waiting,
            # what the shop raised opens on the issue page (it follows and signs it off)
            "href": views.href(f"/issues/{i.id}", lang) if mine else None})
    return rows


def _notice_rows(found: list[Notice], lang: str, tz: tzinfo) -> list[dict[str, Any]]:
    return [{"id": n.id, "title": pick(n.title, lang, ""), "body": pick(n.body, lang, ""),
             "topic": say(lang, f"topic_{n.topic}"), "date": day(n.published_at, tz, lang)}
            for n in found]


def _survey_rows(offers: list[surveys.Offer], lang: str, tz: tzinfo) -> list[dict[str, Any]]:
    """The surveys the shop is asked to answer: a survey that follows a visit names it (the
    day and the staff member), any other the day to answer by."""
    rows = []
    for offer in offers:
        c = offer.campaign
        if offer.visit_id and offer.visit_day:
            when = say(lang, "date", y=offer.visit_day.year, m=offer.visit_day.month,
                       d=offer.visit_day.day)
            meta = i18n_text("surveys", lang, "about_visit", day=when,
                             staff=offer.staff_name or "")
        else:
            end = c.period_end
            meta = i18n_text("surveys", lang, "answer_by",
                             day=say(lang, "date", y=end.year, m=end.month, d=end.day))
        rows.append({"href": views.href(f"/surveys/{c.id}/answer", lang, visit=offer.visit_id),
                     "title": c.title, "meta": meta})
    return rows


def _pager(page: int, total: int, link: Any, lang: str, line: str) -> views.Pager:
    return views.pager(page, PER_PAGE, total, link, say(lang, line))


# -- pages ----------------------------------------------------------------------------------

@get("/shop", include_in_schema=False)
async def shop_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                    principal: Principal) -> Response[str]:
    """The retailer's home: its shop, its visits and scores, its problems, its feedback and
    the company's notices."""
    lang = request_language(request)
    site = await shop.own_shop(db, principal)
    now = utcnow()
    card = await shop.shop_card(db, site, lang)
    visits, visit_total = await shop.shop_visits(db, site, lang, say(lang, "visit_generic"),
                                                 limit=LATEST)
    problems, problem_total = await shop.shop_issues(db, principal, site, mine=False,
                                                     limit=LATEST)
    mine, mine_total = await shop.shop_issues(db, principal, site, mine=True, limit=LATEST)
    notices = await current_notices(db, "retailer", now=now, org_unit_id=site.org_unit_id,
                                    limit=5)
    return render(request, "shop.html", lang, principal, title=say(lang, "shop_title"),
                  active="shop", unread=await unread_count(db, principal.user_id),
                  card=card, visits=await _visit_rows(db, visits, lang, settings.tz),
                  visit_total=visit_total,
                  problems=_issue_rows(problems, principal, lang, settings.tz, now),
                  problem_total=problem_total,
                  mine=_issue_rows(mine, principal, lang, settings.tz, now),
                  mine_total=mine_total,
                  notices=_notice_rows(list(notices), lang, settings.tz),
                  panels=await panels_for(db, principal, site.id, lang),
                  surveys=_survey_rows(await surveys.asked_of_shop(db, site, now,
                                                                   tz=settings.tz),
                                       lang, settings.tz))


@get("/shop/visits", include_in_schema=False)
async def shop_visits_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                           settings: Settings, principal: Principal, page: PageNumber = 1
                           ) -> Response[str]:
    lang = request_language(request)
    site = await shop.own_shop(db, principal)
    found, total = await shop.shop_visits(db, site, lang, say(lang, "visit_generic"),
                                          limit=PER_PAGE, offset=(page - 1) * PER_PAGE)
    return render(request, "shop_visits.html", lang, principal,
                  title=say(lang, "visits_title"), active="shop",
                  visits=await _visit_rows(db, found, lang, settings.tz),
                  pager=_pager(page, total, lambda n: views.href("/shop/visits", lang, page=n),
                               lang, "visits_pager"))


@get("/shop/visits/{visit_id:int}", include_in_schema=False)
async def shop_visit_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                          settings: Settings, principal: Principal, visit_id: Id
                          ) -> Response[str]:
    lang = request_language(request)
    site = await shop.own_shop(db, principal)
    found = await shop.shop_visit(db, site, visit_id, lang, say(lang, "visit_generic"))
    row = (await _visit_rows(db, [found], lang, settings.tz))[0]
    return render(request, "shop_visit.html", lang, principal,
                  title=say(lang, "visit_title", what=row["what"]), active="shop", visit=row)


@get("/shop/issues", include_in_schema=False)
async def shop_issues_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                           settings: Settings, principal: Principal, page: PageNumber = 1,
                           show: str = "all") -> Response[str]:
    lang = request_language(request)
    site = await shop.own_shop(db, principal)
    mine = show == "mine"
    found, total = await shop.shop_issues(db, principal, site, mine=mine, limit=PER_PAGE,
                                          offset=(page - 1) * PER_PAGE)
    shown = "mine" if mine else "all"
    return render(request, "shop_issues.html", lang, principal,
                  title=say(lang, "issues_title"), active="shop_issues",
                  show=shown, rows=_issue_rows(found, principal, lang, settings.tz, utcnow()),
                  filters=[{"key": k, "label": say(lang, f"show_{k}"),
                            "href": views.href("/shop/issues", lang, show=k),
                            "current": k == shown} for k in ("all", "mine")],
                  pager=_pager(page, total,
                               lambda n: views.href("/shop/issues", lang, show=shown, page=n),
                               lang, "issues_pager"))


@get("/shop/feedback/new", include_in_schema=False)
async def shop_feedback_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                             principal: Principal, kind: str = "suggestion"
                             ) -> Response[str]:
    lang = request_language(request)
    site = await shop.own_shop(db, principal)
    return render(request, "shop_feedback.html", lang, principal,
                  title=say(lang, "feedback_title"), active="shop_feedback",
                  shop_name=site.name, kind=kind if kind in shop.FEEDBACK_SOURCES
                  else "suggestion",
                  done_href=views.href("/shop/issues", lang, show="mine"),
                  portals_config={"lang": lang, "text": {
                      k: say(lang, k) for k in ("sending", "sent", "network_error",
                                                "text_required", "failed", "uploading")}})


def route_handlers() -> list[Any]:
    return [shop_page, shop_visits_page, shop_visit_page, shop_issues_page, shop_feedback_page]

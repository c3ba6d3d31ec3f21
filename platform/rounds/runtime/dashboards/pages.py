"""The dashboards' pages: ``/dashboard`` (a unit's month: stations and people ranked, the
trend, the most-failed items, the issue funnel, flagged check-ins, the map), a person's
month (``/me/month``, and ``/dashboard/people/{id}`` for a station head's card of one of
their people).

Server-rendered in the field pages' chrome (:mod:`rounds.runtime.fieldwork.chrome`: the
navigation, the language switch, the CSRF token); ``static/dashboards.js`` draws the charts
(ECharts) and the map (Leaflet) from the page's own figures, and sorts the tables. Every
chart has its table on the page (its text alternative), and every table its CSV and XLSX
export, from the same service as the API. Words: the ``dashboards`` catalogue.

Who sees what is :mod:`~rounds.runtime.dashboards.service`'s: a field user who opens
``/dashboard`` is sent to their month.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from jinja2 import Environment, PackageLoader
from litestar import MediaType, Request, Response, Router, get
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.definitions.metrics import CATALOGUE
from rounds.errors import RoundsError
from rounds.i18n import pick
from rounds.i18n import table as words_table
from rounds.rules.alerts import format_number
from rounds.runtime.access import NotAuthenticated, Principal
from rounds.runtime.campaigns import pages as campaign_pages
from rounds.runtime.dashboards import grades, service
from rounds.runtime.dashboards.service import say
from rounds.runtime.definitions.service import current_contents
from rounds.runtime.fieldwork import chrome, views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.issues import queries as issues
from rounds.runtime.okr import drill
from rounds.runtime.okr import service as okr
from rounds.runtime.okr.views import DrillRow
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.sites import service as sites
from rounds.runtime.sites.panels import panels_for
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.params import Id, OptionalId, PageNumber

STATIC_DIR = Path(__file__).resolve().parent / "static"
DASH_URL = "/static/dashboards"
VENDOR = {"echarts": ("echarts", "dist"), "leaflet": ("leaflet", "dist")}
PUBLIC = {"public": True}
MY_ISSUES = 10
NOT_DONE = ",".join(s for s in views.ISSUE_STATES if s not in ("closed", "cancelled"))


@lru_cache(maxsize=1)
def environment() -> Environment:
    """This slice's templates, then the field pages' (the layout, the navigation, an issue
    row) and the forms engine's; ``_`` reads ``dashboards``, then ``fieldwork``, ``common``."""
    return chrome.page_environment(PackageLoader("rounds.runtime.dashboards", "templates"),
                                   service.DOMAIN, dash_url=DASH_URL)


def render(request: Request[Any, Any, Any], template: str, lang: str, principal: Principal,
           *, title: str, active: str, csp: str | None = None, **values: Any
           ) -> Response[str]:
    html = environment().get_template(template).render(
        **chrome.context(request, lang, principal, active), title=title, **values)
    headers = dict(chrome.PRIVATE)
    if csp:
        headers["Content-Security-Policy"] = csp
    return Response(html, media_type=MediaType.HTML, headers=headers)


# -- how a value reads ---------------------------------------------------------------------------

def shown(value: Any, unit: str, lang: str) -> str:
    """A cell as a person reads it: 85.3%, 12, 3.5 分钟; no value "—"."""
    if value is None or value == "":
        return "—"
    if unit == "ratio":
        return say(lang, "percent", n=format_number(float(value) * 100, 1))
    if unit == "percent":
        return say(lang, "percent", n=format_number(float(value), 1))
    if unit in ("minutes", "hours"):
        return say(lang, f"unit_{unit}", n=format_number(float(value), 1))
    if isinstance(value, float):
        return format_number(value, 2)
    return str(value)


def table_view(t: service.Table, lang: str, *, export: str | None,
               links: dict[str, Any] | None = None, caption: str | None = None
               ) -> dict[str, Any]:
    """A table for the template: each cell's text and its raw value (for sorting), the
    export links (``export``: the API's address without the suffix, with the query)."""
    links = links or {}
    rows = []
    for r in t.rows:
        cells = []
        for c in t.columns:
            value = r.get(c.key)
            href = links[c.key](r) if c.key in links else None
            cells.append({"text": shown(value, c.unit, lang), "href": href,
                          "value": "" if value is None else value,
                          "numeric": c.unit not in ("text", "link", "month"),
                          "nowrap": c.unit == "month"})
        rows.append(cells)
    csv = xlsx = None
    if export:
        path, _, query = export.partition("?")
        csv, xlsx = f"{path}.csv?{query}", f"{path}.xlsx?{query}"
    header = next((i for i, c in enumerate(t.columns) if c.unit in ("text", "link")), 0)
    return {"name": t.name, "title": t.title, "caption": caption or t.title, "header": header,
            "columns": [{"label": c.label, "numeric": c.unit not in ("text", "link", "month")}
                        for c in t.columns],
            "rows": rows, "csv": csv, "xlsx": xlsx}


def per_okr(t: service.Table, lang: str, *, export: str,
            links: dict[str, Any]) -> list[dict[str, Any]]:
    """A grade table shown as one table an OKR (titled by it, without the OKR column, so a
    phone has room for the grades); the export is the whole table, the OKR a column."""
    columns = [c for c in t.columns if c.key != "okr"]
    okrs = list(dict.fromkeys(r["okr"] for r in t.rows))
    shown = [table_view(service.Table(t.name, t.title, columns,
                                      [r for r in t.rows if r["okr"] == okr]),
                        lang, export=None, links=links, caption=f"{t.title} · {okr}")
             | {"okr": okr} for okr in okrs]
    if not shown:
        shown = [table_view(service.Table(t.name, t.title, columns, []), lang, export=None)
                 | {"okr": ""}]
    path, _, query = export.partition("?")
    shown[-1] |= {"csv": f"{path}.csv?{query}", "xlsx": f"{path}.xlsx?{query}"}
    return shown


def _query(**params: Any) -> str:
    return urlencode({k: v for k, v in params.items() if v is not None})


def map_csp(tiles_url: str) -> str | None:
    """The page's Content-Security-Policy with the tile server's origin allowed for images
    (only when ``ROUNDS_MAP_TILES_URL`` names one)."""
    if not tiles_url:
        return None
    from rounds.web.security import CONTENT_SECURITY_POLICY

    parts = urlsplit(tiles_url.replace("{s}", "a").replace("{z}", "0").replace("{x}", "0")
                     .replace("{y}", "0"))
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    host = parts.netloc.replace("a.", "*.", 1) if "{s}" in tiles_url else parts.netloc
    return CONTENT_SECURITY_POLICY.replace(
        "img-src 'self' data: blob:", f"img-src 'self' data: blob: {parts.scheme}://{host}")


# -- /dashboard -----------------------------------------------------------------------------------

@get("/dashboard", include_in_schema=False)
async def dashboard_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                         settings: Settings, principal: Principal,
                         month: str | None = None, unit: OptionalId = None
                         ) -> Response[str]:
    """A unit's month for a leader or a station head (their own unit by default)."""
    lang = request_language(request)
    if not service.may_see_dashboard(principal):
        return Redirect(views.href("/me/month", lang, month=month), status_code=303)
    root = await service.unit_in_scope(db, principal, unit)
    chosen = service.month_or_now(month, settings.tz)
    tree = await service.subtree(db, root)
    now = datetime.now(UTC)
    tables = {name: await service.table(db, tree, name, chosen, lang, now=now)
              for name in service.TABLES}
    tables.update(await grades.grade_tables(db, principal, tree, month=chosen, lang=lang))
    points = await service.map_points(db, tree, today=datetime.now(settings.tz).date())
    q = _query(month=chosen, unit=root.id, lang=lang)

    def unit_link(r: dict[str, Any]) -> str:
        return views.href("/dashboard", lang, month=chosen, unit=r["unit_id"])

    def person_link(r: dict[str, Any]) -> str:
        return views.href(f"/dashboard/people/{r['user_id']}", lang, month=chosen)

    def site_link(r: dict[str, Any]) -> str:
        return views.href(f"/sites/{r['site_id']}/history", lang)

    def grade_link(r: dict[str, Any]) -> str:
        return views.href(grades.explanation_path(r["okr_id"], r["period"], r["subject_kind"],
                                         r["subject_id"]), lang)

    shown_tables = {
        "grades_units": per_okr(tables["grades_units"], lang,
                                export=f"/api/dashboard/grades_units?{q}",
                                links={"name": grade_link}),
        "grades_people": per_okr(tables["grades_people"], lang,
                                 export=f"/api/dashboard/grades_people?{q}",
                                 links={"name": grade_link}),
        "grades_trend": table_view(tables["grades_trend"], lang,
                                   export=f"/api/dashboard/grades_trend?{q}"),
        "units": table_view(tables["units"], lang, export=f"/api/dashboard/units?{q}",
                            links={"name": unit_link} if tree.children else {}),
        "people": table_view(tables["people"], lang, export=f"/api/dashboard/people?{q}",
                             links={"name": person_link}),
        "trend": table_view(tables["trend"], lang, export=f"/api/dashboard/trend?{q}"),
        "items": table_view(tables["items"], lang, export=f"/api/dashboard/items?{q}"),
        "funnel": table_view(tables["funnel"], lang, export=f"/api/dashboard/funnel?{q}"),
        "ages": table_view(tables["ages"], lang, export=f"/api/dashboard/ages?{q}"),
        "flagged": table_view(tables["flagged"], lang, export=f"/api/dashboard/flagged?{q}",
                              links={"site": site_link}),
    }
    whole = service.values((await service.month_figures(
        db, chosen, service.TABLE_METRICS, by="org_unit", unit_ids=[root.id]))[root.id])
    headline = [{"label": service.metric_column(m, lang).label,
                 "text": shown(whole[m], CATALOGUE[m].unit, lang)}
                for m in ("visits.done_ratio", "visits.coverage",
                          "submissions.avg_percentage", "issues.overdue_count")]
    parent = await db.get(OrgUnit, root.parent_id) if root.parent_id else None
    up = None
    if parent is not None and (principal.org_scope == "city" or (
            principal.org_scope == "org_subtree"
            and parent.path.startswith(principal.org_path))):
        up = {"href": views.href("/dashboard", lang, month=chosen, unit=parent.id),
              "label": parent.name_en if lang == "en" else parent.name_zh}
    charts = {
        "units": _chart_data(tables["units"], "name",
                             ["visits.done_ratio", "visits.coverage"]),
        "trend": _trend_data(tables["trend"], tree, lang),
        "items": _heat_data(tables["items"]),
        "funnel": [{"label": r["label"], "count": r["count"]} for r in tables["funnel"].rows],
        "map": {**points, "tiles": settings.map_tiles_url},
    }
    for i, chart in enumerate(grades.trend_charts(tables["grades_trend"], tree, lang)):
        charts[f"grades_trend-{i}"] = chart
    months = service.months_back(month_or_this(settings), 13)[::-1]
    return render(
        request, "dashboard.html", lang, principal, active="dashboard",
        title=say(lang, "dashboard_title", unit=tree.name(root.id, lang)),
        csp=map_csp(settings.map_tiles_url) if settings.map_tiles_url else None,
        unit_name=tree.name(root.id, lang), unit_id=root.id, month=chosen, months=months,
        up=up, headline=headline, tables=shown_tables, points=points,
        dash_config={"lang": lang, "text": dict(words_table(service.DOMAIN, lang)),
                     "charts": charts},
        children=[{"id": c.id, "name": tree.name(c.id, lang)} for c in tree.children],
        grade_charts=[k for k in charts if k.startswith("grades_trend-")],
        campaigns=await campaign_pages.open_campaigns_card(db, principal, lang, settings.tz))


def month_or_this(settings: Settings) -> str:
    return service.month_or_now(None, settings.tz)


def _chart_data(t: service.Table, label: str, keys: list[str]) -> dict[str, Any]:
    return {"labels": [r[label] for r in t.rows],
            "series": [{"key": k, "name": next(c.label for c in t.columns if c.key == k),
                        "data": [r.get(k) for r in t.rows]} for k in keys]}


def _trend_data(t: service.Table, tree: service.Subtree, lang: str) -> dict[str, Any]:
    months = sorted({r["month"] for r in t.rows})
    key = "visits.done_ratio"
    series = []
    for uid in [tree.root.id, *[c.id for c in tree.children]]:
        by_month = {r["month"]: r.get(key) for r in t.rows if r["unit_id"] == uid}
        series.append({"name": tree.name(uid, lang),
                       "data": [by_month.get(m) for m in months]})
    return {"months": months, "metric": next(c.label for c in t.columns if c.key == key),
            "series": series}


def _heat_data(t: service.Table) -> dict[str, Any]:
    unit_cols = [c for c in t.columns if c.key.startswith("u") and c.key[1:].isdigit()]
    return {"items": [r["item"] for r in t.rows], "units": [c.label for c in unit_cols],
            "cells": [[x, y, r.get(c.key, 0)] for y, r in enumerate(t.rows)
                      for x, c in enumerate(unit_cols)]}


# -- a person's month -----------------------------------------------------------------------------

async def _month_page(request: Request[Any, Any, Any], db: AsyncSession, *,
                      settings: Settings, principal: Principal, user_id: int | None,
                      month: str | None) -> Response[str]:
    lang = request_language(request)
    person = await service.person_in_scope(db, principal, user_id)
    chosen = service.month_or_now(month, settings.tz)
    pm = await service.person_month(db, person, chosen, lang)
    own = person.id == principal.user_id
    figures = [{"label": service.metric_column(m, lang).label,
                "about": CATALOGUE[m].description.get(lang, ""),
                "text": shown(pm.figures[m], CATALOGUE[m].unit, lang), "metric": m}
               for m in service.PERSON_METRICS]
    q = _query(month=chosen, user=None if own else person.id, lang=lang)
    open_issues: list[Any] = []
    total_issues = 0
    if own:
        found = await issues.my_issues(db, replace(principal, language=lang),
                                       now=datetime.now(UTC), as_="assignee", status=NOT_DONE,
                                       page=1, per_page=MY_ISSUES)
        open_issues = [views.issue_card(msgspec_to_dict(i), lang, settings.tz, actions=())
                       for i in found.items]
        total_issues = found.total
    graded = [_grade_card(g, lang) for g in
              await grades.person_grades(db, principal, person.id, chosen)]
    title = say(lang, "my_month_title") if own else \
        say(lang, "person_month_title", name=person.display_name)
    return render(
        request, "month.html", lang, principal, active="my_month" if own else "dashboard",
        title=title, person=person, unit_name=pm.unit_name, month=chosen, own=own,
        figures=figures, left_visits=pm.left_visits, left_sites=pm.left_sites,
        planned=pm.planned,
        sites=table_view(pm.sites, lang, export=f"/api/dashboard/my_sites?{q}"),
        funnel=table_view(pm.funnel, lang, export=f"/api/dashboard/my_funnel?{q}"),
        month_api=f"/api/dashboard/month?{q}",
        form_action="/me/month" if own else f"/dashboard/people/{person.id}",
        open_issues=open_issues, total_issues=total_issues, graded=graded,
        all_issues=views.href("/me/issues", lang),
        back=views.href("/dashboard", lang, month=chosen) if not own else None,
        months=service.months_back(month_or_this(settings), 13)[::-1],
        dash_config={"lang": lang, "text": dict(words_table(service.DOMAIN, lang)),
                     "charts": {}})


def _grade_card(g: Any, lang: str) -> dict[str, Any]:
    """A grade in a few lines: the OKR, the grade and score, what it was made of."""
    return {"okr": pick(g.okr_title, lang, g.okr_id), "period": g.period,
            "grade_id": g.grade or "—", "grade": pick(g.grade_title, lang, "") if g.grade
            else "", "score": shown(g.score, "ratio", lang), "frozen": g.frozen,
            "lines": [pick(line, lang) for line in g.explanation],
            "href": views.href(grades.explanation_path(g.okr_id, g.period, g.subject_kind,
                                              g.subject_id), lang)}


def msgspec_to_dict(value: Any) -> dict[str, Any]:
    import msgspec

    out: dict[str, Any] = msgspec.to_builtins(value)
    return out


@get("/me/month", include_in_schema=False)
async def my_month_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                        settings: Settings, principal: Principal, month: str | None = None
                        ) -> Response[str]:
    """My month: my figures with what they mean, what is left to do, my open issues."""
    return await _month_page(request, db, settings=settings, principal=principal,
                             user_id=None, month=month)


@get("/dashboard/people/{user_id:int}", include_in_schema=False)
async def person_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                      settings: Settings, principal: Principal, user_id: Id,
                      month: str | None = None) -> Response[str]:
    """One person's month, for a reader whose dashboard scope covers them (404 otherwise)."""
    return await _month_page(request, db, settings=settings, principal=principal,
                             user_id=user_id, month=month)


# -- a grade explained ----------------------------------------------------------------------------

DRILL_ROWS = 10


@get("/okr/{okr_id:str}/{period:str}/{subject_kind:str}/{subject_id:int}",
     include_in_schema=False)
async def grade_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                     principal: Principal, okr_id: str, period: str, subject_kind: str,
                     subject_id: Id) -> Response[str]:
    """One grade explained: the overall score and grade, each objective and key result with
    its value, target, the facts it came from and its share; under each key result the
    visits, submissions or issues behind it, each linking to its page. Scope: the OKR
    slice's (one's own; a reader's scope; else 404)."""
    lang = request_language(request)
    g = await okr.grade_of(db, principal, okr_id=okr_id, period=period,
                           subject_kind=subject_kind, subject_id=subject_id)
    objectives = []
    surveys: dict[str, Any] = {}  # the surveys' contents the responses behind name
    for o in g.objectives:
        krs = []
        for k in o.key_results:
            behind = await drill.rows_behind(
                db, principal, okr_id=okr_id, period=period, subject_kind=subject_kind,
                subject_id=subject_id, key_result_id=k.id, tz=settings.tz, page=1,
                per_page=DRILL_ROWS)
            krs.append({
                "title": pick(k.title, lang, k.id), "metric": pick(k.metric_title, lang),
                "value": shown(k.value, k.unit, lang), "target": shown(k.target, k.unit, lang),
                "grade": grades.grade_named(k.grade, k.grade_title, lang) or "—",
                "score": shown(k.score, "ratio", lang),
                "weight": shown(k.weight_used, "ratio", lang),
                "facts": pick(k.sums_in_words, lang), "line": pick(k.line, lang),
                "left_out": k.left_out,
                "rows": [await _behind_row(db, r, lang, settings, surveys)
                         for r in behind.items],
                "total": behind.total})
        objectives.append({"title": pick(o.title, lang, o.id), "line": pick(o.line, lang),
                           "score": shown(o.score, "ratio", lang),
                           "weight": shown(o.weight_used, "ratio", lang),
                           "key_results": krs})
    subject = pick(g.name, lang, str(subject_id))
    back = views.href("/me/month", lang) if subject_kind == "person" \
        and subject_id == principal.user_id else views.href("/dashboard", lang)
    return render(
        request, "grade.html", lang, principal, active="dashboard"
        if service.may_see_dashboard(principal) else "my_month",
        title=say(lang, "grade_title", subject=subject),
        okr_title=pick(g.okr_title, lang, okr_id), period=g.period, subject=subject,
        first_day=g.first_day, last_day=g.last_day,
        grade_id=g.grade or "—", grade=pick(g.grade_title, lang, "") if g.grade else "",
        score=shown(g.score, "ratio", lang), frozen=g.frozen,
        lines=[pick(line, lang) for line in g.explanation], objectives=objectives,
        back=back, dash_config={"lang": lang, "text": {}, "charts": {}})


async def _behind_row(db: AsyncSession, r: DrillRow, lang: str, settings: Settings,
                      surveys: dict[str, Any]) -> dict[str, Any]:
    """One record behind a key result as the grade page lists it. A campaign's survey
    response: the survey, the shop, its score and outcome level (no page, no respondent)."""
    row: dict[str, Any] = {
        "kind": say(lang, f"row_{r.kind}"), "title": r.title,
        "at": views.local(r.at, settings.tz) if r.at else "", "status": r.status,
        "href": views.href(r.link, lang) if r.link.startswith("/") else None, "detail": ""}
    if r.kind != "survey_response":
        return row
    key = r.definition_id or ""
    if key not in surveys:
        surveys.update(await current_contents_for(db, {key}))
    content = surveys.get(key) or {}
    outcomes = content.get("outcomes") or []
    levels = {str(lv.get("id")): lv for lv in (outcomes[0].get("levels") or [])
              } if outcomes and isinstance(outcomes[0], dict) else {}
    level = levels.get(r.status)
    parts = [pick(content.get("title"), lang, key)]
    if r.title:
        parts.append(r.title)
    row["title"] = say(lang, "row_sep").join(parts)
    details = []
    if r.value is not None:
        details.append(say(lang, "row_score", score=shown(r.value, "percent", lang)))
    if r.status:
        details.append(say(lang, "row_outcome", level=pick(
            (level or {}).get("label"), lang, r.status)))
    row["detail"] = say(lang, "row_sep").join(details)
    return row


# -- a site's history (where a flagged check-in is reviewed) ------------------------------------

HISTORY_PAGE = 50


@get("/sites/{site_id:int}/history", include_in_schema=False)
async def site_history_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                            settings: Settings, principal: Principal, site_id: Id,
                            page: PageNumber = 1) -> Response[str]:
    """The visits and forms at a site, newest first, flagged check-ins marked, each linking
    to its page (scope: the sites service's, 404 outside)."""
    lang = request_language(request)
    site = await sites.get_site(db, principal, site_id)
    entries, total = await sites.site_history(db, principal, site_id, limit=HISTORY_PAGE,
                                              offset=(page - 1) * HISTORY_PAGE)
    contents = await current_contents_for(db, {e.definition_id for e in entries
                                               if e.definition_id})
    rows = []
    for e in entries:
        if e.kind == "visit":
            what = say(lang, "entry_visit")
            result = say(lang, "flagged_yes") if e.flagged else ""
            href = views.href(f"/visits/{e.id}", lang)
        else:
            what = pick((contents.get(e.definition_id or "") or {}).get("title"), lang,
                        e.definition_id or "")
            result = shown(e.percentage, "percent", lang) if e.percentage is not None \
                else ("" if e.score_value is None else format_number(e.score_value, 1))
            href = views.href(f"/submissions/{e.id}", lang)
        rows.append({"at": views.local(e.at, settings.tz), "kind": what,
                     "person": e.display_name, "result": result, "href": href,
                     "flagged": bool(e.flagged)})
    table = service.Table("site_history", say(lang, "site_history_title", site=site.name), [
        service.Column("at", say(lang, "col_time"), "month"),
        service.Column("kind", say(lang, "col_entry"), "link"),
        service.Column("result", say(lang, "col_result")),  # a flagged check-in in sight
        service.Column("person", say(lang, "col_person"))], rows)
    view = table_view(table, lang, export=None, links={"kind": lambda r: r["href"]})
    pager = views.pager(page, HISTORY_PAGE, total,
                        lambda n: views.href(f"/sites/{site_id}/history", lang, page=n),
                        words_table(service.DOMAIN, lang)["entries_total"])
    return render(request, "site_history.html", lang, principal, active="dashboard",
                  title=table.title, site=site, table=view, pager=pager,
                  panels=await panels_for(db, principal, site_id, lang),
                  back=views.href("/dashboard", lang),
                  dash_config={"lang": lang, "text": {}, "charts": {}})


async def current_contents_for(db: AsyncSession, ids: set[str]) -> dict[str, Any]:
    """The current content of these standards and surveys (their titles)."""
    out: dict[str, Any] = {}
    for kind in ("standard", "survey"):
        found = await current_contents(db, kind)
        out.update({k: v for k, v in found.items() if k in ids})
    return out


def handlers(settings: Settings) -> list[Any]:
    pages = Router(path="/", route_handlers=[dashboard_page, my_month_page, person_page,
                                             grade_page, site_history_page],
                   exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                                       HTTPException: error_page})
    modules = Path(settings.node_modules_dir)
    return [pages,
            create_static_files_router(path=DASH_URL, directories=[STATIC_DIR],
                                       name="dashboards_static", opt=PUBLIC),
            # installed from the npm registry through package-lock.json (./dev setup)
            *[create_static_files_router(path=f"/static/vendor/{name}",
                                         directories=[modules.joinpath(*parts)],
                                         name=f"vendor_{name}", opt=PUBLIC)
              for name, parts in VENDOR.items()]]

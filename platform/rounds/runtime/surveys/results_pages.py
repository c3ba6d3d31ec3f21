"""A survey campaign's results page (``/surveys/{id}/results``), its exports
(``/surveys/{id}/results.csv`` and ``.xlsx``, one row per response) and its JSON
(``GET /api/survey-campaigns/{id}/results``).

Who reads them: a role with ``survey.manage`` over a company scope. The city's (a city
leader, an administrator) read every response; a subtree's (``org_subtree``, should such a
role be given ``survey.manage``) read only the responses about shops of their units (a
consumer's response through a campaign-wide link, about no shop, is not theirs). Industry
users (``public`` scope) read the industry portal (:mod:`rounds.runtime.portals.industry`)
instead: here they get 403, like every other role.

Server-rendered in the field pages' chrome; the charts (ECharts from node_modules under
``/static/vendor``) are drawn by ``results_static/results.js`` from the figures in the page,
each with its table beside it (the table is what a screen reader and a printout read). The
free-text list is searched on the server (``?q=``, the form sends it on Enter) and paged.
Words: the ``survey_results`` catalogue.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from litestar import MediaType, Request, Response, Router, get
from litestar.exceptions import HTTPException
from litestar.response import Stream
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.errors import RoundsError
from rounds.i18n import text as i18n_text
from rounds.rules.alerts import format_number
from rounds.runtime.access import SUBTREE_SCOPES, Forbidden, NotAuthenticated, Principal
from rounds.runtime.fieldwork import chrome, views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.surveys import results
from rounds.runtime.surveys.models import SurveyCampaign
from rounds.settings import Settings
from rounds.web.exports import FORMATS, Sheet, csv_line, disposition, send_file
from rounds.web.language import request_language
from rounds.web.paging import Page
from rounds.web.params import Id, PageNumber

DOMAIN = results.DOMAIN
STATIC_DIR = Path(__file__).resolve().parent / "results_static"
RESULTS_URL = "/static/survey-results"
PUBLIC = {"public": True}
PER_PAGE = 20
MANAGE = "survey.manage"
TAGS = ["surveys"]


def say(lang: str, key: str, /, **fields: Any) -> str:
    return i18n_text(DOMAIN, lang, key, **fields)


# -- who may read --------------------------------------------------------------------------

def may_read_results(principal: Principal) -> bool:
    """``survey.manage`` over a company scope (the city's, or a subtree's)."""
    return principal.can(MANAGE) and principal.org_scope in SUBTREE_SCOPES


async def reader_units(db: AsyncSession, principal: Principal) -> list[int] | None:
    """The units whose responses the reader sees (None: every response); 403 for one who may
    not read results at all."""
    if not may_read_results(principal):
        raise Forbidden(f"your role ({principal.role_id}) may not read survey results")
    if principal.org_scope == "city":
        return None
    return await results.subtree_units(db, principal.org_path)


# -- how figures read -------------------------------------------------------------------------

def percent(share: float | None, lang: str, digits: int = 0) -> str:
    return "—" if share is None else say(lang, "percent", n=format_number(share * 100, digits))


def number(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else format_number(x, digits)


def day(value: dt.date | None, lang: str) -> str:
    return "—" if value is None else say(lang, "date", y=value.year, m=value.month, d=value.day)


def score_text(group: results.ScoreGroup, model: str, lang: str) -> str:
    if group.suppressed:
        return say(lang, "too_few")
    if model == "percentage":
        return percent(None if group.mean_percentage is None else group.mean_percentage / 100,
                       lang, 1)
    return number(group.mean_value)


def group_rows(groups: Sequence[results.ScoreGroup], model: str, lang: str
               ) -> list[dict[str, Any]]:
    return [{"key": g.key, "name": g.name, "count": g.count, "suppressed": g.suppressed,
             "score": score_text(g, model, lang),
             "score_value": (g.mean_percentage if model == "percentage" else g.mean_value),
             "levels": [{"label": lv.label, "count": lv.count,
                         "share": percent(lv.share, lang)} for lv in g.levels]}
            for g in groups]


def question_view(q: results.Question, lang: str) -> dict[str, Any]:
    chart = None
    if q.choices and not q.suppressed:
        chart = {"labels": [c.label for c in q.choices], "values": [c.count for c in q.choices]}
    return {"id": q.item_id, "type": q.type, "title": q.title, "answered": q.answered,
            "na": q.not_applicable, "unanswered": q.unanswered, "suppressed": q.suppressed,
            "choices": [{"label": c.label, "count": c.count, "share": percent(c.share, lang)}
                        for c in q.choices],
            "mean": number(q.mean, 2) if q.mean is not None else None,
            "range": (say(lang, "range_value", lo=number(q.min, 2), hi=number(q.max, 2))
                      if q.min is not None and q.max is not None else None),
            "chart": chart, "text": q.type in results.TEXT_TYPES}


def levels_chart(scores: results.Scores) -> dict[str, Any] | None:
    """The outcome levels as stacked bars: all responses, then each station."""
    if not scores.overall.levels:
        return None
    groups = [scores.overall, *[g for g in scores.by_station if not g.suppressed]]
    return {"labels": [g.name for g in groups],
            "series": [{"name": lv.label, "values": [g.levels[i].count for g in groups],
                        "tone": scores.level_tones[i] if i < len(scores.level_tones) else None}
                       for i, lv in enumerate(scores.overall.levels)]}


# -- the page ------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def environment() -> Environment:
    return chrome.page_environment(PackageLoader("rounds.runtime.surveys", "templates"),
                                   DOMAIN, results_url=RESULTS_URL)


SCRIPT_WORDS = ("chart_count", "chart_responses")


def script_config(lang: str) -> dict[str, Any]:
    return {"lang": lang, "text": {k: say(lang, k) for k in SCRIPT_WORDS}}


def render(request: Request[Any, Any, Any], template: str, lang: str, principal: Principal,
           *, title: str, active: str = "", **values: Any) -> Response[str]:
    html = environment().get_template(template).render(
        **chrome.context(request, lang, principal, active), title=title,
        results_config=script_config(lang), **values)
    return Response(html, media_type=MediaType.HTML, headers=dict(chrome.PRIVATE))


def status_text(campaign: SurveyCampaign, lang: str) -> str:
    return say(lang, f"status_{campaign.status}")


@get("/surveys/{campaign_id:int}/results", include_in_schema=False)
async def results_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                       settings: Settings, principal: Principal, campaign_id: Id,
                       q: str = "", page: PageNumber = 1) -> Response[str]:
    """A campaign's results: responses against the target, outcome levels, each question,
    scores by station, staff member and grade, the free text (searchable), the exports."""
    lang = request_language(request)
    units = await reader_units(db, principal)
    campaign = await results.campaign_of(db, campaign_id)
    res = await results.campaign_results(db, campaign, lang=lang, tz=settings.tz, units=units)
    q = q.strip()[:200]
    texts, total = await results.free_texts(db, campaign, lang=lang, q=q, limit=PER_PAGE,
                                            offset=(page - 1) * PER_PAGE, units=units)
    ov, sc = res.overview, res.scores
    base = f"/surveys/{campaign.id}/results"
    pager = views.pager(page, PER_PAGE, total,
                        lambda n: views.href(base, lang, q=q or None, page=n) + "#texts",
                        say(lang, "texts_pager"))
    return render(
        request, "results.html", lang, principal, title=say(lang, "title", name=campaign.title),
        campaign={"id": campaign.id, "title": campaign.title, "survey": ov.survey_title,
                  "status": status_text(campaign, lang),
                  "period": say(lang, "period_value", start=day(campaign.period_start, lang),
                                end=day(campaign.period_end, lang)),
                  "audience": say(lang, f"audience_{campaign.audience}")},
        overview={"count": ov.count, "target": ov.target,
                  "text": say(lang, "responses_value", n=ov.count, target=ov.target,
                              rate=percent(ov.rate, lang)),
                  "kinds": [{"label": k.label, "count": k.count} for k in ov.by_kind],
                  "days": (say(lang, "days_value", first=day(ov.first_day, lang),
                               last=day(ov.last_day, lang)) if ov.first_day else None)},
        scope_note=say(lang, "scope_subtree") if units is not None else None,
        scores={"model": sc.model, "outcome_title": sc.outcome_title,
                "lower_better": sc.direction == "lower_better",
                "level_labels": [lv.label for lv in sc.overall.levels],
                "overall": group_rows([sc.overall], sc.model, lang)[0],
                "groups": [("station", say(lang, "by_station"), group_rows(sc.by_station,
                                                                           sc.model, lang)),
                           ("staff", say(lang, "by_staff"), group_rows(sc.by_staff, sc.model,
                                                                       lang)),
                           ("grade", say(lang, "by_grade"), group_rows(sc.by_grade, sc.model,
                                                                       lang))]},
        levels_chart=levels_chart(sc),
        questions=[question_view(x, lang) for x in res.questions],
        texts=[{"at": views.local(t.at, settings.tz), "question": t.question, "text": t.text,
                "shop": t.site_name} for t in texts],
        texts_total=total, q=q, pager=pager,
        has_texts=any(x.type in results.TEXT_TYPES for x in res.questions), search_action=base,
        exports={fmt: views.href(f"{base}.{fmt}", lang) for fmt in FORMATS})


# -- the exports -------------------------------------------------------------------------------

async def _rows(sessions: async_sessionmaker[AsyncSession], campaign: SurveyCampaign,
                export: results.Export, units: Sequence[int] | None
                ) -> AsyncIterator[list[Any]]:
    async with sessions() as db:
        result = await db.stream(results.export_query(campaign, units, export.lang))
        async for r in result:
            yield export.row(r)


async def _csv(sessions: async_sessionmaker[AsyncSession], campaign: SurveyCampaign,
               export: results.Export, units: Sequence[int] | None) -> AsyncIterator[bytes]:
    yield ("\ufeff" + csv_line(export.labels)).encode("utf-8")
    async for values in _rows(sessions, campaign, export, units):
        yield csv_line(values).encode("utf-8")


async def _xlsx(sessions: async_sessionmaker[AsyncSession], campaign: SurveyCampaign,
                export: results.Export, units: Sequence[int] | None) -> AsyncIterator[bytes]:
    sheet = Sheet(export.filename)
    try:
        sheet.header(export.labels)
        async for values in _rows(sessions, campaign, export, units):
            sheet.write(values)
        path = sheet.close()
    except BaseException:
        os.unlink(sheet.path)
        raise
    for chunk in send_file(path):
        yield chunk


def _export_handler(fmt: str) -> Any:
    @get(f"/surveys/{{campaign_id:int}}/results.{fmt}", include_in_schema=False,
         name=f"survey_results_{fmt}")
    async def handler(request: Request[Any, Any, Any], *, db: AsyncSession,
                      settings: Settings, principal: Principal, campaign_id: Id) -> Stream:
        sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
        lang = request_language(request)
        units = await reader_units(db, principal)
        campaign = await results.campaign_of(db, campaign_id)
        export = await results.export_of(db, campaign, lang=lang, tz=settings.tz)
        body = _csv(sessions, campaign, export, units) if fmt == "csv" \
            else _xlsx(sessions, campaign, export, units)
        return Stream(body, media_type=FORMATS[fmt],
                      headers={**disposition(f"{export.filename}.{fmt}"), **chrome.PRIVATE})

    return handler


# -- the JSON ------------------------------------------------------------------------------------

@get("/api/survey-campaigns/{campaign_id:int}/results", tags=TAGS,
     summary="A survey campaign's results: responses, questions, scores and outcome levels")
async def results_api(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings,
                      principal: Principal, campaign_id: Id) -> results.Results:
    lang = request_language(request)
    units = await reader_units(db, principal)
    campaign = await results.campaign_of(db, campaign_id)
    return await results.campaign_results(db, campaign, lang=lang, tz=settings.tz, units=units)


@get("/api/survey-campaigns/{campaign_id:int}/results/texts", tags=TAGS,
     summary="A survey campaign's free-text answers, newest first, searchable (?q=)")
async def texts_api(request: Request[Any, Any, Any], db: AsyncSession, principal: Principal,
                    campaign_id: Id, *, q: str = "", page: PageNumber = 1
                    ) -> Page[results.TextAnswer]:
    lang = request_language(request)
    units = await reader_units(db, principal)
    campaign = await results.campaign_of(db, campaign_id)
    items, total = await results.free_texts(db, campaign, lang=lang, q=q, limit=PER_PAGE,
                                            offset=(page - 1) * PER_PAGE, units=units)
    return Page(items=items, total=total, page=page, per_page=PER_PAGE)


def handlers(settings: Settings) -> list[Any]:
    pages = Router(path="/", route_handlers=[results_page, _export_handler("csv"),
                                             _export_handler("xlsx")],
                   exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                                       HTTPException: error_page})
    return [pages, results_api, texts_api,
            create_static_files_router(path=RESULTS_URL, directories=[STATIC_DIR],
                                       name="survey_results_static", opt=PUBLIC)]

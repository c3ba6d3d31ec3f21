"""The industry portal (``/industry``): survey results and the market's demand trends for
industry users (the ``industry_user`` role: ``public`` scope, ``report.view_scope``), in
figures aggregated over shops and periods only.

What an industry user sees: every survey campaign that is open or closed (never a draft),
whatever its audience (consumers, retailers, industry), through
:func:`rounds.runtime.surveys.results.industry_view` only: counts, each question's
distribution, mean scores and outcome levels overall, by station and by shop grade band. A
group of fewer responses than ``settings.surveys.min_group`` (``ROUNDS_SURVEYS_MIN_GROUP``)
is shown as "too few responses" with no figure; a campaign with fewer responses in all shows
nothing but its count. Never a free-text answer, a single response, a staff member's or a
shop's name, nor a minimum or maximum (a single response's value). The demand trends read
the staff's market survey (``market_price_stock``) by month and station, under the same rule.

Who may read: industry users, and those who may read full results (``survey.manage`` over a
company scope), who see here what the industry sees. Words: ``survey_results``.

Pages: ``/industry`` (the campaigns and the trends, ``?months=`` 1–24, default 6) and
``/industry/surveys/{id}``; JSON: ``GET /api/industry/surveys``,
``GET /api/industry/surveys/{id}``, ``GET /api/industry/trends``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Annotated, Any

from jinja2 import ChoiceLoader, Environment, PackageLoader
from litestar import MediaType, Request, Response, Router, get
from litestar.exceptions import HTTPException
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import utcnow
from rounds.errors import RoundsError
from rounds.runtime.access import Forbidden, NotAuthenticated, Principal
from rounds.runtime.fieldwork import chrome, views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.surveys import results
from rounds.runtime.surveys.results_pages import (
    RESULTS_URL,
    group_rows,
    levels_chart,
    may_read_results,
    number,
    percent,
    question_view,
    say,
    script_config,
)
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.params import Id

TAGS = ["industry"]
MONTH_CHOICES = (3, 6, 12)
Months = Annotated[int, Parameter(ge=1, le=24, description="How many months, up to this one")]


def may_use_industry(principal: Principal) -> bool:
    """An industry user (``public`` scope with ``report.view_scope``), or a reader of full
    results."""
    return (principal.org_scope == "public" and principal.can("report.view_scope")) \
        or may_read_results(principal)


def require_industry(principal: Principal) -> None:
    if not may_use_industry(principal):
        raise Forbidden(f"your role ({principal.role_id}) may not read the industry portal")


@dataclass(frozen=True)
class CampaignLine:
    id: int
    title: str
    survey_title: str
    audience: str
    status: str
    count: int
    suppressed: bool


async def campaign_lines(db: AsyncSession, *, lang: str, settings: Settings
                         ) -> list[CampaignLine]:
    out = []
    for c in await results.industry_campaigns(db):
        content = await results.survey_content(db, c)
        ov = await results.overview(db, c, content, lang=lang, tz=settings.tz)
        out.append(CampaignLine(c.id, c.title, ov.survey_title, c.audience, c.status, ov.count,
                                ov.count < settings.surveys.min_group))
    return out


async def trends(db: AsyncSession, *, lang: str, settings: Settings, months: int
                 ) -> results.DemandTrends:
    today = utcnow().astimezone(settings.tz).date()
    return await results.demand_trends(db, lang=lang, tz=settings.tz, today=today,
                                       months=months, min_group=settings.surveys.min_group)


# -- pages ---------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def environment() -> Environment:
    loader = ChoiceLoader([PackageLoader("rounds.runtime.portals", "templates"),
                           PackageLoader("rounds.runtime.surveys", "templates")])
    return chrome.page_environment(loader, results.DOMAIN, results_url=RESULTS_URL)


def render(request: Request[Any, Any, Any], template: str, lang: str, principal: Principal,
           *, title: str, **values: Any) -> Response[str]:
    html = environment().get_template(template).render(
        **chrome.context(request, lang, principal, "industry"), title=title,
        results_config=script_config(lang), **values)
    return Response(html, media_type=MediaType.HTML, headers=dict(chrome.PRIVATE))


def trends_view(t: results.DemandTrends, lang: str) -> dict[str, Any]:
    def month_name(key: str) -> str:
        y, m = key.split("-")
        return say(lang, "month_value", y=y, m=int(m))

    labels = [month_name(k) for k in t.months]
    return {
        "months": labels, "count": t.count,
        "tight_chart": {"labels": labels, "percent": True, "series": [
            {"name": b.name, "values": [None if c.tight_share is None
                                        else round(c.tight_share * 100, 1) for c in b.months]}
            for b in t.brands]} if t.brands else None,
        "price_chart": {"labels": labels, "series": [
            {"name": b.name, "values": [None if c.mean_price is None else round(c.mean_price, 1)
                                        for c in b.months]} for b in t.brands]}
        if t.brands else None,
        "brands": [{"name": b.name, "cells": [
            {"tight": say(lang, "too_few") if c.suppressed else percent(c.tight_share, lang),
             "out": "" if c.suppressed else percent(c.out_share, lang),
             "price": "" if c.suppressed else number(c.mean_price), "suppressed": c.suppressed}
            for c in b.months]} for b in t.brands],
        "sales_labels": [c.label for c in (t.sales[0].sales if t.sales else [])],
        "sales": [{"month": month_name(m.month), "count": m.count, "suppressed": m.suppressed,
                   "cells": [percent(c.share, lang) for c in m.sales]} for m in t.sales],
        "stations": [{"name": s.name, "count": s.count, "suppressed": s.suppressed,
                      "tight": percent(s.tight_share, lang),
                      "rising": percent(s.rising_share, lang),
                      "falling": percent(s.falling_share, lang)} for s in t.stations],
    }


@get("/industry", include_in_schema=False)
async def industry_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                        settings: Settings, principal: Principal, months: Months = 6
                        ) -> Response[str]:
    """The campaigns' results an industry user may read, and the demand trends."""
    lang = request_language(request)
    require_industry(principal)
    lines = await campaign_lines(db, lang=lang, settings=settings)
    t = await trends(db, lang=lang, settings=settings, months=months)
    return render(
        request, "industry.html", lang, principal, title=say(lang, "industry_title"),
        min_group=settings.surveys.min_group, months=months,
        month_choices=sorted({*MONTH_CHOICES, months}),
        campaigns=[{"title": c.title, "survey": c.survey_title,
                    "audience": say(lang, f"audience_{c.audience}"),
                    "status": say(lang, f"status_{c.status}"),
                    "count": say(lang, "too_few") if c.suppressed
                    else say(lang, "responses_n", n=c.count),
                    "href": views.href(f"/industry/surveys/{c.id}", lang)} for c in lines],
        trends=trends_view(t, lang), action="/industry")


@get("/industry/surveys/{campaign_id:int}", include_in_schema=False)
async def industry_survey_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                               settings: Settings, principal: Principal, campaign_id: Id
                               ) -> Response[str]:
    """One campaign's results as the industry sees them."""
    lang = request_language(request)
    require_industry(principal)
    campaign = await results.campaign_of(db, campaign_id, drafts=False)
    view = await results.industry_view(db, campaign, lang=lang, tz=settings.tz,
                                       min_group=settings.surveys.min_group)
    sc = view.scores
    scores = None
    if sc is not None:
        scores = {"model": sc.model, "outcome_title": sc.outcome_title,
                  "lower_better": sc.direction == "lower_better",
                  "level_labels": [lv.label for lv in sc.overall.levels],
                  "overall": group_rows([sc.overall], sc.model, lang)[0],
                  "groups": [("station", say(lang, "by_station"),
                              group_rows(sc.by_station, sc.model, lang)),
                             ("grade", say(lang, "by_grade"),
                              group_rows(sc.by_grade, sc.model, lang))]}
    return render(
        request, "industry_survey.html", lang, principal,
        title=say(lang, "industry_survey_title", name=campaign.title),
        back=views.href("/industry", lang), min_group=view.min_group,
        campaign={"survey": view.survey_title,
                  "audience": say(lang, f"audience_{view.audience}"),
                  "status": say(lang, f"status_{view.status}"),
                  "count": view.count, "target": view.target,
                  "text": say(lang, "responses_value", n=view.count, target=view.target,
                              rate=percent(view.rate, lang))},
        suppressed=view.suppressed, scores=scores,
        levels_chart=levels_chart(sc) if sc is not None else None,
        questions=[question_view(q, lang) for q in view.questions])


# -- JSON ----------------------------------------------------------------------------------------

@get("/api/industry/surveys", tags=TAGS,
     summary="The survey campaigns an industry user may read, with their response counts")
async def industry_surveys_api(request: Request[Any, Any, Any], db: AsyncSession,
                               settings: Settings, principal: Principal
                               ) -> list[CampaignLine]:
    require_industry(principal)
    return await campaign_lines(db, lang=request_language(request), settings=settings)


@get("/api/industry/surveys/{campaign_id:int}", tags=TAGS,
     summary="A campaign's results aggregated for industry users (minimum group size kept)")
async def industry_survey_api(request: Request[Any, Any, Any], db: AsyncSession,
                              settings: Settings, principal: Principal, campaign_id: Id
                              ) -> results.IndustryResults:
    require_industry(principal)
    campaign = await results.campaign_of(db, campaign_id, drafts=False)
    return await results.industry_view(db, campaign, lang=request_language(request),
                                       tz=settings.tz, min_group=settings.surveys.min_group)


@get("/api/industry/trends", tags=TAGS,
     summary="Demand trends from the market survey by month and station (minimum group kept)")
async def industry_trends_api(request: Request[Any, Any, Any], db: AsyncSession,
                              settings: Settings, principal: Principal, months: Months = 6
                              ) -> results.DemandTrends:
    require_industry(principal)
    return await trends(db, lang=request_language(request), settings=settings, months=months)


def handlers(settings: Settings) -> list[Any]:
    pages = Router(path="/", route_handlers=[industry_page, industry_survey_page],
                   exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                                       HTTPException: error_page})
    return [pages, industry_surveys_api, industry_survey_api, industry_trends_api]

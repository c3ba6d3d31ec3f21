"""The public pages of closed check campaigns (一公开), open to anyone, no sign-in:

- ``/public/campaigns``: the closed campaigns, the last closed first, a page at a time;
- ``/public/campaigns/{id}``: a campaign's record (per stratum the counts, each drawn site
  and its outcome, how the sites were drawn and how to verify it), and the sites table as
  ``/public/campaigns/{id}.csv`` and ``.xlsx`` (the one writer, :mod:`rounds.web.exports`);
- ``/public/campaigns/{id}/draws/{n}/inputs.json`` and ``result.json``: a draw's inputs
  (the bytes exactly as stored) and result, enough to re-run it (docs/draws.md).

Server-rendered in the field pages' chrome without the navigation (no one is signed in),
with the language switch; no script and one small stylesheet, so a cheap phone shows it at
once. What is shown is :mod:`~rounds.runtime.campaigns.publication`'s: a campaign that is not
closed is 404, as one that does not exist. Words: the ``publication`` catalogue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from litestar import MediaType, Request, Response, Router, get
from litestar.exceptions import HTTPException
from litestar.response import Stream
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from rounds import i18n
from rounds.db import DB_INT_MAX
from rounds.errors import NotFound, RoundsError
from rounds.i18n import pick, text
from rounds.rules.alerts import format_number
from rounds.runtime.campaigns import publication
from rounds.runtime.campaigns.publication import PublicRecord, PublicSite
from rounds.runtime.fieldwork import chrome, views
from rounds.runtime.fieldwork.pages import error_page
from rounds.settings import Settings
from rounds.web import exports
from rounds.web.language import request_language
from rounds.web.params import Id, PageNumber

DOMAIN = "publication"
PUBLIC = {"public": True}
STATIC_DIR = Path(__file__).resolve().parent / "public_static"
STATIC = "/static/publication"
BASE = "/public/campaigns"
# Anyone's page, the same for everyone: a shared cache may keep it a few minutes (a closed
# campaign changes no more; only its issues move on). Its language follows ?lang=, then a
# signed-in reader's account, then Accept-Language: a signed-in reader's copy is theirs.
CACHE = {"Cache-Control": "public, max-age=300", "Vary": "Accept-Language"}
PRIVATE = {"Cache-Control": "private, no-cache"}


def cache_headers(request: Request[Any, Any, Any]) -> dict[str, str]:
    signed_in = request.scope.get("state", {}).get("principal") is not None
    return PRIVATE if signed_in else CACHE


def say(lang: str, key: str, **values: Any) -> str:
    return i18n.text(DOMAIN, lang, key, **values)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """This slice's templates, then the field pages' and the forms engine's (the layout);
    ``_`` reads ``publication``, then ``fieldwork`` and ``common``."""
    return chrome.page_environment(PackageLoader("rounds.runtime.campaigns", "templates"),
                                   DOMAIN, publication_url=STATIC)


def render(request: Request[Any, Any, Any], template: str, lang: str, *, title: str,
           **values: Any) -> Response[str]:
    context = chrome.context(request, lang, None)
    context["home_url"] = views.href(BASE, lang)  # the brand leads to the public list
    html = environment().get_template(template).render(**context, title=title, **values)
    return Response(html, media_type=MediaType.HTML, headers=cache_headers(request))


# -- how a value reads ---------------------------------------------------------------------

def day(value: dt.date | None, lang: str) -> str:
    """A day as the reader writes it (2026年12月3日, 2026-12-03)."""
    if value is None:
        return ""
    return say(lang, "date", year=value.year, month=value.month, day=value.day)


def _local(at: dt.datetime, tz: dt.tzinfo) -> dt.date:
    return at.astimezone(tz).date()


def period(start: dt.date, end: dt.date, lang: str) -> str:
    return say(lang, "period", start=day(start, lang), end=day(end, lang))


def stratum_label(key: str, label: dict[str, str] | None, stratify_by: str | None,
                  lang: str) -> str:
    if label is not None:
        return pick(label, lang, key)
    if stratify_by == "grade":
        return say(lang, "stratum_grade", grade=key) if key else say(lang, "stratum_no_grade")
    if stratify_by == "org_unit":
        return key
    return say(lang, "stratum_all")


def score_text(s: PublicSite) -> str:
    if s.percentage is not None:
        return format_number(s.percentage, 1) + "%"
    if s.score is not None:
        return format_number(s.score, 1)
    return ""


def sample_line(record: PublicRecord, lang: str) -> str:
    sample = record.sample
    how = say(lang, "sample_count", n=sample.count) if sample.count is not None \
        else say(lang, "sample_share", percent=format_number((sample.share or 0) * 100, 1))
    parts = [how]
    if sample.stratify_by:
        parts.append(say(lang, f"stratified_{sample.stratify_by}"))
    if sample.min_per_stratum:
        parts.append(say(lang, "min_per_stratum", n=sample.min_per_stratum))
    if sample.drawn is not None:
        parts.append(say(lang, "drawn_of_eligible", drawn=sample.drawn,
                         eligible=sample.eligible or 0))
    return say(lang, "list_separator").join(parts)


# -- the sites table: one shape for the page and the exports -------------------------------

def columns(record: PublicRecord, lang: str) -> list[tuple[str, str]]:
    """(key, label) of the sites table, the outcome next to the site (a phone shows it
    without scrolling); the score only when shown, the inspectors only when named."""
    out = [("code", say(lang, "col_code")), ("name", say(lang, "col_site")),
           ("outcome", say(lang, "col_outcome"))]
    if record.publication.scores:
        out += [("score", say(lang, "col_score")), ("percentage", say(lang, "col_percentage"))]
    out += [("checked_on", say(lang, "col_checked_on")),
            ("issues_raised", say(lang, "col_issues_raised")),
            ("issues_done", say(lang, "col_issues_done")),
            ("org_unit", say(lang, "col_org_unit")), ("stratum", say(lang, "col_stratum"))]
    if record.publication.inspectors == "names":
        out.append(("inspectors", say(lang, "col_inspectors")))
    return out


def site_values(record: PublicRecord, s: PublicSite, lang: str) -> dict[str, Any]:
    """A site's cells as values (numbers stay numbers: an export parses back)."""
    stratify_by = record.sample.stratify_by
    labels = {st.key: st.label for st in record.strata}
    return {"code": s.code, "name": s.name, "org_unit": pick(s.org_unit, lang),
            "stratum": stratum_label(s.stratum, labels.get(s.stratum), stratify_by, lang),
            "checked_on": s.checked_on.isoformat() if s.checked_on else "",
            "outcome": say(lang, "outcome_surveyed" if record.form_kind == "survey"
                           and s.outcome == "checked" else f"outcome_{s.outcome}"),
            "score": s.score,
            "percentage": s.percentage, "issues_raised": s.issues_raised,
            "issues_done": s.issues_done,
            "inspectors": say(lang, "name_separator").join(s.inspectors)}


def export_rows(record: PublicRecord, lang: str) -> Iterator[list[Any]]:
    keys = [k for k, _ in columns(record, lang)]
    for s in record.sites:
        values = site_values(record, s, lang)
        yield [values[k] for k in keys]


def _capital(word: str) -> str:
    """A statistic's name as a table's row heading (the CSV's words are lower case)."""
    return word[:1].upper() + word[1:]


def public_answers(record: PublicRecord, lang: str) -> list[dict[str, Any]]:
    """A survey's answers per question as the public page shows them: counts and shares per
    choice, a number's statistics; never a text answer (publication.py leaves them out)."""
    if record.answers is None:
        return []
    out = []
    for q in record.answers.questions:
        view: dict[str, Any] = {"id": q.item_id, "title": q.title.of(lang),
                                "unit": q.unit.of(lang) if q.unit else "",
                                "answered": q.answered, "not_answered": q.not_answered}
        if q.choices:
            view["choices"] = [{"label": c.label.of(lang), "count": c.count,
                                "share": "—" if c.share is None
                                else format_number(c.share * 100, 0) + "%"}
                               for c in q.choices]
        elif q.number is not None:
            n = q.number
            view["stats"] = [{"label": _capital(text("campaign_answers", lang, k)),
                              "text": str(n.n) if k == "n" else "—" if getattr(n, k) is None
                              else format_number(getattr(n, k), 1)}
                             for k in ("n", "mean", "median", "min", "max")]
        else:
            continue
        out.append(view)
    return out


# -- the pages -------------------------------------------------------------------------------

@get(BASE, opt=PUBLIC, include_in_schema=False)
async def public_list_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                           settings: Settings, page: PageNumber = 1) -> Response[str]:
    lang = request_language(request)
    found, total = await publication.public_campaigns(db, tz=settings.tz, page=page)
    pager = views.pager(page, publication.PER_PAGE, total,
                        lambda n: views.href(BASE, lang, page=n),
                        say(lang, "campaigns_total"))
    rows = [{"title": c.title, "href": views.href(f"{BASE}/{c.id}", lang),
             "line": say(lang, "campaign_line", period=period(c.period_start, c.period_end, lang),
                         closed=say(lang, "closed_on", day=day(c.closed_on, lang)))}
            for c in found]
    return render(request, "public_campaigns.html", lang, title=say(lang, "list_title"),
                  campaigns=rows, pager=pager)


async def _record_page(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings,
                       campaign_id: int) -> Response[str]:
    lang = request_language(request)
    record = await publication.public_record(db, campaign_id, settings.tz)
    c = record.campaign
    # On the page, the score's one figure stands for both; one stratum is no column.
    hidden = {"percentage"} | ({"stratum"} if len(record.strata) < 2 else set())
    cols = [(k, label) for k, label in columns(record, lang) if k not in hidden]
    sites = []
    for s in record.sites:
        values = site_values(record, s, lang)
        values["score"] = score_text(s)
        values["checked_on"] = day(s.checked_on, lang)
        sites.append({"outcome": s.outcome, "cells": [
            {"key": k, "text": "—" if values[k] in ("", None) else str(values[k])}
            for k, _ in cols]})
    strata = [{"label": stratum_label(st.key, st.label, record.sample.stratify_by, lang),
               "drawn": st.drawn, "checked": st.checked, "passed": st.passed,
               "failed": st.failed, "issues_raised": st.issues_raised,
               "issues_done": st.issues_done} for st in record.strata]
    draws = [{"number": d.number, "algorithm": d.algorithm, "seed": d.seed,
              "digest": d.inputs_digest,
              "drawn_at": say(lang, "date_time", day=day(_local(d.drawn_at, settings.tz), lang),
                              time=d.drawn_at.astimezone(settings.tz).strftime("%H:%M")),
              "reason": d.reason, "superseded": d.superseded,
              "inputs": f"{BASE}/{c.id}/draws/{d.number}/inputs.json",
              "result": f"{BASE}/{c.id}/draws/{d.number}/result.json"}
             for d in record.draws]
    return render(
        request, "public_campaign.html", lang, title=c.title, campaign=c,
        form_title=pick(record.form_title, lang, c.form_id), survey=record.form_kind == "survey",
        answers=public_answers(record, lang),
        submissions=record.answers.submissions if record.answers else 0,
        period=period(c.period_start, c.period_end, lang),
        closed_on=day(c.closed_on, lang), sample=sample_line(record, lang),
        strata=strata, columns=[label for _, label in cols],
        sites=sites, draws=draws, draw_number=record.draw_number,
        names_shown=record.publication.inspectors == "names",
        csv=views.href(f"{BASE}/{c.id}.csv", lang), xlsx=views.href(f"{BASE}/{c.id}.xlsx", lang),
        back=views.href(BASE, lang))


def _export(record: PublicRecord, fmt: str, lang: str, cache: dict[str, str]) -> Stream:
    labels = [label for _, label in columns(record, lang)]
    rows = export_rows(record, lang)
    body = exports.encoded(exports.rows_csv(labels, rows)) if fmt == "csv" \
        else exports.rows_xlsx(say(lang, "sheet_title"), labels, rows)
    return Stream(body, media_type=exports.FORMATS[fmt],
                  headers={**exports.disposition(f"campaign-{record.campaign.id}.{fmt}"),
                           **cache})


@get(f"{BASE}/{{name:str}}", opt=PUBLIC, include_in_schema=False)
async def public_record_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                             settings: Settings, name: str) -> Response[Any]:
    """The record (``/public/campaigns/7``) or its sites table (``7.csv``, ``7.xlsx``)."""
    stem, fmt = exports.split_name(name)
    if not stem.isdigit() or not 0 < int(stem) <= DB_INT_MAX:  # an id the database holds
        raise NotFound(f"no closed check campaign {stem!r}")
    if fmt is None:
        return await _record_page(request, db, settings, int(stem))
    lang = request_language(request)
    return _export(await publication.public_record(db, int(stem), settings.tz), fmt, lang,
                   cache_headers(request))


@get(f"{BASE}/{{campaign_id:int}}/draws/{{number:int}}/inputs.json", opt=PUBLIC,
     include_in_schema=False)
async def public_inputs(db: AsyncSession, campaign_id: Id, number: Id) -> Response[bytes]:
    """The draw's inputs, the bytes exactly as stored and drawn from."""
    body = await publication.published_inputs(db, campaign_id, number)
    return Response(body, media_type=MediaType.JSON, headers={
        **exports.disposition(f"campaign-{campaign_id}-draw-{number}-inputs.json"), **CACHE})


@get(f"{BASE}/{{campaign_id:int}}/draws/{{number:int}}/result.json", opt=PUBLIC,
     include_in_schema=False)
async def public_result(db: AsyncSession, campaign_id: Id, number: Id
                        ) -> Response[dict[str, Any]]:
    """The draw's result as stored: re-running the inputs under the seed must give it."""
    body = await publication.published_result(db, campaign_id, number)
    return Response(body, media_type=MediaType.JSON, headers={
        **exports.disposition(f"campaign-{campaign_id}-draw-{number}-result.json"), **CACHE})


def handlers() -> list[Any]:
    pages = Router(path="/", route_handlers=[public_list_page, public_record_page,
                                             public_inputs, public_result],
                   exception_handlers={RoundsError: error_page, HTTPException: error_page})
    return [pages, create_static_files_router(path=STATIC, directories=[STATIC_DIR],
                                              name="publication_static", opt=PUBLIC)]

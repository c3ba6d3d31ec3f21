"""The leader's pages of check campaigns (双随机抽查): the list (``/campaigns``), a new
campaign's form (``/campaigns/new``) and a campaign (``/campaigns/{id}``: its spec in plain
words, the draw on the record, coverage and results by stratum, the drawn sites) with its
actions (draw, re-draw with a reason, close). For the roles with ``campaign.manage``.

Server-rendered in the field pages' chrome (:mod:`rounds.runtime.fieldwork.chrome`). The
forms post urlencoded bodies; ``static/campaigns.js`` sends them with the page's CSRF token
(the app's CSRF check reads the ``X-CSRF-Token`` header) and puts the answer in place: a
422 page with the mistakes, or the page a 303 leads to. The chart (ECharts, from
node_modules under ``/static/vendor``) has its table on the page. Words: the ``campaigns``
catalogue. A spec's problems come from the service with JSON pointers; each is shown next
to the form field the pointer names, in the reader's language (by field and code, never the
server's English).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from litestar import MediaType, Request, Response, Router, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, Problem, RoundsError
from rounds.i18n import pick
from rounds.i18n import text as i18n_text
from rounds.pointer import nearest
from rounds.rules.alerts import format_number
from rounds.runtime.access import NotAuthenticated, Principal
from rounds.runtime.campaigns import answers, choices, service
from rounds.runtime.campaigns.models import CLOSED, DRAFT, DRAWN, CampaignDraw, CheckCampaign
from rounds.runtime.fieldwork import chrome, views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.forms import results
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.params import Id, PageNumber
from rounds.web.security import ACCEPTS

DOMAIN = "campaigns"
STATIC_DIR = Path(__file__).resolve().parent / "static"
CAMPAIGNS_URL = "/static/campaigns"
PUBLIC = {"public": True}
FORM_BODY = {ACCEPTS: ("application/x-www-form-urlencoded",)}
PER_PAGE = 20
PERIOD_DAYS = 30  # a new campaign's default period: today and the 30 days after


def say(lang: str, key: str, /, **fields: Any) -> str:
    return i18n_text(DOMAIN, lang, key, **fields)


@lru_cache(maxsize=1)
def environment() -> Environment:
    """This slice's templates, then the field pages' (the layout, the navigation, the pager)
    and the forms engine's; ``_`` reads ``campaigns``, then ``fieldwork``, ``common``."""
    return chrome.page_environment(PackageLoader("rounds.runtime.campaigns", "templates"),
                                   DOMAIN, campaigns_url=CAMPAIGNS_URL)


def render(request: Request[Any, Any, Any], template: str, lang: str, principal: Principal,
           *, title: str, status: int = 200, **values: Any) -> Response[str]:
    html = environment().get_template(template).render(
        **chrome.context(request, lang, principal, "campaigns"), title=title,
        campaigns_config={"lang": lang, "text": {k: say(lang, k) for k in SCRIPT_WORDS}},
        **values)
    return Response(html, status_code=status, media_type=MediaType.HTML,
                    headers=dict(chrome.PRIVATE))


SCRIPT_WORDS = ("chart_passed", "chart_failed", "chart_visited", "chart_not_visited",
                "chart_no_team", "sorted_ascending", "sorted_descending", "sending",
                "send_failed", "chart_submitted", "chart_count", "chart_mean",
                "texts_shown")


def lang_of(request: Request[Any, Any, Any]) -> str:
    return request_language(request)


# -- how things read ---------------------------------------------------------------------

def day(value: dt.date, lang: str) -> str:
    return say(lang, "date", y=value.year, m=value.month, d=value.day)


def when(at: dt.datetime, lang: str, tz: dt.tzinfo) -> str:
    """A stored instant in the company's time zone, as the locale writes it."""
    local = at.astimezone(tz)
    return say(lang, "date_time", y=local.year, m=local.month, d=local.day,
               time=local.strftime("%H:%M"))


def period_text(c: CheckCampaign, lang: str) -> str:
    return say(lang, "period_value", start=day(c.period_start, lang), end=day(c.period_end, lang))


def status_text(c: CheckCampaign, lang: str) -> str:
    return say(lang, f"status_{c.status}")


@dataclass(frozen=True)
class Coverage:
    drawn: int
    submitted: int

    def view(self, lang: str) -> dict[str, Any]:
        share = self.submitted / self.drawn if self.drawn else 0.0
        return {"drawn": self.drawn, "submitted": self.submitted,
                "percent": round(share * 100),
                "text": say(lang, "coverage_value", submitted=self.submitted, drawn=self.drawn,
                            percent=format_number(share * 100, 0))}


def coverage_of(strata: list[service.StratumProgress]) -> Coverage:
    return Coverage(drawn=sum(s.drawn for s in strata), submitted=sum(s.submitted for s in strata))


def spec_lines(spec: dict[str, Any], lang: str, names: dict[str, Any]) -> list[dict[str, str]]:
    """The spec in plain words, a line a part: population, sample, pool, team, exclusions."""
    pop, sample, pool = spec["population"], spec["sample"], spec["pool"]
    exc = spec.get("exclusions") or {}
    sep = say(lang, "list_sep")
    unit = names["units"]

    def units_text(ids: list[int]) -> str:
        return sep.join(pick(unit.get(i), lang, str(i)) for i in ids) if ids \
            else say(lang, "anywhere")

    kinds = sep.join(pick(names["site_kinds"].get(k), lang, k) for k in pop.get("site_kinds")
                     or []) or say(lang, "any_kind")
    grades = sep.join(say(lang, "grade_value", grade=g) for g in pop.get("grades") or []) \
        or say(lang, "any_grade")
    population = say(lang, "spec_population", kinds=kinds, units=units_text(
        pop.get("org_units") or []), grades=grades)
    if pop.get("site_ids") is not None:
        population += say(lang, "spec_site_ids", n=len(pop["site_ids"]))
    if sample.get("count") is not None:
        how_many = say(lang, "spec_count", n=sample["count"])
    else:
        how_many = say(lang, "spec_share", percent=format_number(
            float(sample.get("share") or 0) * 100, 1))
    if sample.get("stratify_by"):
        how_many += say(lang, "spec_stratified", by=say(lang, f"stratify_{sample['stratify_by']}"))
        if sample.get("min_per_stratum"):
            how_many += say(lang, "spec_min_per_stratum", n=sample["min_per_stratum"])
    roles = sep.join(pick(names["roles"].get(r), lang, r) for r in pool.get("roles") or [])
    team = say(lang, "spec_team_1" if spec.get("team_size", 1) == 1 else "spec_team_2")
    exclusions = say(lang, "spec_exclusions", served=exc.get("served_within_days", 365),
                     redraw=exc.get("redraw_within_days", 365))
    if exc.get("allow_repeat"):
        exclusions += say(lang, "spec_allow_repeat")
    return [{"label": say(lang, "label_population"), "text": population},
            {"label": say(lang, "label_sample"), "text": how_many},
            {"label": say(lang, "label_pool"),
             "text": say(lang, "spec_pool", roles=roles, units=units_text(pool.get("org_units")
                                                                          or []))},
            {"label": say(lang, "label_team"), "text": team},
            {"label": say(lang, "label_exclusions"), "text": exclusions}]


async def _names(db: AsyncSession, principal: Principal) -> dict[str, Any]:
    found = await choices.form_choices(db, principal)
    return {"standards": found.standards, "surveys": found.surveys,
            "site_kinds": found.site_kinds,
            "roles": await choices.titles(db, "role"),
            "units": {u.id: u.name for u in found.units}}


def form_named(c: CheckCampaign, titles: dict[str, dict[str, Any]], lang: str) -> dict[str, str]:
    """A campaign's form by its title, and its kind in words (检查标准 / 问卷调查)."""
    kind = service.spec_of(c).form_kind
    return {"kind": kind, "kind_text": say(lang, f"form_kind_{kind}"),
            "title": pick(titles.get(c.standard_id), lang, c.standard_id)}


async def form_titles(db: AsyncSession) -> dict[str, dict[str, Any]]:
    """The current titles of the forms a campaign may name: standards and surveys."""
    return await choices.titles(db, "standard") | await choices.titles(db, "survey")


# -- /campaigns ------------------------------------------------------------------------------

@get("/campaigns", include_in_schema=False)
async def campaigns_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                         settings: Settings, principal: Principal, page: PageNumber = 1
                         ) -> Response[str]:
    """The campaigns, newest first, a page at a time."""
    lang = lang_of(request)
    found = await service.list_campaigns(db, principal)
    titles = await form_titles(db)
    rows = []
    for c in found[(page - 1) * PER_PAGE: page * PER_PAGE]:
        _, current, strata = await service.progress(db, principal, c.id, tz=settings.tz)
        rows.append({"id": c.id, "title": c.title, "href": views.href(f"/campaigns/{c.id}", lang),
                     "form": form_named(c, titles, lang),
                     "period": period_text(c, lang), "status": c.status,
                     "status_text": status_text(c, lang),
                     "draw": current.number if current else None,
                     "coverage": coverage_of(strata).view(lang) if current else None})
    pager = views.pager(page, PER_PAGE, len(found),
                        lambda n: views.href("/campaigns", lang, page=n),
                        say(lang, "campaigns_total"))
    return render(request, "campaigns.html", lang, principal, title=say(lang, "list_title"),
                  rows=rows, pager=pager, new_href=views.href("/campaigns/new", lang))


# -- /campaigns/new ------------------------------------------------------------------------

# Each form field and the spec's pointer it fills (the longest matching pointer wins).
FIELDS: dict[str, str] = {
    "title": "/title", "standard": "/standard",
    "site_kinds": "/population/site_kinds", "population_units": "/population/org_units",
    "grades": "/population/grades", "sample_value": "/sample",
    "stratify_by": "/sample/stratify_by", "min_per_stratum": "/sample/min_per_stratum",
    "pool_roles": "/pool/roles", "pool_units": "/pool/org_units", "team_size": "/team_size",
    "served_within_days": "/exclusions/served_within_days",
    "redraw_within_days": "/exclusions/redraw_within_days",
    "allow_repeat": "/exclusions/allow_repeat", "period_start": "/period/start",
    "period_end": "/period/end"}
ALIASES = {"/survey": "standard", "/sample/count": "sample_value", "/sample/share": "sample_value",
           "/sample/min_per_stratum": "min_per_stratum", "/period": "period_start",
           "/population": "site_kinds", "/pool": "pool_roles", "/exclusions":
           "served_within_days"}
# Codes whose own words say more than the field's.
SPECIAL = {("period_end", "invalid"): "err_period_order",
           ("pool_roles", "role_without_form"): "err_role_without_form",
           ("standard", "unknown_reference"): "err_standard_unknown",
           ("pool_roles", "unknown_reference"): "err_role_unknown"}
# Every pointer a field answers for: its own, and the aliases' (a whole part of the spec).
PLACES = (*FIELDS.items(), *((name, at) for at, name in ALIASES.items()))


def field_of(pointer: str) -> str | None:
    """The form field a problem's pointer names (``/pool/roles/0`` → ``pool_roles``)."""
    return nearest(pointer, PLACES)


def errors_of(problems: list[Problem], lang: str) -> dict[str, str]:
    """Field → its problem in the reader's words (the first one a field has)."""
    out: dict[str, str] = {}
    for p in problems:
        name = field_of(p.pointer) or "form"
        key = SPECIAL.get((name, p.code), f"err_{name}")
        out.setdefault(name, say(lang, key))
    return out


def _number(raw: str, *, integer: bool = True) -> Any:
    """A number typed in a form; what is not one is passed on as typed, so that the spec's
    check names it along with every other mistake."""
    text = raw.strip()
    if not text:
        return None
    try:
        return int(text) if integer else float(text)
    except ValueError:
        return text


def _ids(values: list[str]) -> list[Any]:
    return [int(v) if v.strip().isdigit() else v for v in values if v.strip()]


def spec_from_form(form: FormMultiDict, surveys: Collection[str] = ()) -> dict[str, Any]:
    """The spec the form says (docs/draws.md, "The campaign spec"). The one select offers
    standards and surveys (``surveys``: the surveys' ids); the spec names the chosen form
    under its kind's field, ``survey`` or ``standard``."""
    sample: dict[str, Any] = {}
    value = form.get("sample_value", "")
    if form.get("sample_kind") == "share":
        share = _number(value, integer=False)
        sample["share"] = share / 100 if isinstance(share, float) else share
    else:
        sample["count"] = _number(value)
    if form.get("stratify_by") in ("org_unit", "grade"):
        sample["stratify_by"] = form.get("stratify_by")
        minimum = _number(form.get("min_per_stratum", ""))
        if minimum is not None:
            sample["min_per_stratum"] = minimum
    exclusions: dict[str, Any] = {"allow_repeat": form.get("allow_repeat") == "on"}
    for key in ("served_within_days", "redraw_within_days"):
        days = _number(form.get(key, ""))
        if days is not None:
            exclusions[key] = days
    team = _number(form.get("team_size", "1"))
    chosen = form.get("standard", "").strip()
    return {("survey" if chosen in surveys else "standard"): chosen,
            "population": {"site_kinds": form.getall("site_kinds", []),
                           "org_units": _ids(form.getall("population_units", [])),
                           "grades": [g.strip() for g in form.getall("grades", [])
                                      if g.strip()]},
            "sample": sample,
            "pool": {"roles": form.getall("pool_roles", []),
                     "org_units": _ids(form.getall("pool_units", []))},
            "period": {"start": form.get("period_start", "").strip() or None,
                       "end": form.get("period_end", "").strip() or None},
            "team_size": 1 if team is None else team,
            "exclusions": exclusions}


def form_values(form: FormMultiDict | None, tz: dt.tzinfo) -> dict[str, Any]:
    """What the form shows: what was sent, else the defaults (the period from today)."""
    if form is None:
        today = dt.datetime.now(tz).date()
        return {"title": "", "standard": "", "site_kinds": [], "population_units": [],
                "grades": [], "sample_kind": "count", "sample_value": "10",
                "stratify_by": "", "min_per_stratum": "", "pool_roles": [], "pool_units": [],
                "team_size": "1", "served_within_days": "365", "redraw_within_days": "365",
                "allow_repeat": False, "period_start": today.isoformat(),
                "period_end": (today + dt.timedelta(days=PERIOD_DAYS)).isoformat()}
    many = ("site_kinds", "population_units", "grades", "pool_roles", "pool_units")
    values: dict[str, Any] = {k: form.get(k, "") for k in FIELDS if k not in many}
    values.update({k: form.getall(k, []) for k in many})
    values["sample_kind"] = "share" if form.get("sample_kind") == "share" else "count"
    values["allow_repeat"] = form.get("allow_repeat") == "on"
    return values


async def _new_form(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings,
                    principal: Principal, *, form: FormMultiDict | None = None,
                    errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    lang = lang_of(request)
    found = await choices.form_choices(db, principal)
    values = form_values(form, settings.tz)
    errors = errors or {}
    order = [*FIELDS, "form"]  # the summary reads in the form's order
    summary = [{"field": name, "text": errors[name],
                "anchor": "e-form" if name == "form" else "f-" + name.replace("_", "-")}
               for name in sorted(errors, key=order.index)]
    return render(
        request, "campaign_new.html", lang, principal,
        title=say(lang, "new_title") if not errors else say(lang, "new_title_errors",
                                                            n=len(errors)),
        values=values, errors=errors, summary=summary,
        standards=[{"id": i, "title": pick(t, lang, i)} for i, t in found.standards.items()],
        surveys=[{"id": i, "title": pick(t, lang, i)} for i, t in found.surveys.items()],
        site_kinds=[{"id": i, "title": pick(t, lang, i)} for i, t in found.site_kinds.items()],
        roles=[{"id": i, "title": pick(t, lang, i)} for i, t in found.roles.items()],
        units=[{"id": str(u.id), "name": pick(u.name, lang, str(u.id)), "depth": u.depth}
               for u in found.units],
        grades=found.grades, action=views.href("/campaigns/new", lang),
        back=views.href("/campaigns", lang), status=status)


@get("/campaigns/new", include_in_schema=False)
async def new_campaign_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                            settings: Settings, principal: Principal) -> Response[str]:
    """The form of a new campaign: every part of the spec, the period from today."""
    return await _new_form(request, db, settings, principal)


@post("/campaigns/new", include_in_schema=False, opt=FORM_BODY, status_code=303)
async def create_campaign_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                               settings: Settings, principal: Principal) -> Response[Any]:
    """Create the campaign (a draft) and go to its page (303); with mistakes, the form again
    with every one of them (422), nothing stored."""
    lang = lang_of(request)
    principal.require(service.MANAGE)
    form = await request.form()
    spec = spec_from_form(form, (await choices.titles(db, "survey")).keys())
    title = form.get("title", "").strip()
    problems: list[Problem] = []
    if not title:
        problems.append(Problem("/title", "a title is required", "required"))
    try:
        if title:
            campaign = await service.create_campaign(db, principal, title=title, spec=spec,
                                                     tz=settings.tz)
            return Redirect(views.href(f"/campaigns/{campaign.id}", lang), status_code=303)
        # No title: the spec is still checked, so that one answer names every mistake.
        await service._checked(db, spec)
    except InvalidInput as exc:
        problems.extend(exc.problems or [Problem("", exc.detail)])
    return await _new_form(request, db, settings, principal, form=form,
                           errors=errors_of(problems, lang), status=422)


# -- /campaigns/{id} ---------------------------------------------------------------------------

def _draw_view(d: CampaignDraw, people: dict[int, str], numbers: dict[int, int], *, lang: str,
               tz: dt.tzinfo, campaign_id: int) -> dict[str, Any]:
    result = service.decoded_result(d)
    return {"number": d.number, "by": people.get(d.drawn_by, str(d.drawn_by)),
            "at": when(d.drawn_at, lang, tz), "seed": d.seed, "digest": d.inputs_digest,
            "algorithm": d.algorithm, "reason": d.reason or "",
            "drawn": result.drawn, "unassigned": len(result.unassigned),
            "superseded_by": numbers.get(d.superseded_by) if d.superseded_by else None,
            "href": f"/api/campaigns/{campaign_id}/draws/{d.number}"}


def _state(o: service.SiteOutcome) -> str:
    return "submitted" if o.worked.submitted else "visited" if o.worked.visited else "not_visited"


async def _campaign_page(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings,
                         principal: Principal, campaign_id: int, *,
                         reason_error: str | None = None, reason: str = "",
                         status: int = 200) -> Response[str]:
    lang = lang_of(request)
    campaign, draws = await service.get_campaign(db, principal, campaign_id)
    _, current, outcomes = await service.outcomes(db, principal, campaign_id, tz=settings.tz)
    strata = service.strata_of(outcomes)
    names = await _names(db, principal)
    people = await choices.people_names(db, {d.drawn_by for d in draws})
    numbers = {d.id: d.number for d in draws}
    draw_views = [_draw_view(d, people, numbers, lang=lang, tz=settings.tz,
                             campaign_id=campaign.id) for d in draws]
    reasons = {v["number"]: v["reason"] for v in draw_views}
    for v in draw_views:  # why a draw was replaced: the reason of the re-draw that did
        v["replaced_because"] = reasons.get(v["superseded_by"], "") if v["superseded_by"] else ""
    standard = await choices.current_content(db, campaign.standard_id)
    stratum_name = _stratum_namer(campaign, names, lang)
    rows = []
    for o in outcomes:
        listed = results.listed(o.score_value, o.score_model, None, o.outcome,
                                definition=standard, lang=lang)
        rows.append({
            "site": f"{o.site.code} {o.site.name}", "site_code": o.site.code,
            "unit": pick(o.org_unit, lang), "stratum": stratum_name(o.stratum),
            "team": say(lang, "list_sep").join(n for _, n in o.team) if o.team
            else say(lang, "no_team"),
            "state": _state(o), "state_text": say(lang, f"state_{_state(o)}"),
            "score": listed.figure if o.worked.submitted else "",
            "score_value": "" if o.score_value is None else o.score_value,
            "passed": o.worked.passed,
            "passed_text": "" if o.worked.passed is None
            else say(lang, "passed" if o.worked.passed else "failed"),
            "outcome": listed.outcome,
            "result_href": views.href(f"/submissions/{o.worked.submission_id}", lang)
            if o.worked.submission_id else None,
            "issues": say(lang, "issues_value", raised=o.issues_raised, done=o.issues_done),
            "issues_raised": o.issues_raised,
            "issues_href": views.href("/issues", lang, site_id=o.site.id)
            if o.issues_raised and principal.can("issue.view_scope") else None})
    table = [{"name": stratum_name(s.stratum), "drawn": s.drawn, "visited": s.visited,
              "submitted": s.submitted, "passed": s.passed, "failed": s.failed,
              "mean": "—" if s.mean_score is None else format_number(s.mean_score, 1),
              "mean_value": "" if s.mean_score is None else s.mean_score,
              "issues": say(lang, "issues_value", raised=s.issues_raised, done=s.issues_done)}
             for s in strata]
    kind = service.spec_of(campaign).form_kind
    # Pass/fail only where the form gives a verdict: an unscored survey's work is submitted.
    verdicts = kind == "standard" or bool(standard.get("scored")) \
        or any(o.worked.passed is not None for o in outcomes)
    chart = {"labels": [stratum_name(s.stratum) for s in strata],
             "parts": ["passed", "failed"] if verdicts else ["submitted"],
             "submitted": [s.submitted for s in strata],
             "passed": [s.passed for s in strata], "failed": [s.failed for s in strata],
             "visited": [s.visited - s.submitted for s in strata],
             "not_visited": [s.drawn - s.visited - s.unassigned for s in strata],
             "no_team": [s.unassigned for s in strata]}
    here = f"/campaigns/{campaign.id}"
    per_question = None
    if kind == "survey" and current is not None:
        per_question = answers_view(
            await answers.campaign_answers(db, principal, campaign.id, tz=settings.tz), lang)
    return render(
        request, "campaign.html", lang, principal, title=campaign.title, status=status,
        campaign={"id": campaign.id, "title": campaign.title, "status": campaign.status,
                  "status_text": status_text(campaign, lang),
                  "period": period_text(campaign, lang),
                  "form": form_named(campaign, names["standards"] | names["surveys"], lang),
                  "closed_at": when(campaign.closed_at, lang, settings.tz)
                  if campaign.closed_at else "",
                  "draft": campaign.status == DRAFT, "drawn": campaign.status == DRAWN,
                  "closed": campaign.status == CLOSED},
        spec=spec_lines(campaign.spec, lang, names),
        current=next((v for v in draw_views if v["superseded_by"] is None), None),
        earlier=[v for v in draw_views if v["superseded_by"] is not None][::-1],
        coverage=coverage_of(strata).view(lang) if current else None,
        strata=table, chart=chart, rows=rows, verdicts=verdicts, per_question=per_question,
        answers_csv=f"/api/campaigns/{campaign.id}/answers.csv?lang={lang}",
        reason_error=reason_error, reason=reason,
        draw_action=views.href(f"{here}/draw", lang),
        close_action=views.href(f"{here}/close", lang), back=views.href("/campaigns", lang))


def _capital(word: str) -> str:
    """A statistic's name as a table's row heading (the CSV's words are lower case)."""
    return word[:1].upper() + word[1:]


def _share(share: float | None) -> str:
    return "—" if share is None else f"{format_number(share * 100, 0)}%"


def _figure(value: float | None) -> str:
    return "—" if value is None else format_number(value, 1)


def answers_view(found: answers.CampaignAnswers, lang: str) -> dict[str, Any]:
    """The answers per question as the page shows them: per choice question its counts
    (a chart and its table), per number question its statistics and the mean per stratum,
    per text question the answers with their site."""
    questions = []
    for q in found.questions:
        view: dict[str, Any] = {
            "id": q.item_id, "type": q.type, "title": q.title.of(lang),
            "unit": q.unit.of(lang) if q.unit else "", "answered": q.answered,
            "not_answered": q.not_answered,
            "kind": "choice" if q.type in answers.CHOICE_TYPES
            else "number" if q.type in answers.NUMBER_TYPES else "text"}
        if view["kind"] == "choice":
            view["choices"] = [{"value": c.value, "label": c.label.of(lang), "count": c.count,
                                "share": _share(c.share)} for c in q.choices]
            view["chart"] = {"labels": [c.label.of(lang) for c in q.choices],
                             "values": [c.count for c in q.choices]}
        elif view["kind"] == "number" and q.number is not None:
            n = q.number
            view["stats"] = [{"key": k, "label": _capital(i18n_text("campaign_answers", lang, k)),
                              "text": str(n.n) if k == "n" else _figure(getattr(n, k))}
                             for k in ("n", "mean", "median", "min", "max")]
            view["strata"] = [{"label": s.label.of(lang), "n": s.n, "mean": _figure(s.mean)}
                              for s in n.by_stratum]
            view["chart"] = {"labels": [s.label.of(lang) for s in n.by_stratum],
                             "values": [round(s.mean, 1) for s in n.by_stratum]}
        else:
            view["texts"] = [{"site": f"{t.site_code} {t.site_name}".strip(), "text": t.text,
                              "href": views.href(f"/submissions/{t.submission_id}", lang)}
                             for t in q.texts]
        questions.append(view)
    return {"submissions": found.submissions, "sample_size": found.sample_size,
            "questions": questions}


def _stratum_namer(campaign: CheckCampaign, names: dict[str, Any], lang: str) -> Any:
    """A stratum's key as a person reads it: an org unit's name, a grade, or "all"."""
    by = (campaign.spec.get("sample") or {}).get("stratify_by")

    def name(key: str) -> str:
        if by == "org_unit" and key.isdigit():
            return pick(names["units"].get(int(key)), lang, key)
        if by == "grade":
            return say(lang, "grade_value", grade=key) if key else say(lang, "no_grade")
        return say(lang, "all_sites")
    return name


@get("/campaigns/{campaign_id:int}", include_in_schema=False)
async def campaign_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                        settings: Settings, principal: Principal, campaign_id: Id
                        ) -> Response[str]:
    """A campaign: its spec, its draw on the record, coverage and results, its sites."""
    return await _campaign_page(request, db, settings, principal, campaign_id)


@post("/campaigns/{campaign_id:int}/draw", include_in_schema=False, opt=FORM_BODY,
      status_code=303)
async def draw_page(request: Request[Any, Any, Any], *, db: AsyncSession, settings: Settings,
                    principal: Principal, campaign_id: Id) -> Response[Any]:
    """Draw (or re-draw, with its reason) and show the campaign; a re-draw without a reason
    is the page again with the reason's error (422)."""
    lang = lang_of(request)
    form = await request.form()
    reason = form.get("reason", "")
    try:
        await service.draw_campaign(db, principal, campaign_id, reason=reason or None)
    except service.RedrawReason:
        return await _campaign_page(request, db, settings, principal, campaign_id,
                                    reason_error=say(lang, "err_reason"), reason=reason,
                                    status=422)
    return Redirect(views.href(f"/campaigns/{campaign_id}", lang), status_code=303)


@post("/campaigns/{campaign_id:int}/close", include_in_schema=False, opt=FORM_BODY,
      status_code=303)
async def close_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                     principal: Principal, campaign_id: Id) -> Response[Any]:
    """Close the campaign and show it."""
    lang = lang_of(request)
    await service.close_campaign(db, principal, campaign_id)
    return Redirect(views.href(f"/campaigns/{campaign_id}", lang), status_code=303)


# -- the dashboard's card ----------------------------------------------------------------------

async def open_campaigns_card(db: AsyncSession, principal: Principal, lang: str,
                              tz: dt.tzinfo) -> dict[str, Any] | None:
    """For the dashboard of one who manages campaigns: the drawn campaigns not closed, each
    with its period, coverage and link (None for anyone else: no card)."""
    if not principal.can(service.MANAGE):
        return None
    rows = []
    for c in await service.list_campaigns(db, principal):
        if c.status != DRAWN:
            continue
        _, _, strata = await service.progress(db, principal, c.id, tz=tz)
        rows.append({"title": c.title, "href": views.href(f"/campaigns/{c.id}", lang),
                     "period": period_text(c, lang), "coverage": coverage_of(strata).view(lang)})
    return {"title": say(lang, "card_title"), "rows": rows,
            "empty": say(lang, "card_empty"), "all": say(lang, "card_all"),
            "all_href": views.href("/campaigns", lang)}


def handlers(settings: Settings) -> list[Any]:
    pages = Router(path="/", route_handlers=[campaigns_page, new_campaign_page,
                                             create_campaign_page, campaign_page, draw_page,
                                             close_page],
                   exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                                       HTTPException: error_page})
    return [pages, create_static_files_router(path=CAMPAIGNS_URL, directories=[STATIC_DIR],
                                              name="campaigns_static", opt=PUBLIC)]

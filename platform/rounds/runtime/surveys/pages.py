"""The pages of survey campaigns (问卷调查): for ``survey.manage`` the list (``/surveys``), a
new campaign's form (``/surveys/new``) and a campaign (``/surveys/{id}``: its spec in plain
words, its progress against the target, open and close); for the respondents (a shop's own
account, an industry user) the survey as the phone form (``/surveys/{id}/answer``, with
``?visit=ID`` for a survey about a visit) and the thanks after it (``/surveys/{id}/thanks``).

Server-rendered in the field pages' chrome (:mod:`rounds.runtime.fieldwork.chrome`); the
forms post urlencoded bodies sent by ``static/surveys.js`` with the page's CSRF token (the
field chrome's ``send_form.js``). The answer page is the forms engine's form page: its
script posts the response to ``POST /api/survey-campaigns/{id}/responses`` (the envelope's
``kind: "survey_response"``). Words: the ``surveys`` catalogue. The look: the check
campaigns' stylesheet (``/static/campaigns/campaigns.css``, the ``cp-`` classes) and this
slice's small one.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader
from litestar import MediaType, Request, Response, Router, get, post
from litestar.datastructures import FormMultiDict
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, NotFound, Problem, RoundsError
from rounds.forms.render import form_context
from rounds.i18n import pick
from rounds.i18n import text as i18n_text
from rounds.pointer import nearest
from rounds.rules.alerts import format_number
from rounds.runtime.access import NotAuthenticated, Principal
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.definitions.service import current_contents, get_version
from rounds.runtime.fieldwork import chrome, views
from rounds.runtime.fieldwork.pages import error_page, to_sign_in
from rounds.runtime.forms import results
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.sites.models import Site
from rounds.runtime.surveys import service
from rounds.runtime.surveys.models import CLOSED, CONSUMER, DRAFT, OPEN, RETAILER, SurveyResponse
from rounds.runtime.surveys.responses import AlreadyAnswered
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.params import Id, OptionalId, PageNumber
from rounds.web.security import ACCEPTS

DOMAIN = "surveys"
STATIC_DIR = Path(__file__).resolve().parent / "static"
SURVEYS_URL = "/static/surveys"
CAMPAIGNS_URL = "/static/campaigns"
PUBLIC = {"public": True}
FORM_BODY = {ACCEPTS: ("application/x-www-form-urlencoded",)}
PER_PAGE = 20
PERIOD_DAYS = 30
AUDIENCES = ("retailer", "consumer", "industry")
SCRIPT_WORDS = ("sending", "send_failed")


def say(lang: str, key: str, /, **fields: Any) -> str:
    return i18n_text(DOMAIN, lang, key, **fields)


@lru_cache(maxsize=1)
def environment() -> Environment:
    return chrome.page_environment(PackageLoader("rounds.runtime.surveys", "templates"),
                                   DOMAIN, surveys_url=SURVEYS_URL,
                                   campaigns_url=CAMPAIGNS_URL)


def render(request: Request[Any, Any, Any], template: str, lang: str, principal: Principal,
           *, title: str, status: int = 200, active: str = "surveys",
           **values: Any) -> Response[str]:
    html = environment().get_template(template).render(
        **chrome.context(request, lang, principal, active), title=title,
        surveys_config={"lang": lang, "text": {k: say(lang, k) for k in SCRIPT_WORDS}},
        **values)
    return Response(html, status_code=status, media_type=MediaType.HTML,
                    headers=dict(chrome.PRIVATE))


# -- how things read --------------------------------------------------------------------------

def day(value: dt.date, lang: str) -> str:
    return say(lang, "date", y=value.year, m=value.month, d=value.day)


def period_text(start: dt.date, end: dt.date, lang: str) -> str:
    return say(lang, "period_value", start=day(start, lang), end=day(end, lang))


def progress(responses: int, target: int, lang: str) -> dict[str, Any]:
    share = responses / target if target else 0.0
    return {"responses": responses, "target": target, "max": max(target, 1),
            "value": min(responses, max(target, 1)),
            "text": say(lang, "progress_value", n=responses, target=target,
                        percent=format_number(share * 100, 0))}


async def _unit_names(db: AsyncSession) -> list[dict[str, Any]]:
    rows = (await db.execute(select(OrgUnit.id, OrgUnit.name_zh, OrgUnit.name_en,
                                    OrgUnit.path).order_by(OrgUnit.path))).all()
    return [{"id": str(i), "name": {"zh": zh, "en": en}, "depth": max(0, p.count("/") - 2)}
            for i, zh, en, p in rows]


async def _grades(db: AsyncSession) -> list[str]:
    raw = (await db.execute(select(Site.attributes["grade"].as_string()).distinct())).scalars()
    return sorted({str(g) for g in raw if g not in (None, "")},
                  key=lambda g: (not g.isdigit(), int(g) if g.isdigit() else 0, g))


async def _choices(db: AsyncSession, lang: str) -> dict[str, Any]:
    """The surveys written for people outside (with their audience), the visiting roles,
    the org units and the grades the shops have."""
    surveys = [{"id": i, "title": pick(c.get("title"), lang, i),
                "audience": c.get("audience"),
                "audience_text": say(lang, f"audience_{c.get('audience')}")}
               for i, c in sorted((await current_contents(db, "survey")).items())
               if c.get("audience") in AUDIENCES]
    roles = [{"id": i, "title": pick(c.get("title"), lang, i)}
             for i, c in sorted((await current_contents(db, "role")).items())
             if "visit.check_in" in (c.get("capabilities") or [])]
    units = [{**u, "name": pick(u["name"], lang, u["id"])} for u in await _unit_names(db)]
    return {"surveys": surveys, "roles": roles, "units": units, "grades": await _grades(db)}


def spec_lines(spec: dict[str, Any], lang: str, names: dict[str, Any]) -> list[dict[str, str]]:
    """The spec in plain words, a line a part."""
    sep = say(lang, "list_sep")
    lines = [{"label": say(lang, "label_survey"),
              "text": names["surveys"].get(spec["survey"], spec["survey"])},
             {"label": say(lang, "label_audience"),
              "text": say(lang, f"audience_{spec['audience']}")}]
    if spec["audience"] == RETAILER:
        t = spec.get("targeting") or {}
        units = sep.join(names["units"].get(str(u), str(u)) for u in t.get("org_units") or [])
        grades = sep.join(say(lang, "grade_value", grade=g) for g in t.get("grades") or []) \
            or say(lang, "any_grade")
        lines.append({"label": say(lang, "label_targeting"),
                      "text": say(lang, "targeting_value", units=units, grades=grades) if units
                      else say(lang, "targeting_everywhere", grades=grades)})
        fv = spec.get("follow_visit")
        lines.append({"label": say(lang, "label_follow"), "text": say(
            lang, "follow_value", days=fv["within_days"],
            roles=sep.join(names["roles"].get(r, r) for r in fv["roles"])) if fv
            else say(lang, "follow_none")})
    if spec["audience"] == CONSUMER:
        lines.append({"label": say(lang, "label_one_per"),
                      "text": say(lang, f"one_per_{spec.get('one_per') or 'device'}")})
    lines.append({"label": say(lang, "label_target"),
                  "text": say(lang, "target_value", n=spec["target_responses"])})
    return lines


async def _names(db: AsyncSession, lang: str) -> dict[str, Any]:
    return {"surveys": {i: pick(c.get("title"), lang, i)
                        for i, c in (await current_contents(db, "survey")).items()},
            "roles": {i: pick(c.get("title"), lang, i)
                      for i, c in (await current_contents(db, "role")).items()},
            "units": {u["id"]: pick(u["name"], lang, u["id"]) for u in await _unit_names(db)}}


# -- /surveys ---------------------------------------------------------------------------------

@get("/surveys", include_in_schema=False)
async def surveys_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                       principal: Principal, page: PageNumber = 1) -> Response[str]:
    """The survey campaigns, newest first, a page at a time."""
    lang = request_language(request)
    found, total = await service.list_campaigns(db, principal, limit=PER_PAGE,
                                                offset=(page - 1) * PER_PAGE)
    names = await _names(db, lang)
    rows = [{"id": v.campaign.id, "title": v.campaign.title,
             "href": views.href(f"/surveys/{v.campaign.id}", lang),
             "survey": names["surveys"].get(v.campaign.survey_id, v.campaign.survey_id),
             "audience": say(lang, f"audience_{v.campaign.audience}"),
             "status": v.campaign.status, "status_text": say(lang, f"status_{v.campaign.status}"),
             "period": period_text(v.campaign.period_start, v.campaign.period_end, lang),
             "progress": progress(v.responses, v.campaign.target_responses, lang)}
            for v in found]
    pager = views.pager(page, PER_PAGE, total, lambda n: views.href("/surveys", lang, page=n),
                        say(lang, "campaigns_total"))
    return render(request, "campaign_list.html", lang, principal, title=say(lang, "list_title"),
                  rows=rows, pager=pager, new_href=views.href("/surveys/new", lang))


# -- /surveys/new -----------------------------------------------------------------------------

# Each form field and the spec's pointer it fills (the longest matching pointer wins).
FIELDS: dict[str, str] = {
    "title": "/title", "survey": "/survey", "audience": "/audience",
    "org_units": "/targeting/org_units", "grades": "/targeting/grades",
    "follow": "/follow_visit", "within_days": "/follow_visit/within_days",
    "follow_roles": "/follow_visit/roles", "one_per": "/one_per",
    "target_responses": "/target_responses", "period_start": "/period/start",
    "period_end": "/period/end"}
ALIASES = {"/targeting": "org_units", "/period": "period_start"}
SPECIAL = {("survey", "unknown_reference"): "err_survey_unknown",
           ("survey", "audience_mismatch"): "err_survey_audience",
           ("org_units", "not_for_audience"): "err_targeting_audience",
           ("follow", "not_for_audience"): "err_follow_audience",
           ("one_per", "not_for_audience"): "err_one_per_audience",
           ("period_end", "invalid"): "err_period_order"}
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
        out.setdefault(name, say(lang, SPECIAL.get((name, p.code), f"err_{name}")))
    return out


def _number(raw: str) -> Any:
    text = raw.strip()
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        return text  # named by the spec's check along with every other mistake


def spec_from_form(form: FormMultiDict) -> dict[str, Any]:
    """The spec the form says (docs/surveys.md, "Campaigns"): the consumers' one_per only
    for a consumer campaign, the follow-visit part only when asked for."""
    audience = form.get("audience", "")
    spec: dict[str, Any] = {
        "title": form.get("title", "").strip(), "survey": form.get("survey", "").strip(),
        "audience": audience or None,
        "targeting": {"org_units": [int(v) if v.isdigit() else v
                                    for v in form.getall("org_units", []) if v.strip()],
                      "grades": [g.strip() for g in form.getall("grades", []) if g.strip()]},
        "target_responses": _number(form.get("target_responses", "")),
        "period": {"start": form.get("period_start", "").strip() or None,
                   "end": form.get("period_end", "").strip() or None}}
    if form.get("follow") == "on":
        spec["follow_visit"] = {"within_days": _number(form.get("within_days", "")),
                                "roles": form.getall("follow_roles", [])}
    if audience == CONSUMER:
        spec["one_per"] = "token" if form.get("one_per") == "token" else "device"
    return spec


def form_values(form: FormMultiDict | None, tz: dt.tzinfo) -> dict[str, Any]:
    if form is None:
        today = dt.datetime.now(tz).date()
        return {"title": "", "survey": "", "audience": RETAILER, "org_units": [],
                "grades": [], "follow": False, "within_days": "3", "follow_roles": [],
                "one_per": "device", "target_responses": "100",
                "period_start": today.isoformat(),
                "period_end": (today + dt.timedelta(days=PERIOD_DAYS)).isoformat()}
    many = ("org_units", "grades", "follow_roles")
    values: dict[str, Any] = {k: form.get(k, "") for k in FIELDS if k not in many}
    values.update({k: form.getall(k, []) for k in many})
    values["follow"] = form.get("follow") == "on"
    values["one_per"] = "token" if form.get("one_per") == "token" else "device"
    return values


async def _new_form(request: Request[Any, Any, Any], db: AsyncSession, settings: Settings,
                    principal: Principal, *, form: FormMultiDict | None = None,
                    errors: dict[str, str] | None = None, status: int = 200) -> Response[str]:
    lang = request_language(request)
    errors = errors or {}
    order = [*FIELDS, "form"]
    summary = [{"field": name, "text": errors[name],
                "anchor": "e-form" if name == "form" else "f-" + name.replace("_", "-")}
               for name in sorted(errors, key=order.index)]
    return render(request, "campaign_new.html", lang, principal,
                  title=say(lang, "new_title") if not errors
                  else say(lang, "new_title_errors", n=len(errors)),
                  values=form_values(form, settings.tz), errors=errors, summary=summary,
                  audiences=AUDIENCES, action=views.href("/surveys/new", lang),
                  back=views.href("/surveys", lang), status=status,
                  **await _choices(db, lang))


@get("/surveys/new", include_in_schema=False)
async def new_survey_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                          settings: Settings, principal: Principal) -> Response[str]:
    """The form of a new survey campaign, the period from today."""
    principal.require(service.MANAGE)
    return await _new_form(request, db, settings, principal)


@post("/surveys/new", include_in_schema=False, opt=FORM_BODY, status_code=303)
async def create_survey_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                             settings: Settings, principal: Principal) -> Response[Any]:
    """Create the campaign (a draft) and go to its page; with mistakes, the form again with
    every one of them (422), nothing stored."""
    lang = request_language(request)
    principal.require(service.MANAGE)
    form = await request.form()
    try:
        campaign = await service.create_campaign(db, principal, spec_from_form(form),
                                                 tz=settings.tz)
    except InvalidInput as exc:
        return await _new_form(request, db, settings, principal, form=form,
                               errors=errors_of(exc.problems or [Problem("", exc.detail)],
                                                lang), status=422)
    return Redirect(views.href(f"/surveys/{campaign.id}", lang), status_code=303)


# -- /surveys/{id} ----------------------------------------------------------------------------

@get("/surveys/{campaign_id:int}", include_in_schema=False)
async def survey_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                      settings: Settings, principal: Principal, campaign_id: Id
                      ) -> Response[str]:
    """A campaign in plain words: its status, progress against its target, its actions."""
    lang = request_language(request)
    found = await service.get_campaign(db, principal, campaign_id)
    c = found.campaign
    names = await _names(db, lang)
    here = f"/surveys/{c.id}"
    local = c.opens_at.astimezone(settings.tz)
    return render(
        request, "campaign_one.html", lang, principal, title=c.title,
        campaign={"id": c.id, "title": c.title, "status": c.status,
                  "status_text": say(lang, f"status_{c.status}"),
                  "period": period_text(c.period_start, c.period_end, lang),
                  "draft": c.status == DRAFT, "open": c.status == OPEN,
                  "closed": c.status == CLOSED, "consumer": c.audience == CONSUMER,
                  "opens_later": c.status == OPEN and local > dt.datetime.now(settings.tz)},
        spec=spec_lines(service.spec_json_of(c), lang, names),
        progress=progress(found.responses, c.target_responses, lang),
        open_action=views.href(f"{here}/open", lang),
        close_action=views.href(f"{here}/close", lang),
        results_href=views.href(f"{here}/results", lang),
        links_href=views.href(f"{here}/links", lang), back=views.href("/surveys", lang))


@post("/surveys/{campaign_id:int}/open", include_in_schema=False, opt=FORM_BODY,
      status_code=303)
async def open_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                    principal: Principal, campaign_id: Id) -> Response[Any]:
    await service.open_campaign(db, principal, campaign_id)
    return Redirect(views.href(f"/surveys/{campaign_id}", request_language(request)),
                    status_code=303)


@post("/surveys/{campaign_id:int}/close", include_in_schema=False, opt=FORM_BODY,
      status_code=303)
async def close_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                     principal: Principal, campaign_id: Id) -> Response[Any]:
    await service.close_campaign(db, principal, campaign_id)
    return Redirect(views.href(f"/surveys/{campaign_id}", request_language(request)),
                    status_code=303)


# -- /surveys/{id}/answer ---------------------------------------------------------------------

@get("/surveys/{campaign_id:int}/answer", include_in_schema=False)
async def answer_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                      settings: Settings, principal: Principal, campaign_id: Id,
                      visit: OptionalId = None) -> Response[str]:
    """The survey as the phone form, for the respondent it is asked of; the browser posts
    the response and opens the thanks."""
    lang = request_language(request)
    try:
        offer = await service.offer_for(db, principal, campaign_id, visit, tz=settings.tz)
    except AlreadyAnswered:
        return render(request, "answer_done.html", lang, principal, active="",
                      title=say(lang, "answered_title"), heading=say(lang, "answered_title"),
                      text=say(lang, "answered_text"), figure=None, outcome="",
                      home=views.href("/", lang))
    c = offer.campaign
    hashes = await service.version_hashes(db, {c.version_id})
    version = await get_version(db, c.survey_id, hashes[c.version_id])
    about = say(lang, "about_visit", day=day(offer.visit_day, lang),
                staff=offer.staff_name or "") if offer.visit_id and offer.visit_day else ""
    context = form_context(
        dict(version.content), lang=lang,
        action=f"/api/survey-campaigns/{c.id}/responses?lang={lang}",
        version={"number": version.number, "content_hash": version.content_hash,
                 "status": version.status},
        ctx={"user": {"id": principal.user_id, "role": principal.role_id}},
        csrf_token=principal.csrf_token,
        envelope={"kind": "survey_response", "definition_id": f"survey-campaign-{c.id}",
                  "visit_id": offer.visit_id,
                  "result_url": views.href(f"/surveys/{c.id}/thanks", lang) + "&response={id}"})
    shared = chrome.context(request, lang, principal)
    html = environment().get_template("answer.html").render(
        **{**context, **{k: shared[k] for k in ("home_url", "links", "active", "user",
                                                "unread", "fw_config")}},
        campaign_title=c.title, about=about, closes=day(
            (c.closes_at.astimezone(settings.tz) - dt.timedelta(seconds=1)).date(), lang))
    return Response(html, media_type=MediaType.HTML, headers=chrome.PRIVATE)


@get("/surveys/{campaign_id:int}/thanks", include_in_schema=False)
async def thanks_page(request: Request[Any, Any, Any], *, db: AsyncSession,
                      principal: Principal, campaign_id: Id, response: str = ""
                      ) -> Response[str]:
    """After a response: thanks, and its score where the survey is scored."""
    lang = request_language(request)
    stored = await db.get(SurveyResponse, response) if response else None
    if stored is None or stored.user_id != principal.user_id \
            or stored.campaign_id != campaign_id:
        raise NotFound(f"no response {response!r} of yours to survey campaign {campaign_id}")
    version = await db.get(DefinitionVersion, stored.version_id)
    shown = results.listed(stored.score_value, stored.score_model, stored.direction,
                           stored.outcome, definition=version.content if version else {},
                           lang=lang)
    scored = stored.score_value is not None
    return render(request, "answer_done.html", lang, principal, active="",
                  title=say(lang, "thanks_title"), heading=say(lang, "thanks_title"),
                  text=say(lang, "thanks_text"), figure=shown.figure if scored else None,
                  outcome=shown.outcome or "", home=views.href("/", lang))


def handlers(settings: Settings) -> list[Any]:
    pages = Router(path="/", route_handlers=[surveys_page, new_survey_page, create_survey_page,
                                             survey_page, open_page, close_page, answer_page,
                                             thanks_page],
                   exception_handlers={NotAuthenticated: to_sign_in, RoundsError: error_page,
                                       HTTPException: error_page})
    return [pages, create_static_files_router(path=SURVEYS_URL, directories=[STATIC_DIR],
                                              name="surveys_static", opt=PUBLIC)]

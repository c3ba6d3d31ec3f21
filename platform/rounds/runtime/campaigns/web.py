"""HTTP handlers of check campaigns: ``/api/campaigns`` and ``/api/me/campaign-visits``
(thin: each calls one service function; ``campaign.manage`` as the service says), and
``/api/public/campaigns``, the public record of closed campaigns, open to anyone (the twin
of the public pages, :mod:`~rounds.runtime.campaigns.public_pages`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.response import Stream
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.campaigns import answers, public_pages, publication, service
from rounds.runtime.campaigns.models import CampaignDraw, CheckCampaign
from rounds.settings import Settings
from rounds.web import exports
from rounds.web.language import request_language
from rounds.web.paging import Page, Paging, paged
from rounds.web.params import Id

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Reason = Annotated[str, msgspec.Meta(max_length=2000)]


class CampaignIn(msgspec.Struct, forbid_unknown_fields=True):
    """A campaign: its title and spec (docs/draws.md, "The campaign spec")."""

    title: Title
    spec: Any


class CampaignEdit(msgspec.Struct, forbid_unknown_fields=True):
    """A draft's new title or spec (a drawn or closed campaign refuses: 409)."""

    title: Title | None = None
    spec: Any = None


class DrawIn(msgspec.Struct, forbid_unknown_fields=True):
    """A draw; ``reason`` is required for a re-draw."""

    reason: Reason | None = None


class DrawSummary(msgspec.Struct):
    number: int
    algorithm: str
    inputs_digest: str
    seed: str
    drawn_by: int
    drawn_at: dt.datetime
    reason: str | None
    superseded_by_number: int | None
    drawn: int
    unassigned: int


class CampaignOut(msgspec.Struct):
    id: int
    title: str
    standard_id: str
    status: str
    spec: dict[str, Any]
    created_by: int
    created_at: dt.datetime
    closed_at: dt.datetime | None
    draws: list[DrawSummary]


class PublishedDraw(msgspec.Struct):
    """Everything needed to re-run the draw (``rounds.draws.verify``): ``inputs`` is the
    stored JSON text exactly as published (its digest is ``result.inputs_digest``)."""

    campaign_id: int
    number: int
    algorithm: str
    inputs: str
    inputs_digest: str
    seed: str
    result: dict[str, Any]
    drawn_by: int
    drawn_at: dt.datetime
    reason: str | None
    superseded: bool


class ProgressOut(msgspec.Struct):
    campaign_id: int
    status: str
    draw_number: int | None
    strata: list[service.StratumProgress]


class DrawnSiteOut(msgspec.Struct):
    """A drawn site and what came of it (the team: ids and names, the lead first)."""

    site_id: int
    site_code: str
    site_name: str
    org_unit: dict[str, str]
    stratum: str
    team: list[int]
    team_names: list[str]
    visited: bool
    submitted: bool
    passed: bool | None
    submission_id: str | None
    submitted_at: dt.datetime | None
    score_value: float | None
    score_model: str | None
    outcome: str | None
    issues_raised: int
    issues_done: int


class CampaignVisitOut(msgspec.Struct):
    campaign_id: int
    campaign_title: str
    standard_id: str
    period_start: dt.date
    period_end: dt.date
    site_id: int
    site_code: str
    site_name: str
    team: list[int]
    lead: bool
    visited: bool
    submitted: bool


def _campaign_out(campaign: CheckCampaign, draws: list[CampaignDraw]) -> CampaignOut:
    numbers = {d.id: d.number for d in draws}
    summaries = []
    for d in draws:
        result = service.decoded_result(d)
        summaries.append(DrawSummary(
            number=d.number, algorithm=d.algorithm, inputs_digest=d.inputs_digest,
            seed=d.seed, drawn_by=d.drawn_by, drawn_at=d.drawn_at, reason=d.reason,
            superseded_by_number=numbers.get(d.superseded_by) if d.superseded_by else None,
            drawn=result.drawn, unassigned=len(result.unassigned)))
    return CampaignOut(id=campaign.id, title=campaign.title, standard_id=campaign.standard_id,
                       status=campaign.status, spec=dict(campaign.spec),
                       created_by=campaign.created_by, created_at=campaign.created_at,
                       closed_at=campaign.closed_at, draws=summaries)


class CampaignController(Controller):
    path = "/api/campaigns"
    tags = ("campaigns",)

    @get("/", summary="Check campaigns (campaign.manage), newest first")
    async def index(self, db: AsyncSession, principal: Principal) -> list[CampaignOut]:
        return [_campaign_out(c, []) for c in await service.list_campaigns(db, principal)]

    @post("/", status_code=201, summary="Create a check campaign (a draft) from its spec: "
                                        "every mistake at once, nothing stored (422)")
    async def create(self, db: AsyncSession, principal: Principal, settings: Settings,
                     data: CampaignIn) -> CampaignOut:
        campaign = await service.create_campaign(db, principal, title=data.title,
                                                 spec=data.spec, tz=settings.tz)
        return _campaign_out(campaign, [])

    @get("/{campaign_id:int}", summary="A check campaign and its draws")
    async def one(self, db: AsyncSession, principal: Principal, campaign_id: Id
                  ) -> CampaignOut:
        return _campaign_out(*await service.get_campaign(db, principal, campaign_id))

    @patch("/{campaign_id:int}", summary="Edit a draft campaign (409 once drawn or closed)")
    async def edit(self, db: AsyncSession, principal: Principal, settings: Settings,
                   campaign_id: Id, data: CampaignEdit) -> CampaignOut:
        await service.update_campaign(db, principal, campaign_id, tz=settings.tz,
                                      title=data.title, spec=data.spec)
        return _campaign_out(*await service.get_campaign(db, principal, campaign_id))

    @post("/{campaign_id:int}/draws", status_code=201,
          summary="Draw the campaign from a fresh cryptographic seed; a re-draw needs its "
                  "reason and keeps the earlier draw (superseded)")
    async def draw(self, db: AsyncSession, principal: Principal, campaign_id: Id,
                   data: DrawIn) -> PublishedDraw:
        record = await service.draw_campaign(db, principal, campaign_id, reason=data.reason)
        return _published(record)

    @get("/{campaign_id:int}/draws/{number:int}",
         summary="A draw's published record: inputs (exact JSON text), seed and result, "
                 "enough to verify it")
    async def published(self, db: AsyncSession, principal: Principal, campaign_id: Id,
                        number: Id) -> PublishedDraw:
        return _published(await service.published_draw(db, principal, campaign_id, number))

    @post("/{campaign_id:int}/close", status_code=200,
          summary="Close the campaign: no more draws or edits")
    async def close(self, db: AsyncSession, principal: Principal, campaign_id: Id
                    ) -> CampaignOut:
        await service.close_campaign(db, principal, campaign_id)
        return _campaign_out(*await service.get_campaign(db, principal, campaign_id))

    @get("/{campaign_id:int}/progress",
         summary="Per stratum of the current draw: drawn, visited, submitted, passed, failed")
    async def progress(self, db: AsyncSession, principal: Principal, settings: Settings,
                       campaign_id: Id) -> ProgressOut:
        campaign, current, strata = await service.progress(db, principal, campaign_id,
                                                           tz=settings.tz)
        return ProgressOut(campaign_id=campaign.id, status=campaign.status,
                           draw_number=current.number if current else None,
                           strata=strata)

    @get("/{campaign_id:int}/sites",
         summary="The current draw's sites: team, visited, submitted, the latest result and "
                 "the issues it raised")
    async def sites(self, db: AsyncSession, principal: Principal, settings: Settings,
                    campaign_id: Id) -> list[DrawnSiteOut]:
        _, _, found = await service.outcomes(db, principal, campaign_id, tz=settings.tz)
        return [drawn_site_out(o) for o in found]


def drawn_site_out(o: service.SiteOutcome) -> DrawnSiteOut:
    return DrawnSiteOut(
        site_id=o.site.id, site_code=o.site.code, site_name=o.site.name, org_unit=o.org_unit,
        stratum=o.stratum, team=[u for u, _ in o.team], team_names=[n for _, n in o.team],
        visited=o.worked.visited, submitted=o.worked.submitted, passed=o.worked.passed,
        submission_id=o.worked.submission_id, submitted_at=o.submitted_at,
        score_value=o.score_value, score_model=o.score_model, outcome=o.outcome,
        issues_raised=o.issues_raised, issues_done=o.issues_done)


def _published(record: CampaignDraw) -> PublishedDraw:
    return PublishedDraw(
        campaign_id=record.campaign_id, number=record.number, algorithm=record.algorithm,
        inputs=record.inputs.decode("utf-8"), inputs_digest=record.inputs_digest,
        seed=record.seed, result=dict(record.result), drawn_by=record.drawn_by,
        drawn_at=record.drawn_at, reason=record.reason,
        superseded=record.superseded_by is not None)


@get("/api/me/campaign-visits", tags=["campaigns"],
     summary="My drawn sites to check in campaigns not closed whose period has not ended")
async def my_campaign_visits(db: AsyncSession, principal: Principal, settings: Settings
                             ) -> list[CampaignVisitOut]:
    visits = await service.my_campaign_visits(db, principal, tz=settings.tz)
    return [CampaignVisitOut(
        campaign_id=v.campaign_id, campaign_title=v.campaign_title,
        standard_id=v.standard_id, period_start=v.period_start, period_end=v.period_end,
        site_id=v.site.id, site_code=v.site.code, site_name=v.site.name, team=v.team,
        lead=v.lead, visited=v.visited, submitted=v.submitted) for v in visits]


# -- the public record (no sign-in) -----------------------------------------------------------

class PublicDrawOut(msgspec.Struct):
    """A draw's verification data; ``inputs_url`` and ``result_url`` download the inputs
    (the bytes exactly as stored) and the result, to re-run it (docs/draws.md)."""

    number: int
    algorithm: str
    seed: str
    inputs_digest: str
    drawn_at: dt.datetime
    reason: str | None
    superseded: bool
    inputs_url: str
    result_url: str


class PublicRecordOut(msgspec.Struct):
    """The service's record (its dataclasses, as they are), each draw with its downloads."""

    campaign: publication.PublicCampaign
    form_title: dict[str, str]
    inspectors: str  # what the company shows of them: "hidden" or "names"
    scores: bool
    sample: publication.Sample
    draw_number: int | None
    strata: list[publication.PublicStratum]
    sites: list[publication.PublicSite]
    draws: list[PublicDrawOut]


PUBLIC = {"public": True}


@get("/api/public/campaigns", tags=["campaigns"], opt=PUBLIC, dependencies=paged(100),
     summary="Closed check campaigns, the last closed first (public, no sign-in)")
async def public_campaigns(db: AsyncSession, settings: Settings, paging: Paging
                           ) -> Page[publication.PublicCampaign]:
    found, total = await publication.public_campaigns(db, tz=settings.tz, page=paging.page,
                                                      per_page=paging.per_page)
    return paging.of(list(found), total)


@get("/api/public/campaigns/{campaign_id:int}", tags=["campaigns"], opt=PUBLIC,
     summary="A closed check campaign's public record: its sites and outcomes, per stratum "
             "the counts, and each draw's verification data (404 unless closed)")
async def public_campaign(db: AsyncSession, settings: Settings, campaign_id: Id
                          ) -> PublicRecordOut:
    r = await publication.public_record(db, campaign_id, settings.tz)
    base = f"{public_pages.BASE}/{r.campaign.id}/draws"
    return PublicRecordOut(
        campaign=r.campaign, form_title=r.form_title,
        inspectors=r.publication.inspectors, scores=r.publication.scores, sample=r.sample,
        draw_number=r.draw_number, strata=r.strata, sites=r.sites,
        draws=[PublicDrawOut(number=d.number, algorithm=d.algorithm, seed=d.seed,
                             inputs_digest=d.inputs_digest, drawn_at=d.drawn_at,
                             reason=d.reason, superseded=d.superseded,
                             inputs_url=f"{base}/{d.number}/inputs.json",
                             result_url=f"{base}/{d.number}/result.json")
               for d in r.draws])


# -- answers per question (market survey tasks; standards too) ---------------------------------

class LabelOut(msgspec.Struct):
    zh: str
    en: str


class ChoiceOut(msgspec.Struct):
    value: str
    label: LabelOut
    count: int
    share: float | None  # of the submissions (0..1)


class StratumMeanOut(msgspec.Struct):
    stratum: str
    label: LabelOut  # an org unit stratum's name
    n: int
    mean: float


class NumberOut(msgspec.Struct):
    n: int
    mean: float | None
    median: float | None
    min: float | None
    max: float | None
    by_stratum: list[StratumMeanOut]


class TextOut(msgspec.Struct):
    site_id: int | None
    site_code: str
    site_name: str
    submission_id: str
    text: str


class QuestionOut(msgspec.Struct):
    """One question: ``choices`` for a choice, yes/no or check; ``number`` for a number or
    scale; ``texts`` for a text; ``answered`` and ``not_answered`` for every one."""

    item_id: str
    type: str
    section_id: str
    title: LabelOut
    unit: LabelOut | None
    answered: int
    not_answered: int
    choices: list[ChoiceOut]
    number: NumberOut | None
    texts: list[TextOut]


class AnswersOut(msgspec.Struct):
    """The latest submission of each assignment of the current draw, per question."""

    campaign_id: int
    status: str
    form_id: str
    form_kind: str
    form_title: LabelOut
    version_number: int | None
    draw_number: int | None
    sample_size: int
    submissions: int
    questions: list[QuestionOut]


def _answers_out(a: answers.CampaignAnswers) -> AnswersOut:
    return msgspec.convert({
        "campaign_id": a.campaign.id, "status": a.campaign.status, "form_id": a.form_id,
        "form_kind": a.form_kind, "form_title": a.form_title,
        "version_number": a.version_number, "draw_number": a.draw_number,
        "sample_size": a.sample_size, "submissions": a.submissions,
        "questions": a.questions}, AnswersOut, from_attributes=True)


@get("/api/campaigns/{campaign_id:int}/answers", tags=["campaigns"],
     summary="A campaign's answers per question (campaign.manage): the latest submission of "
             "each drawn site's team in the period; counts and shares per choice, statistics "
             "of numbers (and their mean per stratum), the texts with their site")
async def campaign_answers(db: AsyncSession, principal: Principal, settings: Settings,
                           campaign_id: Id) -> AnswersOut:
    return _answers_out(await answers.campaign_answers(db, principal, campaign_id,
                                                       tz=settings.tz))


@get("/api/campaigns/{campaign_id:int}/answers.csv", tags=["campaigns"],
     media_type=exports.FORMATS["csv"],
     summary="A campaign's answers per question as CSV (UTF-8 with a BOM, for Excel): one "
             "row per question and choice, statistic, stratum's mean or text answer; words "
             "in the reader's language")
async def campaign_answers_csv(request: Request[Any, Any, Any], db: AsyncSession,
                               principal: Principal, settings: Settings, campaign_id: Id
                               ) -> Stream:
    found = await answers.campaign_answers(db, principal, campaign_id, tz=settings.tz)
    lang = request_language(request)
    lines = exports.rows_csv(answers.header(lang), answers.rows(found, lang))
    return Stream(exports.encoded(lines), media_type=exports.FORMATS["csv"],
                  headers=exports.disposition(f"campaign-{campaign_id}-answers.csv"))


def handlers() -> list[Any]:
    return [CampaignController, my_campaign_visits, campaign_answers, campaign_answers_csv,
            public_campaigns, public_campaign, *public_pages.handlers()]

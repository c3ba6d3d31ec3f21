"""HTTP handlers of survey campaigns: ``/api/survey-campaigns`` (``survey.manage``), what the
signed-in retailer or industry user is asked (``/api/me/surveys``) and their responses
(``POST /api/survey-campaigns/{id}/responses``). Thin: each calls one service function."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post, put
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import DB_INT_MAX
from rounds.runtime.access import Principal
from rounds.runtime.surveys import service
from rounds.runtime.surveys.models import SurveyCampaign
from rounds.runtime.surveys.spec import spec_json
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.paging import Page, Paging, paged
from rounds.web.params import Id

ResponseId = Annotated[str, msgspec.Meta(
    pattern=r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")]


VisitId = Annotated[int, msgspec.Meta(ge=1, le=DB_INT_MAX)]


class SurveyCampaignOut(msgspec.Struct):
    """A campaign: its spec (docs/surveys.md, "Campaigns"), its life and its progress."""

    id: int
    title: str
    survey_id: str
    version_id: int
    status: str
    spec: dict[str, Any]
    opens_at: dt.datetime
    closes_at: dt.datetime
    created_by: int
    created_at: dt.datetime
    closed_at: dt.datetime | None
    responses: int
    target_responses: int


class AskedOut(msgspec.Struct):
    """A survey asked of me now; for one that follows visits, the visit it is about."""

    campaign_id: int
    title: str
    survey_id: str
    version: str  # the content hash of the pinned survey version
    closes_at: dt.datetime
    about_visit_id: int | None
    visit_day: dt.date | None
    about_staff: str | None


class ResponseIn(msgspec.Struct, forbid_unknown_fields=True):
    """A response: its id (a UUID the client makes once; a retry sends the same), the
    answers, and for a survey that follows visits the visit it is about."""

    id: ResponseId
    answers: dict[str, Any]
    about_visit_id: VisitId | None = None


class ResponseOut(msgspec.Struct):
    id: str
    campaign_id: int
    percentage: float | None
    score_value: float | None
    outcome: str | None


def campaign_out(view: service.CampaignView) -> SurveyCampaignOut:
    c: SurveyCampaign = view.campaign
    return SurveyCampaignOut(
        id=c.id, title=c.title, survey_id=c.survey_id, version_id=c.version_id,
        status=c.status, spec=spec_json(service.spec_of(c)), opens_at=c.opens_at,
        closes_at=c.closes_at, created_by=c.created_by, created_at=c.created_at,
        closed_at=c.closed_at, responses=view.responses, target_responses=c.target_responses)


class SurveyCampaignController(Controller):
    path = "/api/survey-campaigns"
    tags = ("surveys",)

    @get("/", summary="Survey campaigns (survey.manage), newest first, with response counts",
         dependencies=paged(200))
    async def index(self, db: AsyncSession, principal: Principal, paging: Paging
                    ) -> Page[SurveyCampaignOut]:
        views, total = await service.list_campaigns(db, principal, limit=paging.limit,
                                                    offset=paging.offset)
        return paging.of([campaign_out(v) for v in views], total)

    @post("/", status_code=201, summary="Create a survey campaign (a draft) from its spec: "
                                        "every mistake at once, nothing stored (422)")
    async def create(self, db: AsyncSession, principal: Principal, settings: Settings,
                     data: dict[str, Any]) -> SurveyCampaignOut:
        campaign = await service.create_campaign(db, principal, data, tz=settings.tz)
        return campaign_out(service.CampaignView(campaign, 0))

    @get("/{campaign_id:int}", summary="A survey campaign")
    async def one(self, db: AsyncSession, principal: Principal, campaign_id: Id
                  ) -> SurveyCampaignOut:
        return campaign_out(await service.get_campaign(db, principal, campaign_id))

    @put("/{campaign_id:int}", summary="Replace a draft's spec (409 once open or closed)")
    async def edit(self, db: AsyncSession, principal: Principal, settings: Settings,
                   campaign_id: Id, data: dict[str, Any]) -> SurveyCampaignOut:
        await service.update_campaign(db, principal, campaign_id, data, tz=settings.tz)
        return campaign_out(await service.get_campaign(db, principal, campaign_id))

    @post("/{campaign_id:int}/open", status_code=200,
          summary="Open a draft: pins the survey's current published version; it takes "
                  "answers within its period")
    async def open(self, db: AsyncSession, principal: Principal, campaign_id: Id
                   ) -> SurveyCampaignOut:
        await service.open_campaign(db, principal, campaign_id)
        return campaign_out(await service.get_campaign(db, principal, campaign_id))

    @post("/{campaign_id:int}/close", status_code=200,
          summary="Close the campaign: no more answers or changes")
    async def close(self, db: AsyncSession, principal: Principal, campaign_id: Id
                    ) -> SurveyCampaignOut:
        await service.close_campaign(db, principal, campaign_id)
        return campaign_out(await service.get_campaign(db, principal, campaign_id))

    @post("/{campaign_id:int}/responses", status_code=201,
          summary="Answer a survey asked of me (a retailer or an industry user), once",
          description="Body: {id (a UUID the client makes), answers, about_visit_id (for a "
          "survey that follows visits)}. 201 with the score; a retry with the same id and "
          "answers 200 and the same; 403 survey_not_asked, 409 survey_already_answered, "
          "409 survey_campaign_not_open, 422 every problem of the answers with its pointer.")
    async def respond(self, request: Request[Any, Any, Any], *, db: AsyncSession,
                      principal: Principal, settings: Settings, campaign_id: Id,
                      data: ResponseIn) -> Response[ResponseOut]:
        stored = await service.respond(
            db, principal, campaign_id, data.id.lower(),
            msgspec.json.encode({"answers": data.answers}), about_visit_id=data.about_visit_id,
            lang=request_language(request), tz=settings.tz)
        out = ResponseOut(id=stored.id, campaign_id=stored.campaign_id,
                          percentage=stored.percentage, score_value=stored.score_value,
                          outcome=stored.outcome)
        return Response(out, status_code=201 if stored.created else 200)


@get("/api/me/surveys", tags=["surveys"],
     summary="The surveys I am asked to answer now (a retailer's shop, an industry user)")
async def my_surveys(db: AsyncSession, principal: Principal, settings: Settings
                     ) -> list[AskedOut]:
    offers = await service.my_surveys(db, principal, tz=settings.tz)
    hashes = await service.version_hashes(db, {o.campaign.version_id for o in offers})
    return [AskedOut(campaign_id=o.campaign.id, title=o.campaign.title,
                     survey_id=o.campaign.survey_id, version=hashes.get(o.campaign.version_id, ""),
                     closes_at=o.campaign.closes_at, about_visit_id=o.visit_id,
                     visit_day=o.visit_day, about_staff=o.staff_name) for o in offers]


def handlers() -> list[Any]:
    return [SurveyCampaignController, my_surveys]

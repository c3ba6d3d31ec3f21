"""The licence applications API (``/api/licence-applications``): applying, the steps, the
inspection and the decision. Thin: every rule is the service's; errors are problem details
(403 wrong person, 409 wrong state, 422 naming each field)."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import IdField, utcnow
from rounds.runtime.access import Principal
from rounds.settings import Settings
from rounds.web.language import request_language
from rounds.web.paging import Page, Paging, paged
from rounds.web.params import Id
from rounds_retail_licence import service
from rounds_retail_licence.models import LicenceApplication


class ApplicationOut(msgspec.Struct):
    id: int
    number: str
    state: str
    version: int
    applicant_id: int
    site_id: int | None
    shop_name: str
    address: str
    market_area: str
    documents: list[dict[str, str]]  # [{kind, photo_id}]: GET /api/photos/{id} shows one
    submitted_at: str
    deadline: str
    inspector_id: int | None
    inspection_on: str | None
    inspection_passed: bool | None
    decision: str | None
    licence_number: str | None
    licence_scope: str
    valid_from: str | None
    valid_until: str | None


def out(a: LicenceApplication) -> ApplicationOut:
    return ApplicationOut(
        id=a.id, number=a.number, state=a.state, version=a.version,
        applicant_id=a.applicant_id, site_id=a.site_id, shop_name=a.shop_name,
        address=a.address, market_area=a.market_area,
        documents=[dict(d) for d in a.documents.get("items", [])],
        submitted_at=a.submitted_at.isoformat(),
        deadline=a.deadline.isoformat(), inspector_id=a.inspector_id,
        inspection_on=a.inspection_on.isoformat() if a.inspection_on else None,
        inspection_passed=(a.inspection or {}).get("passed") if a.inspection else None,
        decision=a.decision, licence_number=a.licence_number, licence_scope=a.licence_scope,
        valid_from=a.valid_from.isoformat() if a.valid_from else None,
        valid_until=a.valid_until.isoformat() if a.valid_until else None)


class NoteIn(msgspec.Struct, forbid_unknown_fields=True):
    note: str = ""
    version: IdField | None = None  # the version read: a step on a changed application is 409


class ScheduleIn(msgspec.Struct, forbid_unknown_fields=True):
    inspector_id: IdField | None = None
    on: date | None = None
    note: str = ""
    version: IdField | None = None


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    decision: str = ""
    note: str = ""
    scope: str = "cigarettes_cigars"
    version: IdField | None = None


class LicenceApplicationController(Controller):
    path = "/api/licence-applications"
    tags = ("licence applications",)

    @post("/", status_code=201, summary="Apply for a tobacco retail licence "
          "(retail_licence.apply): the shop, its position, the documents (photo ids)")
    async def apply(self, db: AsyncSession, principal: Principal, settings: Settings,
                    data: service.ApplicationIn) -> ApplicationOut:
        return out(await service.apply(db, principal, data, now=utcnow(), tz=settings.tz))

    @get("/", summary="The applications I see: mine, my inspections, my unit's to review",
         dependencies=paged(100))
    async def listing(self, db: AsyncSession, principal: Principal, paging: Paging,
                      show: str = "all") -> Page[ApplicationOut]:
        found, total = await service.listing(db, principal, show=show, limit=paging.limit,
                                             offset=paging.offset)
        return paging.of([out(a) for a in found], total)

    @get("/{app_id:int}", summary="One application")
    async def one(self, db: AsyncSession, principal: Principal, app_id: Id) -> ApplicationOut:
        app, _ = await service.load(db, principal, app_id)
        return out(app)

    @post("/{app_id:int}/check-documents", status_code=200,
          summary="The documents are complete (retail_licence.review)")
    async def check_documents(self, db: AsyncSession, principal: Principal, app_id: Id,
                              data: NoteIn) -> ApplicationOut:
        return out(await service.check_documents(db, principal, app_id, now=utcnow(),
                                                 note=data.note, version=data.version))

    @post("/{app_id:int}/schedule-inspection", status_code=200,
          summary="Send an inspector on a day (retail_licence.review)")
    async def schedule(self, db: AsyncSession, principal: Principal, settings: Settings,
                       app_id: Id, data: ScheduleIn) -> ApplicationOut:
        return out(await service.schedule_inspection(
            db, principal, app_id, inspector_id=data.inspector_id, on=data.on, now=utcnow(),
            tz=settings.tz, note=data.note, version=data.version))

    @post("/{app_id:int}/inspection", status_code=200,
          summary="The inspection standard, filled (retail_licence.inspect): the forms "
                  "engine's body {id, definition_id, version, answers, evidence}")
    async def inspection(self, request: Request[Any, Any, Any], db: AsyncSession,
                         principal: Principal, settings: Settings, app_id: Id
                         ) -> ApplicationOut:
        raw = await request.body()
        return out(await service.record_inspection(
            db, principal, app_id, raw, now=utcnow(), tz=settings.tz,
            lang=request_language(request)))

    @post("/{app_id:int}/decide", status_code=200,
          summary="Grant (issues the licence on the site) or refuse (retail_licence.review)")
    async def decide(self, db: AsyncSession, principal: Principal, settings: Settings,
                     app_id: Id, data: DecisionIn) -> ApplicationOut:
        return out(await service.decide(db, principal, app_id, decision=data.decision,
                                        note=data.note, scope=data.scope, now=utcnow(),
                                        tz=settings.tz, version=data.version))

    @post("/{app_id:int}/withdraw", status_code=200,
          summary="Withdraw my application (before the decision)")
    async def withdraw(self, db: AsyncSession, principal: Principal, app_id: Id,
                       data: NoteIn) -> ApplicationOut:
        return out(await service.withdraw(db, principal, app_id, now=utcnow(), note=data.note,
                                          version=data.version))


def handlers() -> list[Any]:
    return [LicenceApplicationController]


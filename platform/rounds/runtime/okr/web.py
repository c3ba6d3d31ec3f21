"""HTTP handlers of the OKR slice: ``/api/okr/...`` (thin: each calls one service function).

Scope as ``service`` says: one's own grade; ``report.view_scope`` within the site scope;
anything else is 404, whichever parameter names it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from litestar import Controller, get
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.okr import drill, service
from rounds.runtime.okr.views import DrillPage, GradeDetail, GradeRow, OkrSummary
from rounds.settings import Settings
from rounds.web.paging import Paging, paged
from rounds.web.params import Id, OptionalId

Period = Parameter(description="2026-11 (a month), 2026-Q4, 2026 or 2026-W48 (ISO week)",
                   max_length=8)
CurrentPeriod = Parameter(description="2026-11 (a month), 2026-Q4, 2026 or 2026-W48 (ISO "
                          "week); none: the OKR's current period", max_length=8,
                          default=None)
Level = Literal["person", "org_unit"]


class OkrController(Controller):
    path = "/api/okr"
    tags = ("okr",)

    @get("/", summary="The OKRs in force: whom each grades, how often, its grades and key "
                      "results")
    async def index(self, db: AsyncSession) -> list[OkrSummary]:
        return await service.okrs(db)

    @get("/mine", summary="My grade on each OKR for my role, explained, for the period of "
                          "the OKR's kind that holds the period's first day")
    async def mine(self, db: AsyncSession, principal: Principal,
                   period: str = Period) -> list[GradeDetail]:
        return await service.my_grades(db, principal, period)

    @get("/{okr_id:str}/grades", summary="An OKR's grade table for a period: people or org "
                                         "units in my scope, best first",
         description="level person: the people the OKR applies to (a field user: only "
         "themselves); org_unit: every unit (report.view_scope). unit_id keeps that unit's "
         "subtree; a unit out of scope is 404.")
    async def table(self, db: AsyncSession, principal: Principal, settings: Settings, *,
                    okr_id: str, period: str | None = CurrentPeriod, level: Level = "person",
                    unit_id: OptionalId = None) -> list[GradeRow]:
        return await service.grades(db, principal, okr_id=okr_id, period=period,
                                    level=level, unit_id=unit_id,
                                    today=datetime.now(settings.tz).date())

    @get("/{okr_id:str}/grades/{period:str}/{subject_kind:str}/{subject_id:int}",
         summary="One grade explained: each key result's metric, value, the facts it came "
                 "from, grade, score and weight, and what was left out")
    async def one(self, db: AsyncSession, principal: Principal, *, okr_id: str,
                  period: str, subject_kind: Level, subject_id: Id) -> GradeDetail:
        return await service.grade_of(db, principal, okr_id=okr_id, period=period,
                                      subject_kind=subject_kind, subject_id=subject_id)

    @get("/{okr_id:str}/grades/{period:str}/{subject_kind:str}/{subject_id:int}"
         "/key-results/{key_result_id:str}/rows",
         summary="The visits, submissions or issues behind one key result of one grade, "
                 "a page at a time, each with its page", dependencies=paged(200))
    async def rows(self, db: AsyncSession, principal: Principal, settings: Settings,
                   paging: Paging, *, okr_id: str, period: str, subject_kind: Level,
                   subject_id: Id, key_result_id: str) -> DrillPage:
        return await drill.rows_behind(
            db, principal, okr_id=okr_id, period=period, subject_kind=subject_kind,
            subject_id=subject_id, key_result_id=key_result_id, tz=settings.tz,
            page=paging.page, per_page=paging.per_page)


def handlers() -> list[Any]:
    return [OkrController]

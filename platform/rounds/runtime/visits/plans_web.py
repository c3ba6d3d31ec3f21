"""HTTP handlers for visit plans and "my day": thin, each one calls rounds.runtime.visits.plans."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import get, post
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, Problem
from rounds.runtime.access import Principal
from rounds.runtime.sites.service import position
from rounds.runtime.visits import plans
from rounds.runtime.visits.plans import MyDay, SitePlan
from rounds.settings import Settings
from rounds.web.paging import Page, Paging, paged
from rounds.web.params import OptionalId, PageNumber


class PersonPlanOut(msgspec.Struct):
    user_id: int
    username: str
    display_name: str
    role_id: str
    org_unit_id: int
    planned: int
    done: int
    pending: int
    visits: int
    done_ratio: float | None
    sites: list[SitePlan] | None


class MonthPlans(Page[PersonPlanOut]):
    """A page of the people in my scope with their month's plans."""

    items: list[PersonPlanOut]  # restated: the OpenAPI document reads it from here
    month: str


class PlanReportOut(msgspec.Struct):
    month: str
    created: int
    updated: int
    removed: int
    unchanged: int
    people: int


@get("/api/me/day", tags=["plans"],
     summary="Today's round: sites with visits due this month, nearest first from lat,lng")
async def my_day(db: AsyncSession, principal: Principal, settings: Settings, *,
                 lat: float | None = None, lng: float | None = None,
                 limit: int = Parameter(default=plans.MY_DAY_LIMIT, ge=1, le=50),
                 page: PageNumber = 1) -> MyDay:
    """``limit`` sites a page; ``total`` counts them all, unknown distances last."""
    if (lat is None) != (lng is None):
        raise InvalidInput("give both lat and lng, or neither", [
            Problem("/lat" if lat is None else "/lng", "lat and lng go together", "required")])
    near = position(f"{lat},{lng}") if lat is not None else None
    return await plans.my_day(db, principal, near=near, limit=limit, offset=(page - 1) * limit,
                              tz=settings.tz)


@get("/api/plans/{month:str}", tags=["plans"], dependencies=paged(500),
     summary="Planned, done and pending visits per person in my scope for a month")
async def month_plans(db: AsyncSession, principal: Principal, settings: Settings, month: str,
                      paging: Paging, *, user_id: OptionalId = None) -> MonthPlans:
    people, total = await plans.month_progress(
        db, principal, month, user_id=user_id, limit=paging.limit, offset=paging.offset,
        tz=settings.tz)
    items = [PersonPlanOut(
        user_id=p.user_id, username=p.username, display_name=p.display_name,
        role_id=p.role_id, org_unit_id=p.org_unit_id, planned=p.planned, done=p.done,
        pending=p.pending, visits=p.visits, done_ratio=p.done_ratio, sites=p.sites)
        for p in people]
    return MonthPlans(month=month, items=items, total=total, page=paging.page,
                      per_page=paging.per_page)


@post("/api/plans/{month:str}/generate", tags=["plans"], status_code=200,
      summary="Bring the month's plans in line with targets and assignments (site.manage)")
async def generate(db: AsyncSession, principal: Principal, month: str,
                   org_unit_id: OptionalId = None) -> PlanReportOut:
    r, _ = await plans.generate_for(db, principal, month, unit_id=org_unit_id)
    return PlanReportOut(month=r.month, created=r.created, updated=r.updated,
                         removed=r.removed, unchanged=r.unchanged, people=r.people)


def handlers() -> list[Any]:
    return [my_day, month_plans, generate]

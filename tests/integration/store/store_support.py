"""Raw rows for the store's tests, written as the services write them (direct inserts), and
snapshots of the store's tables to compare.

The field organisation of ``support.field``: city ⊃ st_a ⊃ area_a1 (shops RA1, RA2, served
by ``cm_a``; RA1 also by ``mi_a``), st_b (shop RB1, ``cm_b``). The company's time zone is
Asia/Shanghai (UTC+8), so a local day starts at 16:00 UTC the day before.
"""

from __future__ import annotations

import math
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import table_of
from rounds.runtime.definitions.service import get_version
from rounds.runtime.issues.models import Issue
from rounds.runtime.store.models import (
    MEASURES,
    ClosedDay,
    DayFact,
    ItemDayFact,
    ItemMonthFact,
    MonthFact,
    MonthPlan,
    MonthSite,
)
from rounds.runtime.submissions.models import FailedItem, Submission
from rounds.runtime.surveys.models import OPEN, RETAILER, SurveyCampaign, SurveyResponse
from rounds.runtime.visits.models import PlannedVisit, Visit
from support.field import Field

Sessions = async_sessionmaker[AsyncSession]
TZ = ZoneInfo("Asia/Shanghai")
STANDARD = "customer_manager_visit"
SURVEY = "retailer_satisfaction"


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time in the company's zone, as UTC."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ).astimezone(UTC)


async def add_visit(db: AsyncSession, world: Field, user: str, site: str, at: datetime, *,
                    seconds: int | None = 1200, flagged: bool = False) -> int:
    """A visit checked in at ``at``, checked out ``seconds`` later (None: still open)."""
    v = Visit(user_id=world.users[user], site_id=world.sites[site], method="gps",
              checked_in_at=at, flags={"far": True} if flagged else {}, flagged=flagged,
              checked_out_at=at + timedelta(seconds=seconds) if seconds is not None else None,
              duration_s=seconds)
    db.add(v)
    await db.flush()
    return v.id


async def add_submission(db: AsyncSession, world: Field, user: str, definition_id: str, *,
                         happened_at: datetime, submitted_at: datetime | None = None,
                         site: str | None = None, visit_id: int | None = None,
                         score: float | None = None, percentage: float | None = None,
                         passed: bool | None = None, failed: tuple[str, ...] = (),
                         alerts: int = 0) -> str:
    version = await get_version(db, definition_id)
    sid = str(uuid.uuid4())
    db.add(Submission(
        id=sid, body_hash="0" * 64, user_id=world.users[user],
        site_id=world.sites[site] if site else None, visit_id=visit_id,
        definition_id=definition_id, version_id=version.id,
        content_hash=version.content_hash, answers={}, evidence={}, evaluation={},
        total=score, percentage=percentage, passed=passed, score_value=score,
        alert_count=alerts, failed_count=len(failed),
        submitted_at=submitted_at or happened_at, happened_at=happened_at))
    await db.flush()
    for item in failed:
        db.add(FailedItem(submission_id=sid, item_id=item, severity="medium",
                          site_id=world.sites[site] if site else None,
                          created_at=submitted_at or happened_at))
    await db.flush()
    return sid


async def add_campaign(db: AsyncSession, world: Field, survey: str = SURVEY) -> int:
    """An open retailer campaign of ``survey`` (its current version), for responses."""
    version = await get_version(db, survey)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    campaign = SurveyCampaign(
        title="满意度", survey_id=survey, version_id=version.id, audience=RETAILER,
        targeting={}, follow_visit={"within_days": 3, "roles": ["customer_manager"]},
        target_responses=100, period_start=start.date(), period_end=date(2027, 12, 31),
        opens_at=start, closes_at=datetime(2028, 1, 1, tzinfo=UTC), status=OPEN,
        created_by=world.users["leader"])
    db.add(campaign)
    await db.flush()
    return campaign.id


async def add_response(db: AsyncSession, world: Field, campaign_id: int, *,
                       happened_at: datetime, submitted_at: datetime | None = None,
                       about: str | None = None, site: str | None = None,
                       unit: str | None = None, percentage: float | None = None,
                       score: float | None = None, outcome: str | None = None,
                       answers: dict[str, Any] | None = None, survey: str = SURVEY) -> str:
    """A campaign's response as ``store_response`` writes it (its score columns given):
    about the staff member ``about``, the shop ``site``, the org unit ``unit`` stored with it
    (None: none stored)."""
    version = await get_version(db, survey)
    rid = str(uuid.uuid4())
    db.add(SurveyResponse(
        id=rid, body_hash="0" * 64, campaign_id=campaign_id, definition_id=survey,
        version_id=version.id, respondent=RETAILER, user_id=None,
        site_id=world.sites[site] if site else None,
        org_unit_id=world.units[unit] if unit else None,
        about_user_id=world.users[about] if about else None, answers=answers or {},
        evaluation={},
        total=score, percentage=percentage, score_value=score, outcome=outcome,
        submitted_at=submitted_at or happened_at, happened_at=happened_at))
    await db.flush()
    return rid


async def add_issue(db: AsyncSession, world: Field, *, unit: str, created_at: datetime,
                    status: str = "open", source: str = "failed_item",
                    assignee: str | None = None, site: str | None = None,
                    definition_id: str | None = None, **times: Any) -> int:
    issue = Issue(title="t", description="", source=source, severity="medium",
                  status=status, org_unit_id=world.units[unit],
                  site_id=world.sites[site] if site else None, definition_id=definition_id,
                  assignee_id=world.users[assignee] if assignee else None,
                  created_at=created_at, updated_at=times.pop("updated_at", created_at),
                  **times)
    db.add(issue)
    await db.flush()
    return issue.id


async def add_plan(db: AsyncSession, world: Field, month: str, user: str, site: str,
                   visits: int) -> None:
    db.add(PlannedVisit(month=month, user_id=world.users[user], site_id=world.sites[site],
                        visits=visits))
    await db.flush()


STORE_TABLES = (DayFact, MonthFact, MonthSite, MonthPlan, ItemDayFact, ItemMonthFact)


def _norm(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 6) + 0.0
    return value


async def snapshot(sessions: Sessions, *, closed: bool = False) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the store's fact tables (floats to 6 places), sorted."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with sessions() as db:
        for model in (*STORE_TABLES, *((ClosedDay,) if closed else ())):
            t = table_of(model)
            rows = (await db.execute(select(t))).all()
            out[t.name] = sorted(tuple(_norm(v) for v in r) for r in rows)
    return out


async def month_equals_days(sessions: Sessions) -> None:
    """The month tables hold exactly the sums of their day rows."""
    async with sessions() as db:
        days = (await db.execute(select(table_of(DayFact)))).mappings().all()
        months = (await db.execute(select(table_of(MonthFact)))).mappings().all()
        sites = (await db.execute(select(table_of(MonthSite)))).mappings().all()
        item_days = (await db.execute(select(table_of(ItemDayFact)))).mappings().all()
        item_months = (await db.execute(select(table_of(ItemMonthFact)))).mappings().all()
    want: dict[tuple[Any, ...], dict[str, float]] = {}
    want_sites: dict[tuple[Any, ...], list[int]] = {}
    for r in days:
        month = r["day"].strftime("%Y-%m")
        acc = want.setdefault((month, r["user_id"], r["org_unit_id"], r["definition_id"]),
                              dict.fromkeys(MEASURES, 0.0))
        for m in MEASURES:
            acc[m] += r[m]
        if r["definition_id"] == "" and r["checkins"]:
            s = want_sites.setdefault((month, r["user_id"], r["site_id"]), [0, 0])
            s[0] += r["checkins"]
            s[1] += r["visits_done"]
    got = {(r["month"], r["user_id"], r["org_unit_id"], r["definition_id"]):
           {m: float(r[m]) for m in MEASURES} for r in months}
    assert set(got) == set(want), (set(got) ^ set(want))
    for key, values in want.items():
        for m, v in values.items():
            assert math.isclose(got[key][m], v, rel_tol=1e-9, abs_tol=1e-6), (key, m)
    got_sites = {(r["month"], r["user_id"], r["site_id"]): [r["checkins"], r["visits_done"]]
                 for r in sites if r["checkins"] or r["visits_done"]}
    assert got_sites == want_sites
    want_items: dict[tuple[Any, ...], int] = {}
    for r in item_days:
        key = (r["day"].strftime("%Y-%m"), r["user_id"], r["org_unit_id"],
               r["definition_id"], r["item_id"])
        want_items[key] = want_items.get(key, 0) + r["failed"]
    assert {(r["month"], r["user_id"], r["org_unit_id"], r["definition_id"], r["item_id"]):
            r["failed"] for r in item_months} == want_items
    await plans_equal_sites(sessions)


async def plans_equal_sites(sessions: Sessions) -> dict[tuple[Any, ...], list[int]]:
    """``store_month_plans`` holds exactly ``store_month_sites`` grouped by (month, user, org
    unit), worked out here in Python; returns it."""
    async with sessions() as db:
        sites = (await db.execute(select(table_of(MonthSite)))).mappings().all()
        plans = (await db.execute(select(table_of(MonthPlan)))).mappings().all()
    want: dict[tuple[Any, ...], list[int]] = {}
    for r in sites:
        acc = want.setdefault((r["month"], r["user_id"], r["org_unit_id"]), [0, 0, 0, 0, 0])
        planned, done, checkins = r["planned"], r["visits_done"], r["checkins"]
        acc[0] += planned
        acc[1] += min(done, planned)
        acc[2] += checkins
        acc[3] += planned > 0
        acc[4] += planned > 0 and checkins > 0
    got = {(r["month"], r["user_id"], r["org_unit_id"]):
           [r["planned"], r["visits_done"], r["checkins"], r["planned_sites"],
            r["visited_sites"]] for r in plans}
    assert got == want
    return got

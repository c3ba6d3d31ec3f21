"""Weekly and daily visit targets stay weekly and daily, on SQLite and PostgreSQL: the plan
keeps the frequency beside the month's count, and "my day" makes a weekly site due again
each week (Monday to Sunday) and a daily one each day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.runtime.definitions.service import get_version
from rounds.runtime.submissions.models import Submission
from rounds.runtime.visits import plans
from rounds.runtime.visits.models import PlannedVisit, Visit
from support.field import HOME, Field, principal, seed_field
from support.visit_rules import definitions_with_targets

Sessions = async_sessionmaker[AsyncSession]
MONTH = "2026-11"  # 30 days; 9 November is a Monday


async def _world(sessions: Sessions, tmp_path: Path, per: str, visits: int = 1) -> Field:
    folder = definitions_with_targets(tmp_path, [
        {"site_kind": "retailer", "per": per, "visits": visits}])
    async with transaction(sessions) as db:
        world = await seed_field(db, definitions_folder=folder)
        await plans.generate_month_plans(db, MONTH)
        return world


async def _visit(sessions: Sessions, world: Field, site: str, at: datetime) -> None:
    """A visit with its form submitted (a visit counts for the plan once it has one)."""
    async with transaction(sessions) as db:
        v = Visit(user_id=world.users["cm_a"], site_id=world.sites[site], method="gps",
                  checked_in_at=at, checked_out_at=at + timedelta(minutes=20),
                  duration_s=1200, flags={}, flagged=False)
        db.add(v)
        await db.flush()
        version = await get_version(db, "customer_manager_visit")
        db.add(Submission(
            id=str(uuid.uuid4()), body_hash="0" * 64, user_id=v.user_id, site_id=v.site_id,
            visit_id=v.id, definition_id="customer_manager_visit", version_id=version.id,
            content_hash=version.content_hash, answers={}, evidence={}, evaluation={},
            submitted_at=at + timedelta(minutes=10)))


async def _day(sessions: Sessions, today: date) -> list[tuple[str, str, int, int]]:
    async with sessions() as db:
        day = await plans.my_day(db, await principal(db, "cm_a"), near=HOME, today=today)
    return [(s.code, s.per, s.planned, s.remaining) for s in day.stops]


async def _plans(sessions: Sessions, world: Field) -> set[tuple[Any, ...]]:
    codes = {i: c for c, i in world.sites.items()}
    async with sessions() as db:
        rows = (await db.execute(select(PlannedVisit).where(
            PlannedVisit.user_id == world.users["cm_a"]))).scalars()
        return {(codes[p.site_id], p.visits, p.per, p.per_visits) for p in rows}


async def test_a_weekly_target_is_due_each_week(sessions: Sessions, tmp_path: Path) -> None:
    world = await _world(sessions, tmp_path, "week")
    # The month's count (1 a week over 30 days: 4) with the frequency kept beside it.
    assert await _plans(sessions, world) == {("RA1", 4, "week", 1), ("RA2", 4, "week", 1)}
    async with sessions() as db:
        [person], _ = await plans.month_progress(db, await principal(db, "cm_a"), MONTH,
                                                 user_id=world.users["cm_a"])
    assert {(s.code, s.planned, s.per, s.per_visits) for s in person.sites or []} == {
        ("RA1", 4, "week", 1), ("RA2", 4, "week", 1)}
    wednesday = date(2026, 11, 11)
    assert await _day(sessions, wednesday) == [("RA1", "week", 1, 1), ("RA2", "week", 1, 1)]
    # Sunday 8th is last week; Monday 9th serves this week's visit of RA1.
    await _visit(sessions, world, "RA1", datetime(2026, 11, 8, 3, tzinfo=UTC))
    assert await _day(sessions, wednesday) == [("RA1", "week", 1, 1), ("RA2", "week", 1, 1)]
    await _visit(sessions, world, "RA1", datetime(2026, 11, 9, 3, tzinfo=UTC))
    assert await _day(sessions, wednesday) == [("RA2", "week", 1, 1)]
    async with sessions() as db:
        day = await plans.my_day(db, await principal(db, "cm_a"), today=wednesday)
    assert day.remaining_sites == 1
    # Next Monday RA1 is due again, though the month still has visits to spare.
    assert await _day(sessions, date(2026, 11, 16)) == [("RA1", "week", 1, 1),
                                                       ("RA2", "week", 1, 1)]


async def test_a_daily_target_is_due_each_day(sessions: Sessions, tmp_path: Path) -> None:
    world = await _world(sessions, tmp_path, "day")
    assert await _plans(sessions, world) == {("RA1", 30, "day", 1), ("RA2", 30, "day", 1)}
    today = date(2026, 11, 11)
    assert await _day(sessions, today) == [("RA1", "day", 1, 1), ("RA2", "day", 1, 1)]
    await _visit(sessions, world, "RA1", datetime(2026, 11, 11, 1, tzinfo=UTC))
    assert await _day(sessions, today) == [("RA2", "day", 1, 1)]
    assert await _day(sessions, today + timedelta(days=1)) == [("RA1", "day", 1, 1),
                                                              ("RA2", "day", 1, 1)]


async def test_twice_a_day_stays_due_after_the_first_visit(sessions: Sessions,
                                                           tmp_path: Path) -> None:
    world = await _world(sessions, tmp_path, "day", visits=2)
    await _visit(sessions, world, "RA1", datetime(2026, 11, 11, 1, tzinfo=UTC))
    assert await _day(sessions, date(2026, 11, 11)) == [("RA1", "day", 2, 1),
                                                       ("RA2", "day", 2, 2)]


@pytest.mark.parametrize("per", ["week", "day"])
async def test_regenerating_keeps_the_frequency(sessions: Sessions, tmp_path: Path,
                                                per: str) -> None:
    world = await _world(sessions, tmp_path, per)
    async with transaction(sessions) as db:
        report = await plans.generate_month_plans(db, MONTH)
    assert not report.changed and report.unchanged >= 2
    assert {p[2] for p in await _plans(sessions, world)} == {per}

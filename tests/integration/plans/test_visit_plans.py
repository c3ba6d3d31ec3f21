"""Monthly visit plans on real SQLite and PostgreSQL: generated from the roles' visit targets,
idempotent, following assignments; progress per person in scope, a visit done once its form
was submitted (or at check-in where the role says so); my day, nearest first, unknown
distances last, a page at a time."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.errors import InvalidInput, NotFound
from rounds.runtime.access import Forbidden
from rounds.runtime.definitions.service import get_version
from rounds.runtime.sites.models import Site, SiteAssignment
from rounds.runtime.submissions.models import Submission
from rounds.runtime.visits import plans
from rounds.runtime.visits.models import PlannedVisit, Visit
from support.field import (
    DEFINITIONS,
    HOME,
    POSITIONS,
    Field,
    principal,
    seed_field,
    sync_definitions,
)

Sessions = async_sessionmaker[AsyncSession]
MONTH = "2026-11"


@pytest.fixture
async def world(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        return await seed_field(db)


async def planned(sessions: Sessions, world: Field) -> dict[tuple[str, str], int]:
    names = {i: n for n, i in world.users.items()}
    codes = {i: c for c, i in world.sites.items()}
    async with sessions() as db:
        rows = (await db.execute(select(PlannedVisit).where(PlannedVisit.month == MONTH))
                ).scalars()
        return {(names[p.user_id], codes[p.site_id]): p.visits for p in rows}


def visit(world: Field, user: str, site: str, at: datetime) -> Visit:
    return Visit(user_id=world.users[user], site_id=world.sites[site], method="gps",
                 checked_in_at=at, checked_out_at=at + timedelta(minutes=20), duration_s=1200,
                 flags={}, flagged=False)


async def add_visit(db: AsyncSession, world: Field, user: str, site: str, at: datetime, *,
                    submitted: bool = True) -> Visit:
    """A visit, and (``submitted``) the form submitted during it, as the pages make them."""
    v = visit(world, user, site, at)
    db.add(v)
    await db.flush()
    if submitted:
        version = await get_version(db, "customer_manager_visit")
        db.add(Submission(
            id=str(uuid.uuid4()), body_hash="0" * 64, user_id=v.user_id, site_id=v.site_id,
            visit_id=v.id, definition_id="customer_manager_visit", version_id=version.id,
            content_hash=version.content_hash, answers={}, evidence={}, evaluation={},
            submitted_at=at + timedelta(minutes=10)))
    return v


def test_targets_become_monthly_numbers() -> None:
    week = {"site_kind": "retailer", "per": "week", "visits": 1}
    assert plans.monthly_visits(week, "2026-02") == 4  # 28 days
    assert plans.monthly_visits(week, "2026-01") == 4  # 31 days: 4.43
    assert plans.monthly_visits({**week, "visits": 2}, "2026-01") == 9  # 8.86
    quarter = {"site_kind": "retailer", "per": "quarter", "visits": 1}
    assert [plans.monthly_visits(quarter, f"2026-{m:02d}") for m in (1, 2, 3, 4)] == [1, 0, 0, 1]
    year = {"site_kind": "retailer", "per": "year", "visits": 14}
    by_month = [plans.monthly_visits(year, f"2026-{m:02d}") for m in range(1, 13)]
    assert sum(by_month) == 14 and by_month[:3] == [2, 2, 1]
    assert plans.monthly_visits({**week, "per": "month", "visits": 2}, "2026-11") == 2
    start, end = plans.month_bounds("2026-12", timezone(timedelta(hours=8)))
    assert start == datetime(2026, 11, 30, 16, tzinfo=UTC)
    assert end == datetime(2026, 12, 31, 16, tzinfo=UTC)
    with pytest.raises(InvalidInput):
        plans.parse_month("2026-13")


async def test_generation_is_idempotent_and_follows_assignments(sessions: Sessions,
                                                                world: Field) -> None:
    async with transaction(sessions) as db:
        first = await plans.generate_month_plans(db, MONTH)
    assert (first.created, first.people) == (4, 3)
    # Customer managers visit each assigned retailer twice a month, market inspectors once;
    # station heads, leaders and drivers have no targets; the transit station is not a
    # retailer.
    assert await planned(sessions, world) == {
        ("cm_a", "RA1"): 2, ("cm_a", "RA2"): 2, ("cm_b", "RB1"): 2, ("mi_a", "RA1"): 1}
    async with transaction(sessions) as db:
        again = await plans.generate_month_plans(db, MONTH)
    assert not again.changed and again.unchanged == 4

    # Mid-month: RB1 moves from cm_b to cm_a, and mi_a takes on RA2.
    async with transaction(sessions) as db:
        moved = (await db.execute(select(SiteAssignment).where(
            SiteAssignment.site_id == world.sites["RB1"]))).scalar_one()
        moved.user_id = world.users["cm_a"]
        db.add(SiteAssignment(site_id=world.sites["RA2"], role_id="market_inspector",
                              user_id=world.users["mi_a"]))
    async with transaction(sessions) as db:
        rerun = await plans.generate_month_plans(db, MONTH)
    assert (rerun.created, rerun.removed, rerun.unchanged) == (2, 1, 3)
    assert await planned(sessions, world) == {
        ("cm_a", "RA1"): 2, ("cm_a", "RA2"): 2, ("cm_a", "RB1"): 2, ("mi_a", "RA1"): 1,
        ("mi_a", "RA2"): 1}
    async with transaction(sessions) as db:
        assert not (await plans.generate_month_plans(db, MONTH)).changed


async def test_progress_counts_and_scope(sessions: Sessions, world: Field) -> None:
    day = datetime(2026, 11, 3, 10, tzinfo=UTC)
    async with transaction(sessions) as db:
        await plans.generate_month_plans(db, MONTH)
        for at in (day, day + timedelta(days=5), day + timedelta(days=9)):
            await add_visit(db, world, "cm_a", "RA1", at)  # three visits, two planned
        await add_visit(db, world, "cm_a", "RA2", day + timedelta(days=1))
        await add_visit(db, world, "cm_a", "RA2", datetime(2026, 10, 30, tzinfo=UTC))  # October
        await add_visit(db, world, "cm_a", "RA2", datetime(2026, 12, 1, tzinfo=UTC))  # December
        await add_visit(db, world, "mi_a", "RA1", day)
    async with sessions() as db:
        cm = await principal(db, "cm_a")
        (me,), total = await plans.month_progress(db, cm, MONTH, user_id=world.users["cm_a"])
        assert (me.planned, me.done, me.pending, me.visits, total) == (4, 3, 1, 4, 1)
        assert me.done_ratio == 0.75
        assert [(s.code, s.planned, s.done, s.remaining, s.visits) for s in me.sites or []] == [
            ("RA1", 2, 2, 0, 3), ("RA2", 2, 1, 1, 1)]
        # Without user_id a staff member sees themselves, never anyone else.
        people, _ = await plans.month_progress(db, cm, MONTH)
        assert [p.username for p in people] == ["cm_a"] and people[0].sites is None
        with pytest.raises(NotFound):
            await plans.month_progress(db, cm, MONTH, user_id=world.users["cm_b"])
        driver = await principal(db, "driver")
        (own,), _ = await plans.month_progress(db, driver, MONTH)
        assert (own.username, own.planned) == ("driver", 0)
        with pytest.raises(NotFound):
            await plans.month_progress(db, driver, MONTH, user_id=world.users["cm_a"])
        # A station head sees the people of the station who have plans; a leader, everyone.
        head = await principal(db, "head_a")
        theirs, _ = await plans.month_progress(db, head, MONTH)
        assert {(p.username, p.planned, p.done) for p in theirs} == {("cm_a", 4, 3),
                                                                     ("mi_a", 1, 1)}
        with pytest.raises(NotFound):
            await plans.month_progress(db, head, MONTH, user_id=world.users["cm_b"])
        leader = await principal(db, "leader")
        everyone, total = await plans.month_progress(db, leader, MONTH, limit=2)
        assert total == 3 and [p.username for p in everyone] == ["cm_a", "cm_b"]
        with pytest.raises(Forbidden):
            await plans.month_progress(db, await principal(db, "shop_ra1"), MONTH)


async def test_my_day_is_nearest_first(sessions: Sessions, world: Field) -> None:
    today = date(2026, 11, 10)
    async with transaction(sessions) as db:
        # cm_a serves RB1 too, so that the round has three stops.
        moved = (await db.execute(select(SiteAssignment).where(
            SiteAssignment.site_id == world.sites["RB1"]))).scalar_one()
        moved.user_id = world.users["cm_a"]
        await db.flush()
        await plans.generate_month_plans(db, MONTH)
    async with sessions() as db:
        cm = await principal(db, "cm_a")
        day = await plans.my_day(db, cm, near=HOME, today=today)
        assert [s.code for s in day.stops] == ["RA1", "RA2", "RB1"]
        assert [s.distance_m for s in day.stops] == sorted(s.distance_m or 0 for s in day.stops)
        near_rb1 = await plans.my_day(db, cm, near=POSITIONS["RB1"], today=today)
        assert [s.code for s in near_rb1.stops] == ["RB1", "RA2", "RA1"]
        assert len((await plans.my_day(db, cm, near=HOME, today=today, limit=2)).stops) == 2
        assert day.month == MONTH and day.remaining_sites == 3
    async with transaction(sessions) as db:
        # RA1 done twice this month; RA2 visited this morning (one visit still due).
        await add_visit(db, world, "cm_a", "RA1", datetime(2026, 11, 2, 9, tzinfo=UTC))
        await add_visit(db, world, "cm_a", "RA1", datetime(2026, 11, 5, 9, tzinfo=UTC))
        await add_visit(db, world, "cm_a", "RA2", datetime(2026, 11, 10, 8, tzinfo=UTC))
    async with sessions() as db:
        cm = await principal(db, "cm_a")
        day = await plans.my_day(db, cm, near=HOME, today=today)
        assert [(s.code, s.remaining) for s in day.stops] == [("RB1", 2)]
        assert day.remaining_sites == 2
        tomorrow = await plans.my_day(db, cm, near=HOME, today=today + timedelta(days=1))
        assert [(s.code, s.remaining) for s in tomorrow.stops] == [("RA2", 1), ("RB1", 2)]
        # Without a position: the sites with most visits due first.
        unplaced = await plans.my_day(db, cm, today=today + timedelta(days=1))
        assert [s.code for s in unplaced.stops] == ["RB1", "RA2"]
        assert all(s.distance_m is None for s in unplaced.stops)
        with pytest.raises(Forbidden):
            await plans.my_day(db, await principal(db, "shop_ra1"), near=HOME, today=today)


async def test_a_visit_is_done_once_its_form_was_submitted(sessions: Sessions, world: Field,
                                                           tmp_path: Path) -> None:
    today = date(2026, 11, 10)
    morning = datetime(2026, 11, 10, 1, tzinfo=UTC)
    async with transaction(sessions) as db:
        await plans.generate_month_plans(db, MONTH)
        # RA1: checked in and left without the form; RA2: the form was submitted.
        await add_visit(db, world, "cm_a", "RA1", morning, submitted=False)
        await add_visit(db, world, "cm_a", "RA2", morning + timedelta(hours=1))
    async with sessions() as db:
        cm = await principal(db, "cm_a")
        (me,), _ = await plans.month_progress(db, cm, MONTH, user_id=world.users["cm_a"])
        assert (me.planned, me.done, me.pending, me.visits) == (4, 1, 3, 2)
        assert [(s.code, s.done, s.visits) for s in me.sites or []] == [("RA1", 0, 1),
                                                                         ("RA2", 1, 1)]
        # The unfinished visit leaves RA1 on today's round, to go back and do it.
        day = await plans.my_day(db, cm, near=HOME, today=today)
        assert [s.code for s in day.stops] == ["RA1"] and day.total == 1
    # A role whose rule is that a check-in is the visit (a delivery made is done).
    folder = tmp_path / "definitions"
    import shutil
    shutil.copytree(DEFINITIONS, folder)
    role_path = folder / "roles" / "customer_manager.json"
    role = json.loads(role_path.read_text())
    role_path.write_text(json.dumps({**role, "visit_done": "checked_in"}, ensure_ascii=False))
    async with transaction(sessions) as db:
        await sync_definitions(db, folder)
    async with sessions() as db:
        cm = await principal(db, "cm_a")
        (me,), _ = await plans.month_progress(db, cm, MONTH, user_id=world.users["cm_a"])
        assert (me.done, me.pending) == (2, 2)
        assert (await plans.my_day(db, cm, near=HOME, today=today)).stops == []


async def test_my_day_pages_every_site_nearest_first(sessions: Sessions, world: Field) -> None:
    today = date(2026, 11, 10)
    async with transaction(sessions) as db:
        # Eleven more retailers for cm_a, north of HOME at 100 m steps, named in reverse.
        ra1 = await db.get(Site, world.sites["RA1"])
        assert ra1 is not None
        for i in range(11):
            site = Site(site_kind="retailer", code=f"N{i:02d}", name=f"Shop {10 - i:02d}",
                        lat=HOME[0] + (i + 1) * 0.0009, lng=HOME[1],
                        org_unit_id=ra1.org_unit_id, qr_token=uuid.uuid4().hex,
                        attributes=dict(ra1.attributes))
            db.add(site)
            await db.flush()
            db.add(SiteAssignment(site_id=site.id, role_id="customer_manager",
                                  user_id=world.users["cm_a"]))
        await db.flush()
        await plans.generate_month_plans(db, MONTH)
    async with sessions() as db:
        cm = await principal(db, "cm_a")
        whole = await plans.my_day(db, cm, near=HOME, today=today, limit=50)
        assert whole.total == len(whole.stops) == 13
        distances = [s.distance_m for s in whole.stops]
        assert None not in distances and distances == sorted(d or 0 for d in distances)
        pages = [await plans.my_day(db, cm, near=HOME, today=today, limit=5, offset=o)
                 for o in (0, 5, 10)]
        assert [len(p.stops) for p in pages] == [5, 5, 3]
        assert {p.total for p in pages} == {13}
        assert [s.code for p in pages for s in p.stops] == [s.code for s in whole.stops]
        # Without a position every distance is unknown: most visits due first, then by name.
        blind = await plans.my_day(db, cm, today=today, limit=50)
        assert blind.total == 13 and all(s.distance_m is None for s in blind.stops)
        assert [s.name for s in blind.stops] == sorted(s.name for s in blind.stops)

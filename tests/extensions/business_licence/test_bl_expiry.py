"""Before a licence expires: the reconciler opens one issue per site whose latest check
expires within 30 days (or has expired), for the shop's customer manager with the station
head to accept the fix; never two (run again, a closed issue, an active one), and a new
check with a later expiry stops it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rounds_business_licence import service
from rounds_business_licence.models import LicenceCheck
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from test_bl_flow import photo

from rounds.db import transaction
from rounds.runtime.issues.models import Issue, IssueEvent
from support.field import Field, principal

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)  # 10:00 in the company's zone
TODAY = date(2026, 12, 3)


async def verify(sessions: async_sessionmaker[AsyncSession], world: Field, tmp_path: Path,
                 site: str, username: str, expires_on: date | None) -> int:
    async with transaction(sessions) as db:
        row = await service.create_check(
            db, await principal(db, username), world.sites[site], code="91330100716105852F",
            holder="Wang", address="Road", expires_on=expires_on,
            photo_id=await photo(db, username, tmp_path), now=NOW, today=TODAY,
            registry=None)
        return row.id


async def run(sessions: async_sessionmaker[AsyncSession], now: datetime = NOW) -> int:
    async with transaction(sessions) as db:
        return await service.open_expiry_issues(db, now, TZ)


async def licence_issues(sessions: async_sessionmaker[AsyncSession]) -> list[Issue]:
    async with sessions() as db:
        return list((await db.execute(select(Issue).where(Issue.source == service.SOURCE)
                                      .order_by(Issue.id))).scalars())


async def test_an_issue_before_the_licence_expires_once(
        bl_sessions: async_sessionmaker[AsyncSession], world: Field, tmp_path: Path) -> None:
    await verify(bl_sessions, world, tmp_path, "RA1", "cm_a", TODAY + timedelta(days=400))
    ra1 = await verify(bl_sessions, world, tmp_path, "RA1", "cm_a", TODAY + timedelta(days=20))
    await verify(bl_sessions, world, tmp_path, "RA2", "cm_a", TODAY + timedelta(days=31))
    rb1 = await verify(bl_sessions, world, tmp_path, "RB1", "cm_b", TODAY - timedelta(days=5))
    assert await run(bl_sessions) == 2
    first, second = await licence_issues(bl_sessions)
    assert (first.site_id, first.assignee_id, first.assigner_id, first.status) == (
        world.sites["RA1"], world.users["cm_a"], world.users["head_a"], "assigned")
    assert (second.site_id, second.assignee_id, second.assigner_id) == (
        world.sites["RB1"], world.users["cm_b"], world.users["head_b"])
    assert first.titles == {"zh": "营业执照将于2026年12月23日到期：Shop RA1",
                            "en": "Business licence expires on 2026-12-23: Shop RA1"}
    assert second.titles is not None and second.titles["zh"].startswith("营业执照已于")
    # due the morning it expires (the company's time), the expired one the usual time
    assert first.due_at == datetime(2026, 12, 22, 16, 0, tzinfo=UTC)
    assert second.due_at is not None and second.due_at > NOW
    async with bl_sessions() as db:
        marked = {int(cid): iid for cid, iid in await db.execute(
            select(LicenceCheck.id, LicenceCheck.expiry_issue_id)
            .where(LicenceCheck.expiry_issue_id.is_not(None)))}
        actions = list((await db.execute(select(IssueEvent.action).where(
            IssueEvent.issue_id == first.id).order_by(IssueEvent.id))).scalars())
    assert marked == {ra1: first.id, rb1: second.id}
    assert actions[0] == "created" and "assigned" in actions

    assert await run(bl_sessions) == 0  # again: nothing new
    # Closed without a new check: still none (one per check) ...
    async with transaction(bl_sessions) as db:
        await db.execute(update(Issue).where(Issue.id == first.id).values(status="closed"))
    assert await run(bl_sessions) == 0
    # ... a renewed licence: none; a new check still close to its expiry: a new issue.
    await verify(bl_sessions, world, tmp_path, "RA1", "cm_a", TODAY + timedelta(days=800))
    assert await run(bl_sessions) == 0
    await verify(bl_sessions, world, tmp_path, "RA1", "cm_a", TODAY + timedelta(days=10))
    assert await run(bl_sessions) == 1
    # RB1 has an active one: a new check near expiry waits for it to be done.
    await verify(bl_sessions, world, tmp_path, "RB1", "cm_b", TODAY + timedelta(days=3))
    assert await run(bl_sessions) == 0
    # A day later RA2 is within 30 days too.
    assert await run(bl_sessions, NOW + timedelta(days=1)) == 1
    assert len(await licence_issues(bl_sessions)) == 4


async def test_a_site_without_a_customer_manager_goes_to_the_head(
        bl_sessions: async_sessionmaker[AsyncSession], world: Field, tmp_path: Path) -> None:
    from rounds.runtime.sites.models import SiteAssignment

    await verify(bl_sessions, world, tmp_path, "RA2", "cm_a", TODAY + timedelta(days=5))
    async with transaction(bl_sessions) as db:
        await db.execute(SiteAssignment.__table__.delete().where(
            SiteAssignment.site_id == world.sites["RA2"]))
    assert await run(bl_sessions) == 1
    (issue,) = await licence_issues(bl_sessions)
    assert issue.assignee_id == world.users["head_a"]  # the routing's fallback, written down
    async with bl_sessions() as db:
        routed = list((await db.execute(select(IssueEvent.data).where(
            IssueEvent.issue_id == issue.id, IssueEvent.action == "routed"))).scalars())
    assert routed and routed[0]["fallback"] == "head"


async def test_the_demo_checks_three_retailers_once(
        bl_sessions: async_sessionmaker[AsyncSession], world: Field) -> None:
    from rounds_business_licence import demo

    for _ in range(2):  # idempotent
        async with transaction(bl_sessions) as db:
            await demo.seed(db, NOW)
    async with bl_sessions() as db:
        rows = [(s, o) for s, o in await db.execute(
            select(LicenceCheck.site_id, LicenceCheck.outcome).order_by(LicenceCheck.site_id))]
    assert rows == [(world.sites["RA1"], "passed"), (world.sites["RA2"], "warning"),
                    (world.sites["RB1"], "failed")]
    assert await run(bl_sessions) == 1  # the one near its expiry


async def test_the_job_worker_runs_it_with_the_reconcilers(
        bl_sessions: async_sessionmaker[AsyncSession], world: Field, tmp_path: Path) -> None:
    from rounds_business_licence import jobs

    from rounds.jobs import maintenance

    assert jobs.open_licence_expiry_issues in maintenance.RECONCILERS
    today = datetime.now(UTC).date()
    await verify(bl_sessions, world, tmp_path, "RA1", "cm_a", today + timedelta(days=3))
    async with transaction(bl_sessions) as db:
        assert await jobs.open_licence_expiry_issues(db) == 1

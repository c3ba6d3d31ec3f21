"""`rounds demo`: fill an empty database with the demo city and three months of work."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import create_engine, session_factory, transaction
from rounds.demo.city import DEMO_PASSWORD, build_city
from rounds.extensions import activate_from
from rounds.migrate import upgrade
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.settings import Settings

MONTHS = 3  # of history: this month and the two before it


async def _build(settings: Settings, *, scale: float, seed: int, only_if_empty: bool) -> bool:
    from rounds.demo.issues import build_issues
    from rounds.demo.market import build_market
    from rounds.demo.surveys import build_surveys
    from rounds.demo.work import build_work, month_start
    from rounds.runtime.visits.plans import generate_month_plans, month_of

    engine = create_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        async with sessions() as db:
            count = (await db.execute(select(func.count()).select_from(OrgUnit))).scalar_one()
        if count:
            if only_if_empty:
                print("==> demo data: the database has data already; left as it is")
                return False
            raise SystemExit("the demo needs an empty database (it has org units already)")
        started = time.monotonic()
        print(f"==> demo city (scale {scale})")
        async with transaction(sessions) as db:
            city = await build_city(db, scale=scale, seed=seed)
        today = datetime.now(settings.tz).date()
        # Three months of history (the two before this one, whole, and this one up to
        # yesterday): the trends and the OKR tables show movement on first start.
        for back in range(MONTHS - 1, -1, -1):
            async with transaction(sessions) as db:
                report = await generate_month_plans(db, month_of(month_start(today, back)))
            print(f"  visit plans for {report.month}: {report.created} created")
        await build_work(sessions, city, today=today, months=MONTHS, seed=seed, tz=settings.tz,
                         data_dir=settings.data_dir)
        # The market inspectors' market survey (prices and stock): the demand trends.
        await build_market(sessions, today=today, months=MONTHS, tz=settings.tz, seed=seed)
        # One customer manager has just left: the issues found at their shops go to the
        # station head by the routing's fallback, with the reason in their history.
        managers = city.users.get("customer_manager") or []
        if managers:
            async with transaction(sessions) as db:
                await db.execute(update(User).where(User.id == managers[-1])
                                 .values(active=False))
        # The failed items' issues now, in bulk: the board is full from the first page.
        await build_issues(sessions, now=datetime.now(UTC), seed=seed)
        # Satisfaction surveys after the customer managers' visits, and the notices.
        await build_surveys(sessions, today=today, now=datetime.now(UTC), tz=settings.tz,
                            seed=seed)
        # The enabled extensions' part (licence checks, applications...).
        for ext in activate_from(settings).extensions:
            if ext.demo is not None:
                async with transaction(sessions) as db:
                    await ext.demo(db, datetime.now(UTC))
                print(f"  extension {ext.name}: its demo data")
        await _store(sessions, settings, today)
        await _grades(sessions, settings)
        print(f"==> demo ready in {time.monotonic() - started:.1f} s. Sign in as "
              f"{city.usernames.get('customer_manager')} (customer manager), "
              f"{city.usernames.get('station_head')} (station head), leader (city leader), "
              f"admin (administrator), shop1 (retailer) or industry1 (industry user) — password "
              f"{DEMO_PASSWORD}")
        return True
    finally:
        await engine.dispose()


async def _store(sessions: async_sessionmaker[AsyncSession], settings: Settings,
                 today: date) -> None:
    """The query store filled for the demo's whole range, the past days closed (as the
    nightly close would have closed each: the first close catches up from the first day of
    raw data) and today added (which also sets the refresh's marks): dashboards and grades
    read it from the start, and the worker keeps it up to date. Each day is computed once."""
    from rounds.runtime.store.refresh import close_day, rebuild, store_range

    started = time.monotonic()
    first, _ = await store_range(sessions, settings.tz, today)
    days = rows = 0
    if first < today:
        closed = await close_day(sessions, today - timedelta(days=1), tz=settings.tz,
                                 now=datetime.now(UTC))
        days, rows = len(closed.days), closed.rows
    now = await rebuild(sessions, today, today, tz=settings.tz, now=datetime.now(UTC))
    print(f"  query store: {days} days closed and today, {rows + now.rows} rows, "
          f"in {time.monotonic() - started:.1f} s")


async def _grades(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> None:
    """The closed months graded and frozen, as the OKR reconciler does each night: the OKR
    tables have the past months' grades (and their notices) from the start."""
    from rounds.runtime.okr.freeze import freeze_due

    started = time.monotonic()
    async with transaction(sessions) as db:
        frozen = await freeze_due(db, now=datetime.now(UTC), tz=settings.tz)
    print(f"  OKR grades: {frozen} closed periods graded and frozen, "
          f"in {time.monotonic() - started:.1f} s")


def demo_if_empty(settings: Settings, *, scale: float = 1.0, seed: int = 7) -> bool:
    upgrade(settings.database_url, extensions=activate_from(settings))
    return asyncio.run(_build(settings, scale=scale, seed=seed, only_if_empty=True))


def demo(settings: Settings, *, scale: float = 1.0, seed: int = 7) -> bool:
    upgrade(settings.database_url, extensions=activate_from(settings))
    return asyncio.run(_build(settings, scale=scale, seed=seed, only_if_empty=False))

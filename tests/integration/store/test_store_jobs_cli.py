"""The store's background work and command: the refresh when due (and a missed nightly
close caught up), the nightly task on beat's schedule, and ``rounds rollup`` on a SQLite
file in a process of its own (progress on stderr, a summary, the store filled)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import date, time, timedelta
from pathlib import Path

from celery.schedules import crontab
from sqlalchemy import func, select
from store_support import STANDARD, TZ, Sessions, add_submission, add_visit, local, snapshot

from rounds.db import create_engine, session_factory, transaction
from rounds.jobs.celery_app import TASK_MODULES, create_celery
from rounds.migrate import upgrade
from rounds.runtime.store.jobs import refresh_when_due
from rounds.runtime.store.models import ClosedDay, DayFact, MonthFact, Refresh
from rounds.settings import load_settings
from support.field import Field, seed_field

D2 = date(2026, 11, 2)


async def visit_and_form(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        world = await seed_field(db)
        vid = await add_visit(db, world, "cm_a", "RA1", local(D2, 9))
        await add_submission(db, world, "cm_a", STANDARD, site="RA1", visit_id=vid,
                             happened_at=local(D2, 9), score=90, percentage=90)
    return world


async def test_refresh_when_due_and_the_close_caught_up(sessions: Sessions) -> None:
    await visit_and_form(sessions)
    every, close_at = timedelta(seconds=60), time(0, 30)
    now = local(D2, 12)
    # An empty store: rebuilt (the 2nd), and the day before closed (past 00:30).
    assert await refresh_when_due(sessions, tz=TZ, now=now, every=every,
                                  close_at=close_at) == 2
    filled = await snapshot(sessions, closed=True)
    assert filled["store_day_facts"]
    # Within the minute: not due; the day before is closed already.
    assert await refresh_when_due(sessions, tz=TZ, now=now + timedelta(seconds=30),
                                  every=every, close_at=close_at) == 0
    # The next day after the close time: yesterday (D2) closed.
    await refresh_when_due(sessions, tz=TZ, now=local(D2 + timedelta(days=1), 1),
                           every=every, close_at=close_at)
    async with sessions() as db:
        closed = sorted(c.day for c in (await db.execute(select(ClosedDay))).scalars())
        kinds = [r.kind for r in (await db.execute(select(Refresh).order_by(Refresh.id)))
                 .scalars()]
    assert closed == [D2 - timedelta(days=1), D2]
    assert kinds == ["rebuild", "close", "incremental", "close"]
    assert (await snapshot(sessions))["store_day_facts"] == filled["store_day_facts"]


def test_the_nightly_close_is_on_beats_schedule() -> None:
    settings = load_settings({"ROUNDS_STORE_CLOSE_AT": "01:45",
                              "ROUNDS_TIMEZONE": "Asia/Shanghai"})
    app = create_celery(settings)
    entry = app.conf.beat_schedule["store-close"]
    assert entry["task"] == "rounds.store.close"
    assert entry["schedule"] == crontab(hour=1, minute=45)
    assert app.conf.timezone == "Asia/Shanghai"  # the crontab's hours are the company's
    assert "rounds.runtime.store.jobs" in TASK_MODULES


def test_rollup_command_fills_the_store(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rounds.sqlite3'}"

    async def seed() -> None:
        await asyncio.to_thread(upgrade, url)
        engine = create_engine(url)
        try:
            await visit_and_form(session_factory(engine))
        finally:
            await engine.dispose()

    asyncio.run(seed())
    env = {"ROUNDS_DATA_DIR": str(tmp_path / "var"), "ROUNDS_DATABASE_URL": url,
           "ROUNDS_TIMEZONE": "Asia/Shanghai", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "rounds.cli", "rollup", "--from",
                           "2026-10-30", "--to", "2026-11-04"],
                          capture_output=True, text=True, env=env, check=False, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "==> query store 2026-10-30 to 2026-11-04" in done.stderr
    assert "] 1/6 2026-10-30" in done.stderr and "] 6/6 2026-11-04\n" in done.stderr
    assert done.stdout.startswith("rollup 2026-10-30 to 2026-11-04: 6 days, 2 rows, "
                                  "2 months in ")

    async def read() -> tuple[int, int]:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as db:
                days = (await db.execute(select(func.count()).select_from(DayFact))).scalar()
                month = (await db.execute(select(MonthFact.checkins).where(
                    MonthFact.month == "2026-11", MonthFact.definition_id == ""))).scalar()
                return int(days or 0), int(month or 0)
        finally:
            await engine.dispose()

    assert asyncio.run(read()) == (2, 1)  # the visit's row and the form's; November's visit
    bad = subprocess.run([sys.executable, "-m", "rounds.cli", "rollup", "--from", "2026-11-04",
                          "--to", "2026-11-01"], capture_output=True, text=True, env=env,
                         check=False)
    assert bad.returncode == 2 and "before --from" in bad.stderr

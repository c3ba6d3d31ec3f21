"""Background work of the query store: the incremental refresh and the nightly close.

- The incremental refresh is a reconciler (beat's ``rounds.reconcile``): at most every
  ``ROUNDS_STORE_REFRESH_SECONDS`` it recomputes the days touched since the marks, in short
  transactions of its own (``own_transactions``), so it goes on while people submit.
- The nightly close (beat's ``rounds.store.close`` at ``ROUNDS_STORE_CLOSE_AT`` in the
  company's time zone) closes yesterday, and every day since the last closed one. The
  reconciler also closes yesterday when the close time has passed and it is not closed
  yet (a night beat did not run), so a missed night is caught up within a tick.

Both are idempotent: rerunning them, or two workers at once (the store's writers take one
lock), changes nothing.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta, tzinfo

from celery import shared_task
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import as_utc, utcnow
from rounds.jobs import maintenance
from rounds.jobs.celery_app import RETRY_POLICY, current_app, run, sessions
from rounds.runtime.store import refresh
from rounds.runtime.store.models import StoreMark
from rounds.settings import Settings

Sessions = async_sessionmaker[AsyncSession]


async def refresh_when_due(sessions: Sessions, *, tz: tzinfo, now: datetime,
                           every: timedelta, close_at: time) -> int:
    """Refresh the store if the last refresh is ``every`` old (or there was none), and close
    yesterday if ``close_at`` has passed today and it is not closed. Returns the days
    recomputed."""
    now = as_utc(now)
    async with sessions() as db:
        marks = [as_utc(m) for m in (await db.execute(select(StoreMark.mark))).scalars()]
        last_closed = await refresh.last_closed_day(db)
    done = 0
    if not marks or now - min(marks) >= every or max(marks) > now:
        done += len((await refresh.refresh(sessions, tz=tz, now=now)).days)
    local = now.astimezone(tz)
    yesterday = local.date() - timedelta(days=1)
    if local.time() >= close_at and (last_closed is None or last_closed < yesterday):
        done += len((await refresh.close_day(sessions, yesterday, tz=tz, now=now)).days)
    return done


def _settings() -> Settings:
    settings: Settings = current_app().conf.rounds_settings
    return settings


async def refresh_store(sessions: Sessions) -> int:
    """The query store's incremental refresh (and a missed nightly close)."""
    settings = _settings()
    return await refresh_when_due(sessions, tz=settings.tz, now=utcnow(),
                                  every=timedelta(seconds=settings.store.refresh_seconds),
                                  close_at=settings.store.close_time)


maintenance.register(refresh_store, own_transactions=True)


@shared_task(name="rounds.store.close", **RETRY_POLICY)
def close_yesterday() -> int:
    """Close yesterday (company time zone) and any day since the last closed one."""
    settings = _settings()
    now = utcnow()
    yesterday = now.astimezone(settings.tz).date() - timedelta(days=1)

    async def go() -> int:
        report = await refresh.close_day(sessions(), yesterday, tz=settings.tz, now=now)
        return len(report.days)

    return run(go())

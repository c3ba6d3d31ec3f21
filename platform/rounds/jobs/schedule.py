"""Exactly one schedule: a beat sends the periodic tasks only while it holds a lock in the
database, so two beats (on one machine or several) never send the same tick.

``OneSchedule`` is the Celery beat scheduler of ``rounds beat`` and ``rounds worker --beat``:

- Before sending anything it takes the row ``schedule_locks['beat']`` (one atomic
  ``INSERT … ON CONFLICT DO UPDATE … WHERE expires_at < now OR holder = me``), valid for
  ``ROUNDS_JOBS_SCHEDULE_LOCK_SECONDS``.
- It renews the lock several times per expiry, and each due task is sent only after an
  ``UPDATE … WHERE holder = me`` succeeded — the same statement records the tick, so the
  check and the record are one. A beat that lost the lock (it was too slow to renew, or the
  database was away) sends nothing more and goes back to waiting.
- It releases the lock when it stops (``close``): a waiting beat takes over at its next try.
- A second beat logs who holds the schedule, tries again every few seconds and takes over
  when the lock expires (its holder died without releasing it).

Times are the database's on PostgreSQL (beats on several machines compare one clock); on
SQLite every beat is on the database's machine, whose clock Python reads.

The schedule's state (when each task was last sent) is kept in the lock's row, not in a
file beside each beat: a beat that takes over goes on from the last tick sent, instead of
sending every task again at once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from celery.beat import ScheduleEntry, Scheduler
from celery.signals import beat_embedded_init
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from rounds.db import as_utc, create_engine, table_of, utcnow
from rounds.jobs.models import ScheduleLock
from rounds.settings import Settings

T = TypeVar("T")

LOCK_NAME = "beat"
SCHEDULER = "rounds.jobs.schedule:OneSchedule"
"""What ``celery beat -S`` is given."""

log = logging.getLogger("rounds.jobs.schedule")
LOCKS = table_of(ScheduleLock)


_HOLDERS: dict[int, str] = {}  # by process id: one name per process (a fork gets its own)


def holder_name() -> str:
    """Who this beat process is, in the lock and in the other beats' logs: host and process
    id, and a token, so that two processes that happen to share both (pid 1 in two
    containers with one host name) are still two holders. The same for every scheduler the
    process makes (celery makes one more, for its banner)."""
    pid = os.getpid()
    if pid not in _HOLDERS:
        _HOLDERS[pid] = f"{socket.gethostname()}:{pid}/{uuid.uuid4().hex[:8]}"
    return _HOLDERS[pid]


@dataclass(frozen=True)
class LockState:
    """The lock's row as a beat last read it."""

    holder: str
    acquired_at: datetime
    expires_at: datetime
    last_runs: dict[str, Any] = field(default_factory=dict)


class ScheduleLockStore:
    """The lock's SQL (async, over the installation's database)."""

    def __init__(self, engine: AsyncEngine, seconds: int, name: str = LOCK_NAME) -> None:
        self.engine, self.seconds, self.name = engine, seconds, name

    async def _now(self, conn: AsyncConnection) -> datetime:
        if conn.dialect.name == "postgresql":
            # The database's clock, not now(): that is the transaction's start.
            return as_utc((await conn.execute(text("SELECT clock_timestamp()"))).scalar_one())
        return utcnow()

    async def acquire(self, holder: str) -> LockState:
        """Take the lock if it is free, expired or ours; the row as it is after the try."""
        async with self.engine.begin() as conn:
            now = await self._now(conn)
            until = now + timedelta(seconds=self.seconds)
            insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
            statement = insert(LOCKS).values(
                name=self.name, holder=holder, acquired_at=now, renewed_at=now,
                expires_at=until, last_runs={})
            # The row's last_runs stay: the schedule goes on from the last tick sent.
            await conn.execute(statement.on_conflict_do_update(
                index_elements=[LOCKS.c.name],
                set_={"holder": holder, "acquired_at": now, "renewed_at": now,
                      "expires_at": until},
                where=(LOCKS.c.expires_at < now) | (LOCKS.c.holder == holder)))
            row = (await conn.execute(
                select(LOCKS.c.holder, LOCKS.c.acquired_at, LOCKS.c.expires_at,
                       LOCKS.c.last_runs).where(LOCKS.c.name == self.name))).one()
        return LockState(row.holder, row.acquired_at, row.expires_at, dict(row.last_runs or {}))

    async def renew(self, holder: str, last_runs: dict[str, Any] | None = None) -> bool:
        """Extend the lock if ``holder`` still has it (and record ``last_runs``)."""
        async with self.engine.begin() as conn:
            now = await self._now(conn)
            values: dict[str, Any] = {"renewed_at": now,
                                      "expires_at": now + timedelta(seconds=self.seconds)}
            if last_runs is not None:
                values["last_runs"] = last_runs
            done = await conn.execute(update(LOCKS).where(
                LOCKS.c.name == self.name, LOCKS.c.holder == holder).values(**values))
        return bool(done.rowcount == 1)

    async def release(self, holder: str) -> None:
        """Let the next beat take over at once (the row and its last runs stay)."""
        async with self.engine.begin() as conn:
            now = await self._now(conn)
            await conn.execute(update(LOCKS).where(
                LOCKS.c.name == self.name, LOCKS.c.holder == holder).values(expires_at=now))


class OneSchedule(Scheduler):  # type: ignore[misc]  # celery is untyped
    """Celery beat's scheduler, sending only while it holds the schedule lock."""

    # Logged again while waiting on the same holder, so a long wait stays visible.
    WAIT_LOG_SECONDS = 300

    max_interval: float  # celery's, untyped: the longest sleep between two ticks

    def __init__(self, app: Any, *args: Any, **kwargs: Any) -> None:
        settings: Settings = app.conf.rounds_settings
        self.lock_seconds = settings.jobs.schedule_lock_seconds
        self.database_url = settings.database_url
        # Renewed about four times per expiry: a late tick or a slow statement is not a loss.
        self.renew_every = self.lock_seconds / 4
        # How often a waiting beat tries: a released lock is taken within this.
        self.retry_every = max(0.5, min(5.0, self.lock_seconds / 10))
        self.holder = holder_name()
        self.holding = False
        self._renewed = 0.0  # time.monotonic() of the last successful renewal
        self._next_try = 0.0
        self._last_runs: dict[str, Any] = {}
        self._told: tuple[str, float] | None = None  # what the last wait line said, and when
        self._loop: asyncio.AbstractEventLoop | None = None
        self._engine: AsyncEngine | None = None
        self._store: ScheduleLockStore | None = None
        super().__init__(app, *args, **kwargs)
        # However long the schedule sleeps between due tasks, it wakes to renew in time.
        self.max_interval = min(self.max_interval, self.renew_every)

    # -- the database, from beat's synchronous loop ------------------------------------------

    def _run(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on this scheduler's own loop and engine (made here, in the process
        that ticks: ``worker --beat`` forks its beat). Bounded: an answer that comes later
        than half the expiry is no answer, as the lock could have expired meanwhile."""
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
        return self._loop.run_until_complete(
            asyncio.wait_for(work, timeout=self.lock_seconds / 2))

    def _locks(self) -> ScheduleLockStore:
        if self._store is None:
            self._engine = create_engine(self.database_url)
            self._store = ScheduleLockStore(self._engine, self.lock_seconds)
        return self._store

    # -- the lock ------------------------------------------------------------------------------

    def _acquire(self) -> bool:
        try:
            state = self._run(self._locks().acquire(self.holder))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            if self._should_tell(f"error {type(exc).__name__}"):
                log.warning("beat: cannot read the schedule lock, sending nothing (%s); trying "
                            "again every %.0f s", _one_line(exc), self.retry_every)
            return False
        if state.holder != self.holder:
            self._tell_waiting(state)
            return False
        self.holding, self._renewed, self._told = True, time.monotonic(), None
        self._take_over(state.last_runs)
        log.info("beat: holds the schedule (as %s; renewed every %.0f s, expires %d s after"
                 " the last renewal): sending the periodic tasks",
                 self.holder, self.renew_every, self.lock_seconds)
        return True

    def _renew(self, last_runs: dict[str, Any] | None = None) -> bool:
        try:
            held = self._run(self._locks().renew(self.holder, last_runs))
        except (SQLAlchemyError, OSError, TimeoutError) as exc:
            self._lose(f"it could not be renewed ({_one_line(exc)})")
            return False
        if not held:
            self._lose("another beat has taken it (this one did not renew it in time)")
            return False
        self._renewed = time.monotonic()
        return True

    def _lose(self, why: str) -> None:
        self.holding = False
        self._next_try = time.monotonic() + self.retry_every
        log.warning("beat: lost the schedule lock: %s; sending nothing, waiting for it", why)

    def _should_tell(self, what: str) -> bool:
        """Whether to log ``what`` (who holds the lock, or why it cannot be read): once,
        again when it changes, and every ``WAIT_LOG_SECONDS`` while it lasts."""
        now = time.monotonic()
        if (self._told is not None and self._told[0] == what
                and now - self._told[1] < self.WAIT_LOG_SECONDS):
            return False
        self._told = (what, now)
        return True

    def _tell_waiting(self, state: LockState) -> None:
        if not self._should_tell(state.holder):
            return
        log.info("beat: waiting: the schedule is held by %s since %s; it takes over if that "
                 "lock is not renewed for %d s", state.holder,
                 as_utc(state.acquired_at).isoformat(timespec="seconds"), self.lock_seconds)

    def _take_over(self, last_runs: dict[str, Any]) -> None:
        """Go on from the ticks the previous holder (or this beat, before) sent."""
        self._last_runs = dict(last_runs)
        zone = self.app.timezone
        for name, at in last_runs.items():
            entry = self.schedule.get(name)
            if entry is not None and isinstance(at, str):
                # In the app's time zone, as celery's own times are: a crontab reads the
                # hour and the day of the last run.
                entry.last_run_at = datetime.fromisoformat(at).astimezone(zone)
        self._heap = None  # rebuilt from those times at the next tick

    # -- celery's Scheduler ----------------------------------------------------------------------

    def tick(self, *args: Any, **kwargs: Any) -> float:
        now = time.monotonic()
        if not self.holding:
            if now < self._next_try:
                return self._next_try - now
            self._next_try = now + self.retry_every
            if not self._acquire():
                return self.retry_every
        elif now - self._renewed >= self.renew_every and not self._renew():
            return self.retry_every
        delay = float(super().tick(*args, **kwargs))
        return max(0.0, min(delay, self._renewed + self.renew_every - time.monotonic()))

    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        """Send ``entry`` only if this beat still holds the lock; record the tick with the
        same statement. Recorded before it is sent: a beat that dies in between loses that
        tick (the next one comes), where the other order could send it twice."""
        if not self.holding:
            return
        reserved = self.schedule.get(entry.name, entry)  # tick() reserved it: its new time
        at = as_utc(reserved.last_run_at).isoformat()
        runs = {**self._last_runs, entry.name: at}
        if not self._renew(runs):
            return
        self._last_runs = runs
        super().apply_entry(entry, producer=producer)

    def close(self) -> None:
        if self._loop is not None and self._loop.is_running():
            # A stop signal came during a database call (beat's handler closes the
            # scheduler at once): beat closes it again once that call has unwound.
            return
        try:
            if self.holding:
                try:
                    self._run(self._locks().release(self.holder))
                    log.info("beat: released the schedule lock")
                except (SQLAlchemyError, OSError, TimeoutError) as exc:
                    log.warning("beat: could not release the schedule lock (%s): another "
                                "beat takes over when it expires", _one_line(exc))
                self.holding = False
            if self._engine is not None and self._loop is not None:
                self._loop.run_until_complete(self._engine.dispose())
        finally:
            self._engine = self._store = None
            if self._loop is not None:
                self._loop.close()
                self._loop = None
            super().close()

    @property
    def info(self) -> str:
        return f"    . lock -> schedule_locks[{LOCK_NAME!r}] as {self.holder}"


@beat_embedded_init.connect
def _unwind_on_sigterm(**_: Any) -> None:
    """``worker --beat`` runs its beat in a child process with default signal handling, and
    stops it with SIGTERM: that would end it at once, the lock held until it expires.
    Unwinding instead lets beat close the scheduler, which releases the lock."""

    def unwind(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, unwind)


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"

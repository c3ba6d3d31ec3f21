"""Pushing notifications to open pages, after the rows are committed.

A notification is a row first: the inbox never loses one. Pushing it live is a second step
that any process may take, exactly once per row in the normal case: a conditional
``UPDATE ... SET pushed_at = now WHERE id IN (...) AND pushed_at IS NULL`` decides who
publishes (a second claimer finds nothing to update). The row is claimed and published in
one transaction, so a failed publish rolls the claim back and the row is tried again: at
least once, never silently dropped (a page that reconnects gets what it missed from the
database anyway, by ``Last-Event-ID``).

Who pushes:

- the API process that made a row, right after its transaction commits (``notify``
  records the ids in ``Session.info``; a session event hands them to this process's
  ``Pusher``);
- every API process, about once a second, for rows made elsewhere (a Celery worker, a CLI,
  another API process that died before pushing): ``Pusher.run_loop``. With the in-memory
  channels backend this is the only way a worker's rows reach a page, and it reaches only
  pages open on this process: in-memory means one API process;
- with Redis (``ROUNDS_REDIS_URL``), the worker publishes through Redis itself after its
  transactions (``rounds.runtime.notifications.jobs``), and every API process relays what
  Redis brings to the pages open on it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rounds.db import utcnow
from rounds.runtime.notifications.service import PENDING_PUSH, TABLE, NotificationView
from rounds.runtime.sql import writer_lock

if TYPE_CHECKING:
    from litestar.channels import ChannelsPlugin

log = logging.getLogger("rounds.notifications")

# Publishes bytes on a channel: the channels plugin in an API process, Redis in a worker.
Send = Callable[[str, bytes], Awaitable[Any]]

BATCH = 200
PUBLISH_TIMEOUT = 10.0  # seconds


# -- channels and events -----------------------------------------------------------------------

# What goes before ``user:{id}``: nothing in memory; with Redis the database number.


def user_channel(user_id: int, prefix: str = "") -> str:
    return f"{prefix}user:{user_id}"


def notification_event(n: NotificationView, unread: int) -> bytes:
    """What a page gets for a new notification (the SSE data; the id goes in the event id)."""
    return msgspec.json.encode({
        "type": "notification", "id": n.id, "kind": n.kind, "message": n.message,
        "link": n.link, "issue_id": n.issue_id, "created_at": n.created_at,
        "unread": unread})


def unread_event(unread: int) -> bytes:
    """The unread count changed without a new notification (read on another page)."""
    return msgspec.json.encode({"type": "unread", "unread": unread})


# -- claiming and publishing ----------------------------------------------------------------------

async def claim_and_publish(db: AsyncSession, send: Send, *, prefix: str = "",
                            ids: Iterable[int] | None = None, limit: int = BATCH) -> int:
    """Publish notifications not pushed yet (``ids`` only, if given), in ``db``'s transaction.

    The conditional UPDATE claims the rows: of two processes that race for a row, one
    updates it and publishes, the other updates nothing. Returns how many this call
    published. Committing is the caller's: if ``send`` fails, roll back and the rows stay
    pending for the next try.
    """
    t = TABLE.c
    pending = select(t.id).where(t.pushed_at.is_(None))
    if ids is not None:
        wanted = sorted(set(ids))
        if not wanted:
            return 0
        pending = pending.where(t.id.in_(wanted))
    # Read first, write only when there is something to push: the poll of an idle system
    # then takes no write lock (which matters on SQLite).
    candidates = list((await db.execute(pending.order_by(t.id).limit(limit))).scalars())
    if not candidates:
        return 0
    claimed = (await db.execute(
        update(TABLE)
        .where(t.id.in_(candidates), t.pushed_at.is_(None))
        .values(pushed_at=utcnow())
        .returning(t.id, t.user_id, t.kind, t.message, t.link, t.issue_id, t.created_at)
    )).all()
    if not claimed:
        return 0
    users = sorted({row.user_id for row in claimed})
    counts: dict[int, int] = {int(uid): int(n) for uid, n in (await db.execute(
        select(t.user_id, func.count()).where(t.user_id.in_(users), t.read_at.is_(None))
        .group_by(t.user_id))).all()}
    for row in sorted(claimed, key=lambda r: int(r.id)):
        n = NotificationView(id=row.id, kind=row.kind, message=dict(row.message),
                             link=row.link, issue_id=row.issue_id,
                             created_at=row.created_at, read_at=None)
        await send(user_channel(row.user_id, prefix), notification_event(n, counts.get(
            row.user_id, 0)))
    return len(claimed)


async def publish_all_pending(db: AsyncSession, send: Send, *, prefix: str = "",
                              most: int = 10 * BATCH) -> int:
    """Claim and publish pending rows in batches, up to ``most`` in one transaction."""
    done = 0
    while done < most:
        n = await claim_and_publish(db, send, prefix=prefix)
        done += n
        if n < BATCH:
            break
    return done


# -- the API process's pusher ---------------------------------------------------------------------

class Pusher:
    """Pushes from one API process: its own rows after commit, everyone's left-overs by poll."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine,
                 channels: ChannelsPlugin, *, prefix: str = "", interval: float = 1.0) -> None:
        self.sessions = sessions
        self.engine = engine
        self.channels = channels
        self.prefix = prefix
        self.interval = interval
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._pending: set[int] = set()  # committed here, not claimed yet
        self._draining: asyncio.Task[None] | None = None

    async def send(self, channel: str, data: bytes) -> None:
        # Bounded: the claim's transaction is open meanwhile; a timeout rolls it back and
        # the poll tries again (Redis may be away, its client retrying for ever).
        async with asyncio.timeout(PUBLISH_TIMEOUT):
            await self.channels.wait_published(data, [channel])

    async def push(self, ids: Iterable[int] | None = None) -> int:
        """Claim and publish pending rows (``ids`` only, if given) in a transaction."""
        async with self.sessions() as db, writer_lock(self.engine), db.begin():
            if ids is None:
                return await publish_all_pending(db, self.send, prefix=self.prefix)
            return await claim_and_publish(db, self.send, prefix=self.prefix, ids=ids)

    def publish_unread(self, user_id: int, unread: int) -> None:
        """Tell the user's open pages their unread count (after they read on one of them)."""
        self.channels.publish(unread_event(unread), user_channel(user_id, self.prefix))

    def schedule(self, ids: set[int]) -> None:
        """Push ``ids`` soon, without holding up the request that committed them. One task
        drains what commits hand over: under load the ids of many commits go in one claim
        (one write transaction, not one each: SQLite has one writer)."""
        self._pending |= ids
        if self._draining is None or self._draining.done():
            task = self._draining = asyncio.get_running_loop().create_task(self._drain())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _drain(self) -> None:
        while self._pending:
            ids = sorted(self._pending)[:BATCH]
            self._pending.difference_update(ids)
            await self._push_quietly(set(ids))

    async def _push_quietly(self, ids: set[int] | None) -> None:
        try:
            await self.push(ids)
        except Exception:  # the poll below tries again; the inbox has the row regardless
            log.warning("pushing notifications failed; will retry", exc_info=True)

    async def run_loop(self) -> None:
        """Poll for rows nobody pushed yet (made by a worker or another process)."""
        while True:
            await self._push_quietly(None)
            await asyncio.sleep(self.interval)

    async def start(self) -> asyncio.Task[None]:
        """Poll from now on, and take this process's commits (see ``_push_after_commit``)."""
        self.loop = asyncio.get_running_loop()
        _Installed.pusher = self
        return self.loop.create_task(self.run_loop())

    async def stop(self, loop_task: asyncio.Task[None]) -> None:
        if _Installed.pusher is self:
            _Installed.pusher = None
        loop_task.cancel()
        for task in [loop_task, *self._tasks]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class _Installed:
    """The pusher of this process, if it is an API process (workers publish explicitly)."""

    pusher: Pusher | None = None


def push_after_commit(ids: Iterable[int]) -> None:
    """Hand notifications that a committed transaction added to this process's pusher (the
    rows written with Core on a connection: a session's go by ``_push_after_commit``)."""
    _hand_over(set(ids))


@event.listens_for(Session, "after_commit")
def _push_after_commit(session: Session) -> None:
    """Hand the notifications a committed transaction added to this process's pusher."""
    _hand_over(session.info.pop(PENDING_PUSH, None))


def _hand_over(ids: set[int] | None) -> None:
    pusher = _Installed.pusher
    if not ids or pusher is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # a synchronous session outside any loop: the poll pushes them
        return
    if loop is pusher.loop:
        pusher.schedule(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(PENDING_PUSH, None)

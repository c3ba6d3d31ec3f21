"""The inbox: notifications are rows first (never lost), pushed to live pages second."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc, table_of, utcnow
from rounds.errors import NotFound
from rounds.i18n import pick
from rounds.runtime.notifications.models import Notification
from rounds.runtime.sql import insert_or_nothing

# Key in ``Session.info`` listing the notifications added in the session's transaction:
# the API process pushes them to open pages once that transaction commits (see ``push``).
PENDING_PUSH = "rounds.notifications.pending_push"

TABLE = table_of(Notification)  # for Core statements (ON CONFLICT, RETURNING)


async def notify(db: AsyncSession, *, user_ids: Iterable[int], kind: str,
                 message: dict[str, str], link: str = "", issue_id: int | None = None,
                 dedupe_key: str) -> list[int]:
    """Add a notification to each user's inbox, in the caller's transaction.

    ``dedupe_key`` (with the user id appended) makes it idempotent: a retried task or a
    second reconciliation adds nothing. Returns the ids of the notifications added now.
    Pushing them to open pages happens after commit (see ``rounds.runtime.notifications.push``).
    """
    added: list[int] = []
    conn = await db.connection()
    for uid in sorted(set(user_ids)):
        row: dict[str, Any] = {"user_id": uid, "kind": kind, "message": message, "link": link,
                               "issue_id": issue_id, "dedupe_key": f"{dedupe_key}:u{uid}"}
        stmt = insert_or_nothing(conn, TABLE, ["dedupe_key"]).values(row)
        new_id = (await db.execute(stmt.returning(TABLE.c.id))
                  ).scalar_one_or_none()
        if new_id is not None:
            added.append(int(new_id))
    if added:
        db.info.setdefault(PENDING_PUSH, set()).update(added)
    return added


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    message: dict[str, str]
    link: str
    issue_id: int | None
    created_at: datetime
    read_at: datetime | None

    @property
    def unread(self) -> bool:
        return self.read_at is None

    def text(self, lang: str) -> str:
        """The message in ``lang`` (the one fallback order of :func:`rounds.i18n.pick`)."""
        return pick(self.message, lang)


def view(n: Notification) -> NotificationView:
    return NotificationView(id=n.id, kind=n.kind, message=dict(n.message), link=n.link,
                            issue_id=n.issue_id, created_at=n.created_at,
                            read_at=n.read_at)


async def inbox(db: AsyncSession, user_id: int, *, limit: int = 50, offset: int = 0,
                unread_only: bool = False) -> tuple[list[NotificationView], int]:
    """A page of the user's inbox, unread first, then newest first; and the total."""
    where = [Notification.user_id == user_id]
    if unread_only:
        where.append(Notification.read_at.is_(None))
    total = int((await db.execute(
        select(func.count()).select_from(Notification).where(*where))).scalar_one())
    unread_first = case((Notification.read_at.is_(None), 0), else_=1)
    rows = (await db.execute(
        select(Notification).where(*where)
        .order_by(unread_first, Notification.created_at.desc(), Notification.id.desc())
        .limit(limit).offset(offset))).scalars().all()
    return [view(n) for n in rows], total


async def unread_count(db: AsyncSession, user_id: int) -> int:
    return int((await db.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)))).scalar_one())


async def mark_read(db: AsyncSession, user_id: int, notification_id: int,
                    now: datetime | None = None) -> NotificationView:
    """Mark one of the user's own notifications read (again: no change). Someone else's,
    or one that does not exist, is not found: the caller learns nothing about it."""
    n = (await db.execute(select(Notification).where(
        Notification.id == notification_id, Notification.user_id == user_id))
         ).scalar_one_or_none()
    if n is None:
        raise NotFound(f"no notification {notification_id}")
    if n.read_at is None:
        n.read_at = as_utc(now) if now else utcnow()
        await db.flush()
    return view(n)


async def mark_all_read(db: AsyncSession, user_id: int, now: datetime | None = None) -> int:
    """Mark every unread notification of the user read; how many were unread."""
    result = await db.execute(
        update(TABLE).where(TABLE.c.user_id == user_id, TABLE.c.read_at.is_(None))
        .values(read_at=now or utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


async def since(db: AsyncSession, user_id: int, after_id: int, *, limit: int = 500
                ) -> list[NotificationView]:
    """The user's notifications after ``after_id``, oldest first: what a reconnecting live
    page missed (its browser sends the last event id it saw)."""
    rows = (await db.execute(
        select(Notification).where(Notification.user_id == user_id,
                                   Notification.id > after_id)
        .order_by(Notification.id).limit(limit))).scalars().all()
    return [view(n) for n in rows]

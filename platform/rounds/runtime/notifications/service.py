"""The inbox: notifications are rows first (never lost), pushed to live pages second."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.notifications.models import Notification
from rounds.runtime.sql import insert_or_nothing


async def notify(db: AsyncSession, *, user_ids: Iterable[int], kind: str,
                 message: dict[str, str], link: str = "", issue_id: int | None = None,
                 dedupe_key: str) -> list[int]:
    """Add a notification to each user's inbox, in the caller's transaction.

    ``dedupe_key`` (with the user id appended) makes it idempotent: a retried task or a
    second reconciliation adds nothing. Returns the ids of the notifications added now.
    Pushing them to open pages happens after commit (see ``push``).
    """
    added: list[int] = []
    conn = await db.connection()
    for uid in sorted(set(user_ids)):
        row: dict[str, Any] = {"user_id": uid, "kind": kind, "message": message, "link": link,
                               "issue_id": issue_id, "dedupe_key": f"{dedupe_key}:u{uid}"}
        stmt = insert_or_nothing(conn, Notification.__table__, ["dedupe_key"]).values(row)
        new_id = (await db.execute(stmt.returning(Notification.__table__.c.id))
                  ).scalar_one_or_none()
        if new_id is not None:
            added.append(int(new_id))
    return added


async def unread_count(db: AsyncSession, user_id: int) -> int:
    from sqlalchemy import func

    return int((await db.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user_id, Notification.read_at.is_(None)))).scalar_one())

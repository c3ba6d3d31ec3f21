"""An issue's history and who hears of it: every step appends an event, and tells the people
concerned.

:func:`record` appends an :class:`IssueEvent` (the audit trail, kept forever) and links the
photos it names to the issue (who may see them, and that they are in use, follow from the
issue). :func:`tell` notifies the people concerned by an event (never its actor), once per
event (the notification's dedupe key is the event's).

Imports the issue and photo models and ``notify`` of the notifications slice (the one
place of the slice that writes notifications).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import table_of
from rounds.runtime.issues.models import Issue, IssueEvent, IssuePhoto
from rounds.runtime.notifications.service import notify
from rounds.runtime.sql import insert_or_nothing
from rounds.runtime.storage.models import Photo


async def record(db: AsyncSession, issue_id: int, *, at: datetime, actor_id: int | None,
                 action: str, from_status: str | None, to_status: str | None,
                 reason: str = "", data: dict[str, Any] | None = None) -> IssueEvent:
    """Append an event to the issue's history (flushed: it has its id)."""
    event = IssueEvent(issue_id=issue_id, at=at, actor_id=actor_id, action=action,
                       from_status=from_status, to_status=to_status, reason=reason,
                       data=data or {})
    db.add(event)
    await db.flush()
    photos = sorted({str(p) for p in (data or {}).get("photos") or []})
    if photos:  # who may see them, and that they are in use, follow from the issue
        # (stored photos only: evidence copied from a submission is not checked again here)
        await db.execute(insert_or_nothing(db, table_of(IssuePhoto)).from_select(
            ["issue_id", "photo_id"],
            select(literal(issue_id), Photo.id).where(Photo.id.in_(photos))))
    return event


async def tell(db: AsyncSession, issue_id: int, event: IssueEvent, kind: str, *,
               users: Iterable[int | None], message: dict[str, str]) -> None:
    """Notify the people concerned by an event (never its actor), once per event."""
    ids = {u for u in users if u is not None and u != event.actor_id}
    if ids:
        await notify(db, user_ids=ids, kind=kind, message=message, link=f"/issues/{issue_id}",
                     issue_id=issue_id, dedupe_key=f"issue:{issue_id}:event:{event.id}")


def parties(issue: Issue) -> list[int | None]:
    """Everyone an issue concerns: its assignee, assigner and reporter."""
    return [issue.assignee_id, issue.assigner_id, issue.reporter_id]

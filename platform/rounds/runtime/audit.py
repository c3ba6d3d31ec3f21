"""The audit trail: every administrative change, who made it, when, and what changed.

Definitions (drafts, publishing, rolling back), people, org units, sites, their staff and
visit plans are changed by administrators; each such change adds one entry here, in the same
transaction as the change, so an entry exists exactly when its change does (nothing half
written either way). Entries are never changed or deleted.

An entry names its ``action`` (``definition.publish``, ``user.create``...), its target (kind
and id, as text), the actor (none for the command line and the definition sync) and
``changes``: for an edit, each changed field as ``[before, after]`` (:func:`changes_between`);
for other actions, what the action took (a version number, a reason). Secrets are never in
it: callers leave password hashes and tokens out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow
from rounds.logs import current_request_id


class AuditEntry(Base):
    """One administrative change."""

    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_target", "target_kind", "target_id", "id"),
                      Index("ix_audit_entries_actor", "actor_id", "id"),
                      Index("ix_audit_entries_action", "action", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(64))
    target_kind: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]]
    request_id: Mapped[str | None] = mapped_column(String(64))


def changes_between(before: Mapping[str, Any], after: Mapping[str, Any],
                    *, leave_out: Sequence[str] = ()) -> dict[str, list[Any]]:
    """Each field whose value differs, as ``[before, after]`` (a field only on one side
    has ``None`` on the other); ``leave_out`` names fields never recorded (secrets)."""
    return {key: [before.get(key), after.get(key)]
            for key in sorted({*before, *after} - set(leave_out))
            if before.get(key) != after.get(key)}


def record(db: AsyncSession, *, actor_id: int | None, action: str, target_kind: str,
           target_id: str | int, changes: Mapping[str, Any] | None = None,
           at: datetime | None = None) -> AuditEntry:
    """Add an entry to the caller's transaction (it is stored when the change is)."""
    entry = AuditEntry(actor_id=actor_id, action=action, target_kind=target_kind,
                       target_id=str(target_id), changes=dict(changes or {}),
                       at=at or utcnow(), request_id=current_request_id())
    db.add(entry)
    return entry


@dataclass(frozen=True)
class AuditFilter:
    """What to browse: any of actor, action (exact, or a prefix ending in ``.``: all of
    ``user.``), target kind and id, and a time window ``[since, until)``."""

    actor_id: int | None = None
    action: str | None = None
    target_kind: str | None = None
    target_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


async def entries(db: AsyncSession, where: AuditFilter = AuditFilter(), *,
                  before_id: int | None = None, limit: int = 50) -> list[AuditEntry]:
    """The newest entries first, ``limit`` at a time; the next page starts ``before_id``
    the last one's id (keyset: a page costs the same however long the trail)."""
    stmt = select(AuditEntry)
    if where.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == where.actor_id)
    if where.action:
        stmt = stmt.where(AuditEntry.action.startswith(where.action, autoescape=True)
                          if where.action.endswith(".") else AuditEntry.action == where.action)
    if where.target_kind:
        stmt = stmt.where(AuditEntry.target_kind == where.target_kind)
    if where.target_id is not None:
        stmt = stmt.where(AuditEntry.target_id == where.target_id)
    if where.since is not None:
        stmt = stmt.where(AuditEntry.at >= where.since)
    if where.until is not None:
        stmt = stmt.where(AuditEntry.at < where.until)
    if before_id is not None:
        stmt = stmt.where(AuditEntry.id < before_id)
    return list((await db.execute(stmt.order_by(AuditEntry.id.desc()).limit(limit))
                 ).scalars())

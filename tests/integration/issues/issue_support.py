"""The field organisation of ``support.field`` with helpers to drive issues at service level.

City ``city`` ⊃ station ``st_a`` ⊃ area ``area_a1`` (shops RA1, RA2: customer manager
``cm_a``; RA1 also market inspector ``mi_a``), and station ``st_b`` (shop RB1: ``cm_b``).
Station heads ``head_a``/``head_b``, the city ``leader``, ``admin``, a ``driver`` and the
retailer account ``shop_ra1`` of RA1. Every test runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.runtime.access import Principal
from rounds.runtime.definitions.service import get_version
from rounds.runtime.issues.models import Issue, IssueEvent
from rounds.runtime.notifications.models import Notification
from rounds.runtime.storage.models import Photo
from rounds.runtime.submissions.models import FailedItem, Submission
from support.field import Field, principal, seed_field

Sessions = async_sessionmaker[AsyncSession]
T = TypeVar("T")

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def aware(at: datetime | None) -> datetime | None:
    return at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at


@dataclass
class Loop:
    sessions: Sessions
    world: Field

    def uid(self, name: str) -> int:
        return self.world.users[name]

    async def as_(self, name: str) -> Principal:
        async with self.sessions() as db:
            return await principal(db, name)

    async def run(self, who: str, fn: Callable[..., Awaitable[T]], *args: Any, **kw: Any
                  ) -> T:
        """``fn(db, principal, *args, **kw)`` in a transaction of its own, as ``who``."""
        async with transaction(self.sessions) as db:
            return await fn(db, await principal(db, who), *args, **kw)

    async def system(self, fn: Callable[..., Awaitable[T]], *args: Any, **kw: Any) -> T:
        """``fn(db, *args, **kw)`` in a transaction of its own (what a job does)."""
        async with transaction(self.sessions) as db:
            return await fn(db, *args, **kw)

    async def photo(self, who: str) -> str:
        pid = str(uuid.uuid4())
        async with transaction(self.sessions) as db:
            db.add(Photo(id=pid, sha256=uuid.uuid4().hex * 2, content_type="image/png",
                         size=10, storage_key="x", uploaded_by=self.uid(who)))
        return pid

    async def submission(self, who: str, site: str, definition_id: str,
                         failed: list[tuple[str, str]], *, at: datetime = NOW,
                         evidence: dict[str, Any] | None = None) -> str:
        """A stored submission with these failed items (item id, severity), as the
        submissions slice writes them."""
        sid = str(uuid.uuid4())
        async with transaction(self.sessions) as db:
            version = await get_version(db, definition_id)
            db.add(Submission(
                id=sid, body_hash="0" * 64, user_id=self.uid(who),
                site_id=self.world.sites[site], visit_id=None, definition_id=definition_id,
                version_id=version.id, content_hash=version.content_hash, answers={},
                evidence=evidence or {}, evaluation={}, failed_count=len(failed),
                submitted_at=at))
            await db.flush()
            for item, severity in failed:
                db.add(FailedItem(submission_id=sid, item_id=item, severity=severity,
                                  site_id=self.world.sites[site], created_at=at))
        return sid

    async def issue(self, issue_id: int) -> Issue:
        async with self.sessions() as db:
            found = await db.get(Issue, issue_id)
            assert found is not None
            return found

    async def issues(self, **where: Any) -> list[Issue]:
        async with self.sessions() as db:
            stmt = select(Issue).order_by(Issue.id)
            for key, value in where.items():
                stmt = stmt.where(getattr(Issue, key) == value)
            return list((await db.execute(stmt)).scalars())

    async def events(self, issue_id: int) -> list[IssueEvent]:
        async with self.sessions() as db:
            return list((await db.execute(select(IssueEvent).where(
                IssueEvent.issue_id == issue_id).order_by(IssueEvent.id))).scalars())

    async def inbox(self, who: str, kind: str | None = None, issue_id: int | None = None
                    ) -> list[Notification]:
        async with self.sessions() as db:
            stmt = select(Notification).where(Notification.user_id == self.uid(who))
            if kind is not None:
                stmt = stmt.where(Notification.kind == kind)
            if issue_id is not None:
                stmt = stmt.where(Notification.issue_id == issue_id)
            return list((await db.execute(stmt.order_by(Notification.id))).scalars())


@pytest.fixture
async def loop(sessions: Sessions) -> Loop:
    async with transaction(sessions) as db:
        world = await seed_field(db)
    return Loop(sessions, world)

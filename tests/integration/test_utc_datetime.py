"""Times in the database on real SQLite and PostgreSQL: stored as the same instant in UTC,
read back aware and in UTC, through the ORM and through Core, whatever zone they came in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.runtime.orgs.models import OrgUnit

SHANGHAI = timezone(timedelta(hours=8))


async def test_times_come_back_aware_in_utc(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=SHANGHAI)
    async with transaction(sessions) as db:
        db.add_all([OrgUnit(code="sh", kind="city", name_zh="上海", name_en="Shanghai",
                            created_at=at),
                    OrgUnit(code="naive", kind="city", name_zh="无", name_en="Naive",
                            created_at=datetime(2026, 3, 1, 1, 30, 15, 123456))])
    async with sessions() as db:
        orm = (await db.execute(select(OrgUnit).where(OrgUnit.code == "sh"))).scalar_one()
        core = (await db.execute(select(OrgUnit.__table__.c.created_at)
                                 .order_by(OrgUnit.__table__.c.code))).scalars().all()
        # Compared in SQL with a time in another zone: the same instant, not its wall clock.
        later = (await db.execute(select(OrgUnit.code).where(
            OrgUnit.created_at > at - timedelta(seconds=1)))).scalars().all()
    expected = datetime(2026, 3, 1, 1, 30, 15, 123456, tzinfo=UTC)
    assert orm.created_at == expected and orm.created_at.utcoffset() == timedelta(0)
    assert orm.created_at.isoformat() == "2026-03-01T01:30:15.123456+00:00"
    assert core == [expected, expected]  # a naive time is taken to be UTC
    assert all(c.tzinfo is not None and c.utcoffset() == timedelta(0) for c in core)
    assert sorted(later) == ["naive", "sh"]

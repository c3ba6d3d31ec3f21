"""The audit trail's store: an entry is kept with its change and only then; the newest come
first, a page at a time, filtered by actor, action (or its prefix), target and time."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.runtime.audit import AuditFilter, changes_between, entries, record
from rounds.runtime.orgs.models import OrgUnit


def test_changes_between_names_each_changed_field_and_leaves_secrets_out() -> None:
    before = {"role_id": "customer_manager", "org_unit_id": 3, "password_hash": "x"}
    after = {"role_id": "station_head", "org_unit_id": 3, "password_hash": "y", "phone": "1"}
    assert changes_between(before, after, leave_out=("password_hash",)) == {
        "phone": [None, "1"], "role_id": ["customer_manager", "station_head"]}


async def test_an_entry_is_stored_with_its_change_and_not_without(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    t0 = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
    async with sessions() as db:
        async with db.begin():
            unit = OrgUnit(code="audit-x", kind="city", name_zh="测试", name_en="Test")
            db.add(unit)
            await db.flush()
            record(db, actor_id=None, action="org_unit.create", target_kind="org_unit",
                   target_id=unit.id, changes={"code": [None, "audit-x"]}, at=t0)
        with pytest.raises(RuntimeError):
            async with db.begin():  # a change that fails takes its entry with it
                record(db, actor_id=None, action="org_unit.rename", target_kind="org_unit",
                       target_id=unit.id, at=t0)
                raise RuntimeError("the change failed")
        async with db.begin():
            for n in range(3):
                record(db, actor_id=None, action=f"user.{'create' if n else 'disable'}",
                       target_kind="user", target_id=n, at=t0 + dt.timedelta(hours=n + 1))
    async with sessions() as db:
        everything = await entries(db)
        assert [e.action for e in everything] == [
            "user.create", "user.create", "user.disable", "org_unit.create"]
        assert everything[-1].changes == {"code": [None, "audit-x"]}
        first_page = await entries(db, limit=2)
        second_page = await entries(db, before_id=first_page[-1].id, limit=2)
        assert [e.id for e in first_page + second_page] == [e.id for e in everything]
        users = await entries(db, AuditFilter(action="user."))
        assert len(users) == 3
        assert [e.target_id for e in await entries(db, AuditFilter(action="user.disable"))] \
            == ["0"]
        late = await entries(db, AuditFilter(since=t0 + dt.timedelta(hours=2)))
        assert {e.target_id for e in late} == {"1", "2"}
        assert await entries(db, AuditFilter(target_kind="org_unit", target_id="nope")) == []

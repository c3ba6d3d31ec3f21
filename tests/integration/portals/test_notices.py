"""Which notices a reader sees when: from the publish time, until the expiry, not once
withdrawn; a retailer those of its shop's unit and the units above. Both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.runtime.access import Forbidden
from rounds.runtime.portals import notices
from support.field import principal, seed_field

NOW = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)


async def test_notices_show_in_their_time_for_their_unit(
        sessions: async_sessionmaker[AsyncSession]) -> None:
    async with transaction(sessions) as db:
        world = await seed_field(db)
    async with transaction(sessions) as db:
        leader = await principal(db, "leader")
        with pytest.raises(Forbidden):
            await notices.publish_notice(db, await principal(db, "cm_a"), now=NOW,
                                         title_zh="x", body_zh="y", audience="retailer",
                                         topic="policy")

        async def publish(title: str, audience: str = "retailer", **more: Any) -> int:
            n = await notices.publish_notice(db, leader, now=NOW, title_zh=title,
                                             body_zh="……", topic="policy", audience=audience,
                                             **more)
            return n.id

        await publish("全市", audience="all")
        await publish("A站", org_unit_id=world.units["st_a"])
        await publish("B站", org_unit_id=world.units["st_b"])
        await publish("一周", expires_at=NOW + timedelta(days=7))
        await publish("下周起", published_at=NOW + timedelta(days=7))
        await publish("给消费者", audience="consumer")
        gone = await publish("撤回")
        await notices.withdraw_notice(db, leader, gone, now=NOW)

    async def seen(at: datetime, unit: str, audience: str = "retailer") -> set[str]:
        async with sessions() as db:
            return {n.title["zh"] for n in await notices.current_notices(
                db, audience, now=at, org_unit_id=world.units[unit])}

    # a shop of area A1, below station A
    assert await seen(NOW, "area_a1") == {"全市", "A站", "一周"}
    assert await seen(NOW + timedelta(days=8), "area_a1") == {"全市", "A站", "下周起"}
    assert await seen(NOW, "st_b") == {"全市", "B站", "一周"}
    assert await seen(NOW, "city", "consumer") == {"全市", "给消费者"}

"""Pushing, in process, on SQLite and PostgreSQL: each row claimed once however many push at
once, a failed publish leaves the row for the next try, the API process pushes its own rows
right after commit, and an idle stream gets keep-alive comments."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.runtime.notifications.models import Notification
from rounds.runtime.notifications.push import Pusher, claim_and_publish, user_channel
from rounds.runtime.notifications.service import PENDING_PUSH, notify
from rounds.runtime.notifications.web import event_stream
from support.fieldwork import load_definitions, seed

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def users(sessions: Sessions) -> dict[str, int]:
    async with transaction(sessions) as db:
        await load_definitions(db)
        return (await seed(db)).users


async def _make(sessions: Sessions, user_id: int, count: int, key: str) -> list[int]:
    async with transaction(sessions) as db:
        ids: list[int] = []
        for i in range(count):
            ids += await notify(db, user_ids=[user_id], kind="issue_assigned",
                                message={"zh": "测试", "en": "test"}, dedupe_key=f"{key}:{i}")
        return ids


async def _unpushed(sessions: Sessions) -> int:
    async with sessions() as db:
        return int((await db.execute(select(func.count()).select_from(Notification).where(
            Notification.pushed_at.is_(None)))).scalar_one())


async def test_each_row_is_published_once_however_many_push_at_once(
        sessions: Sessions, users: dict[str, int]) -> None:
    ids = await _make(sessions, users["zhang"], 60, "race")
    published: list[int] = []

    async def send(channel: str, data: bytes) -> None:
        assert channel == user_channel(users["zhang"])
        published.append(int(msgspec.json.decode(data)["id"]))
        await asyncio.sleep(0)  # let the others run meanwhile

    async def pusher() -> None:
        while True:
            async with transaction(sessions) as db:
                if not await claim_and_publish(db, send, limit=7):
                    return

    await asyncio.gather(*(pusher() for _ in range(4)))
    assert sorted(published) == sorted(ids)  # all of them, none twice
    assert await _unpushed(sessions) == 0


async def test_a_failed_publish_leaves_the_rows_for_the_next_try(
        sessions: Sessions, users: dict[str, int]) -> None:
    ids = await _make(sessions, users["zhang"], 3, "fail")

    async def broken(channel: str, data: bytes) -> None:
        raise ConnectionError("the broker is away")

    with pytest.raises(ConnectionError):
        async with transaction(sessions) as db:
            await claim_and_publish(db, broken)
    assert await _unpushed(sessions) == 3

    sent: list[dict[str, Any]] = []

    async def ok(channel: str, data: bytes) -> None:
        sent.append(msgspec.json.decode(data))

    async with transaction(sessions) as db:
        assert await claim_and_publish(db, ok) == 3
    assert [e["id"] for e in sent] == ids
    assert [e["unread"] for e in sent] == [3, 3, 3]
    assert await _unpushed(sessions) == 0


async def test_the_api_process_pushes_its_own_rows_right_after_commit(
        sessions: Sessions, users: dict[str, int]) -> None:
    channels = ChannelsPlugin(MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    engine = sessions.kw["bind"]
    async with channels:
        # Polls once at the start, then not for an hour: what arrives is the commit's push.
        pusher = Pusher(sessions, engine, channels, interval=3600)
        task = await pusher.start()
        try:
            uid = users["wang"]
            subscriber = await channels.subscribe([user_channel(uid)])
            events = subscriber.iter_events()
            async with sessions() as db:
                async with db.begin():
                    (rolled_back,) = await notify(db, user_ids=[uid], kind="issue_assigned",
                                                  message={"en": "x"}, dedupe_key="rb")
                    await db.rollback()
                assert PENDING_PUSH not in db.info  # forgotten with its transaction
                async with db.begin():
                    (made,) = await notify(db, user_ids=[uid], kind="issue_assigned",
                                           message={"en": "y"}, dedupe_key="commit")
                    assert db.info[PENDING_PUSH] == {made}
            got = msgspec.json.decode(await asyncio.wait_for(anext(events), 30))
            assert got["id"] == made and got["type"] == "notification"
            assert rolled_back  # it had an id, but no row to push after the rollback
            await channels.unsubscribe(subscriber)
        finally:
            await pusher.stop(task)


async def test_an_idle_stream_sends_keep_alive_comments(
        sessions: Sessions, users: dict[str, int]) -> None:
    channels = ChannelsPlugin(MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    async with channels:
        stream = event_stream(sessions, channels, users["li"], keep_alive=0.2)
        try:
            first = await asyncio.wait_for(anext(stream), 30)
            assert (first.event, first.data) == ("unread", b'{"unread":0}')
            idle = await asyncio.wait_for(anext(stream), 30)
            assert idle.comment == "keep-alive" and idle.event is None
            assert idle.encode() == b": keep-alive\r\n\r\n"
        finally:
            await stream.aclose()

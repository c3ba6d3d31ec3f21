"""The schedule lock's statements on real SQLite and PostgreSQL: one holder at a time even
when many beats try at once (each with its own engine, as separate processes would), taken
over when released or expired, never renewed by a beat that no longer holds it, and the
ticks recorded by one holder handed to the next."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rounds.db import create_engine
from rounds.jobs.schedule import ScheduleLockStore

Locks = Callable[[int], ScheduleLockStore]


@pytest.fixture
async def locks(database_url: str, sessions: async_sessionmaker[AsyncSession]
                ) -> AsyncIterator[Locks]:
    """Lock stores on engines of their own (``sessions`` migrated the database)."""
    engines: list[AsyncEngine] = []

    def make(seconds: int) -> ScheduleLockStore:
        engines.append(create_engine(database_url))
        return ScheduleLockStore(engines[-1], seconds)

    yield make
    for engine in engines:
        await engine.dispose()


async def test_of_beats_trying_at_once_exactly_one_holds_the_schedule(locks: Locks) -> None:
    stores = [locks(60) for _ in range(6)]
    states = await asyncio.gather(*(store.acquire(f"host:{n}/t") for n, store in
                                    enumerate(stores)))
    holders = {state.holder for state in states}
    assert len(holders) == 1  # every beat read the same holder
    (holder,) = holders
    renewed = [await s.renew(f"host:{n}/t") for n, s in enumerate(stores)]
    assert [f"host:{n}/t" for n, ok in enumerate(renewed) if ok] == [holder]


async def test_a_released_lock_is_taken_with_the_ticks_its_holder_recorded(
        locks: Locks) -> None:
    first, second = locks(60), locks(60)
    assert (await first.acquire("a:1/x")).holder == "a:1/x"
    assert await first.renew("a:1/x", {"reconcile": "2026-12-06T01:00:00+00:00"})
    waiting = await second.acquire("b:2/y")
    assert waiting.holder == "a:1/x"  # what the waiting beat names
    await second.release("b:2/y")  # not its lock: changes nothing
    assert (await second.acquire("b:2/y")).holder == "a:1/x"

    await first.release("a:1/x")
    taken = await second.acquire("b:2/y")
    assert taken.holder == "b:2/y"
    assert taken.last_runs == {"reconcile": "2026-12-06T01:00:00+00:00"}
    assert not await first.renew("a:1/x", {"reconcile": "2026-12-06T01:00:05+00:00"})
    assert (await first.acquire("a:1/x")).holder == "b:2/y"


async def test_an_expired_lock_is_taken_over_and_its_holder_can_no_longer_renew(
        locks: Locks) -> None:
    dead, standby = locks(1), locks(1)
    assert (await dead.acquire("a:1/x")).holder == "a:1/x"
    assert (await standby.acquire("b:2/y")).holder == "a:1/x"
    await asyncio.sleep(1.5)  # the holder renews no more: its lock expires
    assert (await standby.acquire("b:2/y")).holder == "b:2/y"
    assert not await dead.renew("a:1/x")
    assert await standby.renew("b:2/y")

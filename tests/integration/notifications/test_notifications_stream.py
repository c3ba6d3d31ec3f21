"""The live stream (Server-Sent Events) over real HTTP, with real processes.

- in-memory channels (the default, one API process): a notification another process made
  (a worker; here the test, straight into the database) reaches an open stream through the
  API process's poll of unpushed rows; a reconnecting page gets what it missed;
- Redis (``ROUNDS_REDIS_URL``): two API processes on one PostgreSQL database; what one
  publishes reaches a page open on the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from notification_helpers import Person, new_person, notify, pushed_at

from support.fieldwork import postgres_database
from support.live import LiveServer, event_stream, redis_database, wait_until

STREAM = "/api/notifications/stream"


@pytest.fixture(scope="module")
def memory_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The embedded default: SQLite, in-memory channels."""
    live = LiveServer(Path(tmp_path_factory.mktemp("stream")))
    yield live
    live.stop()


async def _notify(person: Person, count: int = 1) -> list[int]:
    return await asyncio.to_thread(notify, person.server.database_url, person.id, count)


async def test_a_row_made_by_another_process_reaches_the_open_stream(
        memory_server: LiveServer) -> None:
    ann = new_person(memory_server)
    (old,) = await _notify(ann)
    # Pushed (to nobody) before the page opens: a row not pushed yet would come live.
    await asyncio.to_thread(wait_until, lambda: pushed_at(memory_server.database_url, old),
                            what="the first row pushed")
    async with event_stream(memory_server.url + STREAM, ann.auth) as stream:
        assert stream.first["data"] == {"unread": 1}
        assert stream.first.get("id") is None  # the count is no notification
        (new,) = await _notify(ann)  # no pusher in this process: the server's poll finds it
        event = await stream.next_event("notification")
    assert event["id"] == str(new)
    data = event["data"]
    assert data["id"] == new and data["kind"] == "issue_assigned"
    assert data["message"] == {"zh": "通知 0", "en": "Notice 0"}
    assert data["link"] == "/issues/0" and data["unread"] == 2
    assert await asyncio.to_thread(pushed_at, memory_server.database_url, new) is not None


async def test_a_reconnecting_page_gets_what_it_missed_once(memory_server: LiveServer) -> None:
    ann = new_person(memory_server)
    seen, missed1, missed2 = await _notify(ann, 3)
    async with event_stream(memory_server.url + STREAM, ann.auth, last_event_id=seen) as stream:
        replayed = [await stream.next_event("notification") for _ in range(2)]
        (live,) = await _notify(ann)
        after = await stream.next_event("notification")
    assert [e["data"]["id"] for e in replayed] == [missed1, missed2]
    assert [e["id"] for e in replayed] == [str(missed1), str(missed2)]
    # The poll pushes missed1 and missed2 live too, if it had not yet: sent once all the same.
    assert after["data"]["id"] == live


async def test_last_event_id_also_as_a_query_parameter(memory_server: LiveServer) -> None:
    ann = new_person(memory_server)
    seen, missed = await _notify(ann, 2)
    url = f"{memory_server.url}{STREAM}?last_event_id={seen}"
    async with event_stream(url, ann.auth) as stream:
        assert (await stream.next_event("notification"))["data"]["id"] == missed


async def test_reading_on_one_page_updates_the_count_on_another(
        memory_server: LiveServer) -> None:
    ann = new_person(memory_server)
    first, _ = await _notify(ann, 2)
    async with event_stream(memory_server.url + STREAM, ann.auth) as stream:
        assert stream.first["data"] == {"unread": 2}
        async with httpx.AsyncClient(base_url=memory_server.url, headers=ann.auth) as c:
            assert (await c.post(f"/api/notifications/{first}/read")).status_code == 200
            assert (await stream.next_event("unread"))["data"] == {"unread": 1}
            assert (await c.post("/api/notifications/read-all")).status_code == 200
            assert (await stream.next_event("unread"))["data"] == {"unread": 0}


async def test_a_stream_hears_only_its_own_user(memory_server: LiveServer) -> None:
    ann, bob = new_person(memory_server), new_person(memory_server)
    async with event_stream(memory_server.url + STREAM, ann.auth) as stream:
        await _notify(bob)
        (mine,) = await _notify(ann)
        # Bob's was made first: had it leaked into Ann's stream it would come first.
        assert (await stream.next_event("notification"))["data"]["id"] == mine


# -- Redis: two API processes -------------------------------------------------------------------

@pytest.fixture(scope="module")
def two_servers(tmp_path_factory: pytest.TempPathFactory
                ) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two `rounds up` processes on one PostgreSQL database, fanning out through Redis."""
    with ExitStack() as stack:
        database = stack.enter_context(postgres_database())
        redis_url = stack.enter_context(redis_database())
        env = {"ROUNDS_REDIS_URL": redis_url}
        first = LiveServer(Path(tmp_path_factory.mktemp("api-a")), database, env=env)
        stack.callback(first.stop)
        second = LiveServer(Path(tmp_path_factory.mktemp("api-b")), database, env=env)
        stack.callback(second.stop)
        yield first, second


async def test_a_notification_reaches_pages_open_on_both_processes(
        two_servers: tuple[LiveServer, LiveServer]) -> None:
    a, b = two_servers
    ann = new_person(a)
    async with event_stream(a.url + STREAM, ann.auth) as on_a, \
            event_stream(b.url + STREAM, ann.auth) as on_b:
        (n,) = await _notify(ann)  # made outside both; one of them claims it and publishes
        got_a, got_b = await asyncio.gather(on_a.next_event("notification"),
                                            on_b.next_event("notification"))
    assert got_a["data"]["id"] == got_b["data"]["id"] == n
    assert got_a["data"]["unread"] == got_b["data"]["unread"] == 1
    assert await asyncio.to_thread(pushed_at, a.database_url, n) is not None


async def test_what_one_process_publishes_reaches_a_page_on_the_other(
        two_servers: tuple[LiveServer, LiveServer]) -> None:
    a, b = two_servers
    ann = new_person(a)
    await _notify(ann, 2)
    async with event_stream(b.url + STREAM, ann.auth) as on_b:
        assert on_b.first["data"] == {"unread": 2}
        async with httpx.AsyncClient(base_url=a.url, headers=ann.auth) as c:
            r = await c.post("/api/notifications/read-all")  # process A publishes after commit
            assert r.status_code == 200, r.text
        assert (await on_b.next_event("unread"))["data"] == {"unread": 0}


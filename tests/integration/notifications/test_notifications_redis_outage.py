"""Redis going away and coming back (a private redis-server, restarted by the test): the
API process reconnects, resubscribes its open streams and pushes what was made meanwhile."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from notification_helpers import new_person, notify, pushed_at

from support.live import LiveServer, event_stream, free_port, wait_until

STREAM = "/api/notifications/stream"


class PrivateRedis:
    """A redis-server of our own on a free port, that the test may stop and start again."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = redis.Redis(port=self.port)
        try:
            wait_until(lambda: _pings(client), timeout=30, what="redis-server")
        finally:
            client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(30)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.ConnectionError:
        return False


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:  # pragma: no cover - installed on CI
        pytest.skip("no redis-server to run privately")
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


async def test_streams_survive_a_redis_restart(tmp_path: Path,
                                                private_redis: PrivateRedis) -> None:
    api = LiveServer(tmp_path / "api", env={"ROUNDS_REDIS_URL": private_redis.url})
    try:
        ann = new_person(api)
        async with event_stream(api.url + STREAM, ann.auth) as stream:
            (before,) = await asyncio.to_thread(notify, api.database_url, ann.id)
            assert (await stream.next_event("notification"))["data"]["id"] == before

            private_redis.stop()
            (meanwhile,) = await asyncio.to_thread(notify, api.database_url, ann.id)
            private_redis.start()  # same port, empty

            # Pushed once Redis is back (a failed publish left it pending), to the same page.
            event = await stream.next_event("notification", timeout=90)
            assert event["data"]["id"] == meanwhile
            (after,) = await asyncio.to_thread(notify, api.database_url, ann.id)
            assert (await stream.next_event("notification"))["data"]["id"] == after
        assert await asyncio.to_thread(pushed_at, api.database_url, meanwhile) is not None
    finally:
        api.stop()

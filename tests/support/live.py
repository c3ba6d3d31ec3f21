"""A real `rounds up` server process for tests that talk HTTP (and browsers)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]
DEFINITIONS = REPO / "definitions"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """A real `rounds up` process (migrate, sync definitions, serve) on a free port."""

    def __init__(self, data_dir: Path, database_url: str | None = None,
                 definitions: Path = DEFINITIONS, env: Mapping[str, str] | None = None,
                 *, worker: bool = False) -> None:
        """``env``: extra variables for the server (``ROUNDS_REDIS_URL``...). ``worker``:
        `rounds up` starts its job worker too (by default the tests run their own)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environ = {**os.environ, "ROUNDS_DATA_DIR": str(data_dir),
                   "ROUNDS_DEFINITIONS_DIR": str(definitions),
                   "ROUNDS_NODE_MODULES_DIR": str(REPO / "node_modules"),
                   "ROUNDS_ADMIN_UI_DIR": str(REPO / "admin_ui"),
                   "ROUNDS_SERVER_PORT": str(self.port), **(env or {})}
        if database_url:
            environ["ROUNDS_DATABASE_URL"] = database_url
        self.database_url = database_url or f"sqlite+aiosqlite:///{data_dir / 'rounds.sqlite3'}"
        self.log = data_dir / "server.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "rounds.cli", "up", *([] if worker else ["--no-worker"])],
            env=environ, cwd=REPO,
            stdout=self._log_file, stderr=subprocess.STDOUT)
        self._wait()

    def _wait(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log.read_text()}")
            try:
                if httpx.get(self.url + "/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except Exception:
            self.process.kill()
        self._log_file.close()




def run_async(coro: Any) -> Any:
    """Run a coroutine to completion from sync test code, in a thread of its own: the
    browser tests' Playwright keeps an event loop in the main thread, where asyncio.run
    would refuse to start another."""
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def add_user(server: LiveServer, username: str, role_id: str, password: str = "password-123",
             org_unit: str = "city") -> None:
    """Create a user (and the city org unit if missing) straight in the server's database."""
    from rounds.db import create_engine, session_factory, transaction
    from rounds.errors import NotFound
    from rounds.runtime.orgs.service import by_code, create_org_unit
    from rounds.runtime.people.service import create_user

    async def run() -> None:
        engine = create_engine(server.database_url)
        try:
            async with transaction(session_factory(engine)) as db:
                try:
                    await by_code(db, org_unit)
                except NotFound:
                    await create_org_unit(db, code=org_unit, kind="city", name_zh="市公司",
                                          name_en="City company")
                await create_user(db, username=username, display_name=username,
                                  role_id=role_id, org_unit_code=org_unit, password=password)
        finally:
            await engine.dispose()

    run_async(run())


def in_database(database_url: str, work: Any) -> Any:
    """``await work(db)`` in a transaction on a server's database, from the test process (as a
    worker or another process would do it)."""
    from rounds.db import create_engine, session_factory, transaction

    async def run() -> Any:
        engine = create_engine(database_url)
        try:
            async with transaction(session_factory(engine)) as db:
                return await work(db)
        finally:
            await engine.dispose()

    return run_async(run())


def user_id(server: LiveServer, username: str) -> int:
    from sqlalchemy import select

    from rounds.runtime.people.models import User

    async def find(db: Any) -> int:
        return int((await db.execute(select(User.id).where(User.username == username))
                    ).scalar_one())

    return int(in_database(server.database_url, find))


def api_token(server: LiveServer, username: str, password: str = "password-123") -> dict[str, str]:
    """Authorization headers of a fresh bearer token."""
    r = httpx.post(server.url + "/api/auth/sign-in",
                   json={"username": username, "password": password, "kind": "api"})
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['token']}"}


# -- job workers, Redis, live streams ------------------------------------------------------------

class LiveWorker:
    """A real `rounds worker` process (with `--beat`: the periodic schedule too).

    It runs in a process group of its own, so that ``kill()`` takes its pool children with
    it, as a machine that dies would. ``preload`` names a module (importable from
    ``tests/``) to import first: test-only tasks.
    """

    def __init__(self, data_dir: Path, database_url: str, *, env: Mapping[str, str] | None = None,
                 beat: bool = True, preload: str | None = None, name: str = "w") -> None:
        import uuid

        data_dir.mkdir(parents=True, exist_ok=True)
        environ = {**os.environ, "ROUNDS_DATA_DIR": str(data_dir),
                   "ROUNDS_DATABASE_URL": database_url,
                   "PYTHONPATH": os.pathsep.join([str(REPO / "tests"),
                                                  os.environ.get("PYTHONPATH", "")]),
                   **(env or {})}
        args = ["worker", "--concurrency", "1", "--loglevel", "INFO",
                "--hostname", f"{name}-{uuid.uuid4().hex[:8]}@%h"] + (["--beat"] if beat else [])
        if preload:
            cmd = [sys.executable, "-c", f"import sys, {preload}; from rounds.cli import main; "
                   "sys.exit(main(sys.argv[1:]))", *args]
        else:
            cmd = [sys.executable, "-m", "rounds.cli", *args]
        self.log = data_dir / f"worker-{name}.log"
        self._log_file = self.log.open("w")
        self.process = subprocess.Popen(cmd, env=environ, cwd=REPO, stdout=self._log_file,
                                        stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for_log("ready.")

    def wait_for_log(self, text: str, timeout: float = 60) -> None:
        """Until the worker's log says ``text`` (bounded; fails with the log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text(errors="replace"):
                return
            if self.process.poll() is not None:
                raise RuntimeError(f"worker exited: {self.log.read_text()}")
            time.sleep(0.2)
        raise RuntimeError(f"worker log has no {text!r} after {timeout}s: {self.log.read_text()}")

    def kill(self) -> None:
        """SIGKILL the worker and its pool: no goodbye, no acknowledgement."""
        import signal

        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self._log_file.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # warm shutdown: the worker stops its pool and beat
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
                return
        self._log_file.close()


@contextlib.contextmanager
def redis_database() -> Iterator[str]:
    """The URL of a Redis database number nobody uses, claimed for the test, flushed after.

    Several test runs (and people) share the Redis server: a database is ours if it was
    empty and we set the claim key first.
    """
    import uuid

    import redis

    token = uuid.uuid4().hex
    for number in range(15, 0, -1):
        client = redis.Redis(host="127.0.0.1", port=6379, db=number)
        try:
            if client.dbsize() == 0 and client.set("rounds:test:claim", token, nx=True,
                                                   ex=3600):
                try:
                    yield f"redis://127.0.0.1:6379/{number}"
                finally:
                    client.flushdb()
                return
        finally:
            client.close()
    raise RuntimeError("no free Redis database on 127.0.0.1:6379")


@contextlib.contextmanager
def rabbitmq_vhost() -> Iterator[str]:
    """The ``amqp://`` URL of a RabbitMQ virtual host of our own (made with rabbitmqctl on
    this machine), deleted after: other runs' workers never see our queues."""
    import uuid

    vhost = f"rounds-test-{uuid.uuid4().hex[:10]}"

    def ctl(*args: str) -> None:
        subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=60)

    ctl("add_vhost", vhost)
    try:
        ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
        yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    finally:
        ctl("delete_vhost", vhost)


def wait_until(check: Any, timeout: float = 60, interval: float = 0.25,
               what: str = "condition") -> Any:
    """Poll ``check()`` until it returns something truthy (returned), or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {value!r}")
        time.sleep(interval)


class EventStream:
    """A Server-Sent Events client over a real HTTP connection (httpx, async)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self.first: dict[str, Any] = {}

    async def next(self, timeout: float = 30, *, comments: bool = False) -> dict[str, str]:
        """The next event's fields (``event``, ``id``, ``data``, ``comment``), bounded wait;
        keep-alive comments are skipped unless ``comments``."""
        async with asyncio.timeout(timeout):
            event: dict[str, str] = {}
            while True:
                line = await anext(self._lines)
                if line == "":
                    if event and (comments or set(event) != {"comment"}):
                        return event
                    event = {}
                    continue
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                key = name or "comment"
                event[key] = event[key] + "\n" + value if key in event else value

    async def next_event(self, kind: str, timeout: float = 30) -> dict[str, Any]:
        """The next event of type ``kind`` (others skipped), with its data decoded."""
        import json

        async with asyncio.timeout(timeout):
            while True:
                event = await self.next(timeout)
                if event.get("event") == kind:
                    return {**event, "data": json.loads(event.get("data", "null"))}


@contextlib.asynccontextmanager
async def event_stream(url: str, headers: Mapping[str, str],
                       last_event_id: int | None = None) -> AsyncIterator[EventStream]:
    """Open ``GET url`` as an event stream; the first event (the unread count) is read."""
    extra = {"Last-Event-ID": str(last_event_id)} if last_event_id is not None else {}
    timeout = httpx.Timeout(30, read=60)
    async with httpx.AsyncClient(timeout=timeout) as client, client.stream(
            "GET", url, headers={**headers, **extra, "Accept": "text/event-stream"}) as r:
        assert r.status_code == 200, await r.aread()
        assert r.headers["content-type"].startswith("text/event-stream")
        stream = EventStream(r)
        stream.first = await stream.next_event("unread")  # subscribed from here on
        yield stream

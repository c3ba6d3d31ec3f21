"""Is this installation able to do its work now? The checks behind ``GET /api/ready`` and
``rounds doctor`` (one implementation, two faces).

Each check is bounded (``CHECK_SECONDS``) and says what it looked at and, when it fails,
what is wrong, with any password in a URL masked. ``/api/health`` stays the cheap liveness
answer; these touch the database, the broker and Redis, so they are for a load balancer's
readiness probe and for a person, not for every second.
"""

from __future__ import annotations

import asyncio
import functools
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from rounds.errors import Problem, RoundsError
from rounds.extensions import Active, activate_from
from rounds.migrate import reached
from rounds.settings import Settings

CHECK_SECONDS = 3.0
JOBS_QUEUE = "celery"  # Celery's default queue: every Rounds task goes there

_PASSWORD_IN_URL = re.compile(r"(?P<head>//[^/@:]*:)[^/@]*@")


def mask_url(url: str) -> str:
    """``url`` with the password (``user:password@``, ``:password@``) replaced by ``***``."""
    return _PASSWORD_IN_URL.sub(r"\g<head>***@", url)


@dataclass(frozen=True)
class Check:
    """One check's result. ``code`` (when it failed) is the problem code naming the cause."""

    name: str  # database, migrations, broker, redis
    ok: bool
    detail: str  # what was looked at and found, or what is wrong
    code: str = ""


class NotReady(RoundsError, code="not_ready", status=503, title="Not ready"):
    """Some dependency of the installation is unavailable: ``problems`` names each failed
    check (``source``) with what is wrong (``message``) and its own ``code``."""

    @classmethod
    def of(cls, failed: list[Check]) -> NotReady:
        return cls("not ready: " + "; ".join(f"{c.name}: {c.detail}" for c in failed),
                   [Problem("", c.detail, c.code, c.name) for c in failed])


def _reason(exc: BaseException) -> str:
    """One line on what went wrong: the driver's message rather than SQLAlchemy's wrapping
    (which appends the statement and a link)."""
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    message = " ".join(str(cause).split()) or type(cause).__name__
    return mask_url(message[:300])


async def _bounded(name: str, code: str, where: str,
                   work: Callable[[], Awaitable[str]]) -> Check:
    started = time.monotonic()
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            found = await work()
    except TimeoutError:
        return Check(name, False, f"{where}: no answer within {CHECK_SECONDS:g} s", code)
    except Exception as exc:
        return Check(name, False, f"{where}: {_reason(exc)}", code)
    ms = (time.monotonic() - started) * 1000
    return Check(name, True, f"{where}: {found} ({ms:.0f} ms)")


async def check_database(engine: AsyncEngine) -> Check:
    async def select_one() -> str:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        return "answers"

    where = mask_url(engine.url.render_as_string(hide_password=True))
    return await _bounded("database", "database_unavailable", where, select_one)


@functools.cache
def expected_heads(active: Active | None = None) -> frozenset[str]:
    """The migration heads this version of Rounds ships, with the enabled extensions'
    branches (read once: they are files)."""
    from rounds.migrate import core_head, extension_heads

    return frozenset({core_head()}) | (extension_heads(active) if active else frozenset())


async def check_migrations(engine: AsyncEngine, active: Active | None = None) -> Check:
    async def compare() -> str:
        heads = await asyncio.to_thread(expected_heads, active)
        async with engine.connect() as conn:
            try:
                current = set((await conn.execute(
                    text("SELECT version_num FROM alembic_version"))).scalars())
            except DBAPIError:
                current = set()  # no alembic_version table: never migrated
        # Each expected head applied (an extension's head carries the core's); more than
        # expected is a disabled extension's branch, whose tables lie unused.
        if heads <= await asyncio.to_thread(reached, current, active):
            return f"at {', '.join(sorted(heads))}"
        wanted = ", ".join(sorted(heads))
        if not current:
            raise LookupError(f"not migrated (this version needs {wanted}): "
                              "run `rounds db upgrade`")
        raise LookupError(f"at {', '.join(sorted(current))}, this version needs {wanted}: "
                          "run `rounds db upgrade` (or a newer release migrated it)")

    return await _bounded("migrations", "migrations_behind", "schema", compare)


def _broker_connection(url: str) -> Any:
    from kombu.connection import Connection

    return Connection(url, connect_timeout=CHECK_SECONDS,  # type: ignore[no-untyped-call]
                      transport_options={"max_retries": 0})


def _broker_answers(url: str) -> str:
    with _broker_connection(url) as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_SECONDS)
    return "connected"


def queue_depth(url: str, queue: str = JOBS_QUEUE) -> int:
    """Messages waiting in ``queue`` on the broker (Redis, RabbitMQ, or the embedded SQLite
    transport), by a passive declare: nothing is created or taken. A queue no worker has
    declared yet holds nothing: 0."""
    from kombu.entity import Queue
    from kombu.exceptions import ChannelError  # amqp's: its NotFound (404) too

    with _broker_connection(url) as conn:
        conn.ensure_connection(max_retries=1, timeout=CHECK_SECONDS)
        try:
            declared = Queue(queue, channel=conn.default_channel  # type: ignore[no-untyped-call]
                             ).queue_declare(passive=True)
        except ChannelError:
            return 0
        return int(declared.message_count)


async def check_broker(url: str) -> Check:
    # kombu is blocking: a thread, abandoned (not waited for) if it outlasts the bound.
    return await _bounded("broker", "broker_unavailable", mask_url(url),
                          lambda: asyncio.to_thread(_broker_answers, url))


async def check_redis(url: str) -> Check:
    async def ping() -> str:
        from redis.asyncio import Redis

        client = Redis.from_url(url, socket_connect_timeout=CHECK_SECONDS,
                                socket_timeout=CHECK_SECONDS)
        try:
            await client.ping()
        finally:
            await client.aclose()
        return "answers PING"

    return await _bounded("redis", "redis_unavailable", mask_url(url), ping)


async def run_checks(settings: Settings, engine: AsyncEngine) -> list[Check]:
    """Every check, at the same time: database (then the migration head, which needs it),
    broker, and Redis when ROUNDS_REDIS_URL is set."""
    async def database_then_migrations() -> list[Check]:
        database = await check_database(engine)
        if not database.ok:
            return [database, Check("migrations", False, "not checked: no database",
                                    "migrations_unknown")]
        return [database, await check_migrations(engine, activate_from(settings))]

    others: list[Awaitable[Check]] = [check_broker(settings.broker_url)]
    if settings.redis.url:
        others.append(check_redis(settings.redis.url))
    database, rest = await asyncio.gather(database_then_migrations(), asyncio.gather(*others))
    return [*database, *rest]

"""The worker's side of live notifications: publish through Redis what it made.

With Redis (``ROUNDS_REDIS_URL``) a worker publishes the notifications its transactions
made straight to the API processes' channels, right after committing (tasks call
``push_now``), and the periodic reconciliation publishes any row still unpushed. Without
Redis a worker cannot reach the pages (they live in an API process's memory): the API
process polls for such rows instead (``push.Pusher.run_loop``), and these do nothing.
"""

from __future__ import annotations

import asyncio

from celery import shared_task
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.jobs import maintenance
from rounds.jobs.celery_app import RETRY_POLICY, current_app, run, sessions
from rounds.runtime.notifications.push import publish_all_pending
from rounds.settings import Settings, redis_prefix


class _Client:
    """One Redis client per worker process, on the loop its tasks run on."""

    redis: Redis | None = None
    loop: asyncio.AbstractEventLoop | None = None


def _redis(url: str) -> Redis:
    loop = asyncio.get_running_loop()
    if _Client.redis is None or _Client.loop is not loop:
        _Client.redis, _Client.loop = Redis.from_url(url), loop
    return _Client.redis


async def publish_pending_notifications(db: AsyncSession) -> int:
    """Publish, through Redis, the notifications nobody has pushed yet (none without Redis)."""
    settings: Settings = current_app().conf.rounds_settings
    url = settings.redis.url
    if not url:
        return 0
    client = _redis(url)

    async def send(channel: str, data: bytes) -> None:
        await client.publish(channel, data)

    return await publish_all_pending(db, send, prefix=redis_prefix(url))


async def push_now() -> int:
    """After a task's transaction has committed: publish what it made (and other strays)."""
    async with sessions()() as db, db.begin():
        return await publish_pending_notifications(db)


@shared_task(name="rounds.notifications.push", **RETRY_POLICY)
def push() -> int:
    """Publish unpushed notifications now (idempotent: each row is claimed once)."""
    return run(push_now())


# The last reconciler: it pushes what the others made in the same tick.
maintenance.register(publish_pending_notifications, last=True)

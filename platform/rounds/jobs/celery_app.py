"""The Celery application, built from the settings (never at import).

Brokers:
- embedded default: kombu's SQLAlchemy transport on a SQLite file in the data folder
  (``sqla+sqlite:///var/jobs.sqlite3``): nothing to install. Its limits: no visibility
  timeout (a message a killed worker had taken is not redelivered), consumed messages are
  never deleted, it polls (about a second of latency) and it suits one machine. Rounds
  copes because every job is also recomputed from the database by the periodic
  reconciliation.
- production: Redis (``redis://``) or RabbitMQ (``amqp://``). On Redis an unacknowledged
  task returns after the visibility timeout; on RabbitMQ when the worker's connection drops.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from datetime import timedelta
from typing import Any, TypeVar

from celery import Celery
from celery.schedules import crontab
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rounds.extensions import activate_from
from rounds.logs import connect_celery_signals
from rounds.ops.metrics import watch_jobs
from rounds.settings import Settings, load_settings

T = TypeVar("T")

# Slice modules whose tasks (and reconcilers) the worker loads.
# The tasks, and rounds.slices: every hook a higher slice fills in a lower one (a worker
# runs the same services as the app).
TASK_MODULES = ["rounds.slices", "rounds.jobs.maintenance", "rounds.runtime.issues.jobs",
                "rounds.runtime.notifications.jobs", "rounds.runtime.storage.jobs",
                "rounds.runtime.store.jobs", "rounds.runtime.okr.jobs"]

# Errors worth retrying a task for: the database or the network was briefly away (a
# restart, a failover, SQLite busy past its timeout). Anything else is a bug: retrying
# would only repeat it.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    OperationalError, InterfaceError, ConnectionError, TimeoutError)

# How tasks that fan work out retry: with growing, jittered delays, up to ~10 minutes.
RETRY_POLICY: dict[str, Any] = {
    "acks_late": True, "autoretry_for": TRANSIENT_ERRORS, "retry_backoff": 2,
    "retry_backoff_max": 600, "retry_jitter": True, "max_retries": 10}


class _ProcessState:
    """What one process keeps for its jobs: the app, an event loop, database sessions."""

    app: Celery | None = None
    loop: asyncio.AbstractEventLoop | None = None
    sessions: async_sessionmaker[AsyncSession] | None = None
    engine: AsyncEngine | None = None
    lock = threading.Lock()


def create_celery(settings: Settings | None = None) -> Celery:
    settings = settings or load_settings()
    # The enabled extensions' tasks and periodic entries run beside the core's.
    extensions = activate_from(settings)
    app = Celery("rounds", broker=settings.broker_url,
                 include=[*TASK_MODULES, *extensions.task_modules()], set_as_current=True)
    transport: dict[str, Any] = {}
    if settings.broker_url.startswith("redis"):
        # Long enough for the slowest task; an unacked task comes back after this.
        timeout = settings.jobs.visibility_timeout
        transport["visibility_timeout"] = timeout
        # Look for such tasks about ten times per timeout (kombu's default is every 100 s),
        # so that a short timeout also means a quick return.
        transport["unacked_restore_interval"] = max(1, min(30, timeout // 10))
        transport["unacked_restore_throttle"] = 1
    app.conf.update(
        task_acks_late=True,               # a task is acknowledged when done, not when taken
        task_reject_on_worker_lost=True,   # a killed worker's task goes back to the queue
        worker_prefetch_multiplier=1,      # take one task at a time: less to lose
        task_ignore_result=True,           # results live in the database, not the broker
        task_default_retry_delay=5,
        broker_connection_retry_on_startup=True,
        broker_transport_options=transport,
        timezone=settings.timezone,
        enable_utc=True,
        beat_schedule={
            "reconcile": {"task": "rounds.reconcile",
                          "schedule": timedelta(seconds=max(1, settings.jobs.reconcile_seconds)),
                          # Ticks queued while no worker ran are duplicates: drop old ones.
                          "options": {"expires": max(30, settings.jobs.reconcile_seconds)}},
            "delete-unused-photos": {
                "task": "rounds.storage.delete_unused_photos",
                "schedule": timedelta(seconds=max(1, settings.uploads.cleanup_seconds)),
                "options": {"expires": max(30, settings.uploads.cleanup_seconds)}},
            # The query store's nightly close, at ROUNDS_STORE_CLOSE_AT in the company's
            # time zone (``timezone`` above); a night missed is caught up by the refresh.
            "store-close": {
                "task": "rounds.store.close",
                "schedule": crontab(hour=settings.store.close_time.hour,
                                    minute=settings.store.close_time.minute),
                "options": {"expires": 6 * 3600}},
            **extensions.schedule(settings),  # named "<extension>.<entry>"
        },
    )
    app.conf.rounds_settings = settings
    watch_jobs(settings.metrics_dir)  # jobs counted in the worker (Prometheus, /metrics)
    connect_celery_signals()  # a task sent during a request logs with its request id
    _ProcessState.app = app
    return app


def current_app() -> Celery:
    """The app made by ``create_celery`` in this process (the worker's or the API's)."""
    return _ProcessState.app if _ProcessState.app is not None else create_celery()


# -- running the async services from a task ------------------------------------------------

def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine on this worker process's own event loop.

    One loop per process, kept for its life, so the database pool (whose connections belong
    to a loop) is reused across tasks instead of reconnecting each time.
    """
    with _ProcessState.lock:
        if _ProcessState.loop is None or _ProcessState.loop.is_closed():
            _ProcessState.loop = asyncio.new_event_loop()
        return _ProcessState.loop.run_until_complete(coro)


def sessions() -> async_sessionmaker[AsyncSession]:
    """Database sessions for tasks, from the settings the app was made with."""
    if _ProcessState.sessions is None:
        from rounds.db import create_engine, session_factory

        settings: Settings = current_app().conf.rounds_settings
        _ProcessState.engine = create_engine(settings.database_url)
        _ProcessState.sessions = session_factory(_ProcessState.engine)
    return _ProcessState.sessions

"""SQL helpers the slices share: the one row a query finds or 404, ``INSERT ... ON CONFLICT
DO NOTHING`` for the dialect, pre-encoded JSON, one writer at a time on SQLite, and short
write transactions that wait their turn (and retry) instead of failing when SQLite is busy.

Imports: the foundation (``rounds.errors``) and ``rounds.db``."""

from __future__ import annotations

import asyncio
import random
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from typing import Any, TypeVar

from sqlalchemy import Dialect, Select, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.types import TypeDecorator

from rounds.db import JSONDocument
from rounds.errors import NotFound

T = TypeVar("T")


async def one_or_not_found(db: AsyncSession, stmt: Select[T], missing: str) -> T:
    """The one thing ``stmt`` selects (an entity or a value); NotFound (``missing``) when it
    selects nothing. A query held to what its reader may see answers alike for a row that
    does not exist and one that is not theirs: they learn nothing about it."""
    found = (await db.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise NotFound(missing)
    return found


def insert_or_nothing(db: AsyncSession | AsyncConnection, table: Table,
                      index_elements: list[str] | None = None) -> Any:
    """``INSERT ... ON CONFLICT [(cols)] DO NOTHING`` for the database ``db`` talks to.

    A conflict is then a result (no row returned), not an exception: the transaction stays
    usable on PostgreSQL (no savepoint needed) and racing writers settle in the database.
    Without ``index_elements`` any unique index counts, partial ones included.
    """
    name = db.dialect.name if isinstance(db, AsyncConnection) else db.get_bind().dialect.name
    dialect: Any = postgresql if name == "postgresql" else sqlite
    if name not in ("postgresql", "sqlite"):
        raise NotImplementedError(f"no ON CONFLICT insert for {name!r}")
    return dialect.insert(table).on_conflict_do_nothing(index_elements=index_elements)


class EncodedJSON(TypeDecorator[str]):
    """A value for a JSON column that is already JSON text.

    msgspec encodes a submission's documents several times faster than the ``json.dumps``
    SQLAlchemy would call, so the write path encodes them itself and binds the text as is
    (PostgreSQL still receives it as ``jsonb``).
    """

    impl = JSONDocument
    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> None:
        return None


_write_locks: weakref.WeakKeyDictionary[Any, asyncio.Lock] = weakref.WeakKeyDictionary()


def writer_lock(engine: AsyncEngine) -> AbstractAsyncContextManager[Any]:
    """Hold while writing: on SQLite one writer at a time per process.

    SQLite lets one connection write at a time; other pooled connections that try meanwhile
    poll with growing sleeps (the busy timeout), which wastes most of the time under load.
    Queuing writers here instead hands the lock over at once. PostgreSQL needs no such lock.
    (Several processes on one SQLite file still fall back on the busy timeout.)
    """
    if engine.dialect.name != "sqlite":
        return nullcontext()
    key = engine.sync_engine
    lock = _write_locks.get(key)
    if lock is None:
        lock = _write_locks[key] = asyncio.Lock()
    return lock


_BUSY = ("database is locked", "database is busy", "database table is locked")


def is_busy(exc: BaseException) -> bool:
    """SQLite refused a statement because another connection holds the lock it needs."""
    return isinstance(exc, OperationalError) and any(m in str(exc.orig) for m in _BUSY)


@asynccontextmanager
async def write_transaction(sessions: async_sessionmaker[AsyncSession]
                            ) -> AsyncIterator[AsyncSession]:
    """A transaction that writes, committed at the end (rolled back on an exception).

    On SQLite it queues behind this process's other writers (``writer_lock``, the API's
    queue too) and takes the database's write lock with its first statement (``BEGIN
    IMMEDIATE``). A transaction that reads first and writes later cannot wait for that lock:
    once another process has committed since its read, SQLite fails its first write at once
    ("database is locked") instead of waiting the busy timeout. Asking for the lock up front
    waits (the busy timeout) for the other process's short transaction instead. Keep these
    transactions short: other processes wait for them.
    """
    engine = sessions.kw.get("bind")
    sqlite_ = isinstance(engine, AsyncEngine) and engine.dialect.name == "sqlite"
    lock = writer_lock(engine) if sqlite_ and isinstance(engine, AsyncEngine) else nullcontext()
    async with lock, sessions() as db:
        try:
            if sqlite_:
                # The driver begins transactions itself, lazily (before the first write):
                # begun here, it sees one open and leaves it be.
                await (await db.connection()).exec_driver_sql("BEGIN IMMEDIATE")
            else:
                await db.begin()
            yield db
            await db.commit()
        except BaseException:
            await db.rollback()
            raise


async def retry_busy(work: Callable[[], Awaitable[T]], *, attempts: int = 5,
                     delay: float = 0.5) -> T:
    """``await work()``, again (after growing, jittered pauses) while SQLite is busy past its
    busy timeout; the last busy error is raised. Other errors are raised at once. ``work``
    must be a whole transaction: a busy error leaves nothing of it."""
    for attempt in range(attempts):
        try:
            return await work()
        except OperationalError as exc:
            if not is_busy(exc) or attempt + 1 >= attempts:
                raise
            await asyncio.sleep(delay * 2 ** attempt * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

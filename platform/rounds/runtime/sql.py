"""SQL helpers the slices share: ``INSERT ... ON CONFLICT DO NOTHING`` for the dialect,
pre-encoded JSON, and one writer at a time on SQLite."""

from __future__ import annotations

import asyncio
import weakref
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

from sqlalchemy import Dialect, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.types import TypeDecorator

from rounds.db import JSONDocument


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

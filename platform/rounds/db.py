"""The SQL store: engine, sessions, the declarative base shared by every slice's models and
the column types they share (JSON documents, points in time in UTC)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, ClassVar, cast

import msgspec
from sqlalchemy import JSON, DateTime, Dialect, MetaData, Table, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

# Stable constraint names, so that Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# INTEGER columns (ids, versions, counts) are 32-bit on PostgreSQL: a larger value sent to the
# driver is an error there, so input is bounded before it gets that far.
DB_INT_MAX = 2**31 - 1
IdField = Annotated[int, msgspec.Meta(ge=1, le=DB_INT_MAX)]
"""A row id in a request body."""
DbIntField = Annotated[int, msgspec.Meta(ge=-DB_INT_MAX - 1, le=DB_INT_MAX)]
"""Any other whole number a body puts in a column (a version seen, a priority)."""

# JSON documents: JSONB on PostgreSQL (indexable), JSON text elsewhere.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


class UtcDateTime(TypeDecorator[datetime]):
    """A point in time: stored in UTC, read back as an aware UTC ``datetime`` on every database.

    The column is ``TIMESTAMP WITH TIME ZONE`` on PostgreSQL, which hands back aware values;
    SQLite keeps the time as text without an offset and hands back naive ones. Both come out
    aware and in UTC here, so no code reading a row needs to mend a time. On the way in an
    aware time is converted to UTC (SQLite would otherwise keep its wall-clock time and drop
    the offset) and a naive one is taken to be UTC already. The DDL is the plain
    ``DateTime(timezone=True)``'s: migrations see no difference.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return as_utc(value) if isinstance(value, datetime) else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        return as_utc(value) if isinstance(value, datetime) else value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSONDocument,
                                                     datetime: UtcDateTime}


def table_of(model: type[Base]) -> Table:
    """The Core table of a mapped class, for Core statements (bulk inserts, ``ON CONFLICT``,
    ``RETURNING``): SQLAlchemy types ``Model.__table__`` as any ``FromClause``."""
    return cast(Table, model.__table__)


# Work a commit started that must finish before the request answers (telling other processes
# what changed): a list of awaitables in ``session.info``, awaited by :func:`settle`.
PENDING_AWAITS = "rounds.pending_awaits"


async def settle(session: AsyncSession) -> None:
    """Await what ``session``'s commits left to finish (their errors are theirs to log)."""
    pending = session.sync_session.info.pop(PENDING_AWAITS, None)
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(at: datetime) -> datetime:
    """The same instant as an aware UTC time; a naive ``at`` is taken to be UTC. For times a
    caller gives (a ``now`` passed in, a parsed text): those read from a ``UtcDateTime``
    column are aware UTC already."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def create_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One writer at a time is what SQLite does anyway; WAL lets readers go on meanwhile.
        # A pool as large as PostgreSQL's: with the default (5, and 10 overflow closed on
        # return) a busy API process opened and closed a connection (a thread, its pragmas)
        # every few requests. An idle pooled connection costs only its sleeping thread. Last
        # in, first out: the connections just used are taken again (their page caches warm),
        # not every one of the 40 in turn.
        engine = create_async_engine(url, echo=echo, connect_args={"timeout": 30},
                                     pool_size=40, max_overflow=20, pool_use_lifo=True)

        @event.listens_for(engine.sync_engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    # Enough pooled connections for a busy API process (32 concurrent clients and the
    # background work), so bursts reuse connections instead of opening overflow ones. No
    # pre-ping: it costs three round trips per checkout; recycling old connections and
    # SQLAlchemy's invalidation on a dropped connection cover what it would catch. Last in,
    # first out: the connections just used (their prepared statements cached) are taken
    # again; in turn, each of the 40 prepared each statement itself.
    return create_async_engine(url, echo=echo, pool_size=40, max_overflow=20,
                               pool_recycle=1800, pool_use_lifo=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session whose work is committed together, or not at all."""
    async with sessions() as session:
        async with session.begin():
            yield session
        await settle(session)

"""Alembic environment: runs migrations over the async engine of the configured URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.engine import Connection

import rounds.runtime.models  # noqa: F401 - registers every table on the metadata
from rounds.db import Base, create_engine

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection | None = None) -> None:
    url = config.get_main_option("sqlalchemy.url")
    opts = {"target_metadata": target_metadata, "render_as_batch": True,
            "compare_type": True}
    if connection is None:
        context.configure(url=url, literal_binds=True, **opts)  # type: ignore[arg-type]
    else:
        context.configure(connection=connection, **opts)  # type: ignore[arg-type]


def _run(connection: Connection) -> None:
    _configure(connection)
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(str(config.get_main_option("sqlalchemy.url")))
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    _configure()
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())

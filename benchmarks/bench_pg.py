"""A fresh PostgreSQL database for one benchmark run (``ROUNDS_BENCH_PG``: the server's
admin URL, trust auth by default), shared by the benchmarks that run on PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager

PG_ADMIN = os.environ.get("ROUNDS_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextmanager
def postgres_database(name: str, *, keep: bool = False) -> Iterator[str]:
    """The database ``name`` created afresh; its SQLAlchemy URL; dropped afterwards (unless
    ``keep``, to look at query plans)."""
    import asyncpg

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(PG_ADMIN)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://") \
            + f"/{name}"
    finally:
        if keep:
            print(f"kept: database {name}")
        else:
            asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

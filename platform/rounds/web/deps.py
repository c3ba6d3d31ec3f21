"""Dependencies handlers get: a database session in a transaction, the settings."""

from __future__ import annotations

from collections.abc import AsyncIterator

from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import settle
from rounds.settings import Settings


async def provide_session(state: State) -> AsyncIterator[AsyncSession]:
    """One session per request; committed when the handler returns, rolled back if it raises."""
    async with state.sessions() as session:
        async with session.begin():
            yield session
        await settle(session)  # e.g. other processes told to forget principals


def provide_settings(state: State) -> Settings:
    settings: Settings = state.settings
    return settings

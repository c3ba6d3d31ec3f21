"""Fixtures of the business-licence extension's tests: the extension active, a database
with the core and its branch, the small field organisation (tests/support/field.py) whose
customer managers and market inspectors may verify licences, and a registry server."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from registry_server import TOKEN, RegistryServer
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from support.extensions import ENABLED
from support.field import DEFINITIONS, Field, seed_database, seed_field
from support.live import LiveServer, run_async

VERIFY = "business_licence.verify"
VERIFIERS = ("customer_manager", "market_inspector")


def licence_definitions(folder: Path) -> Path:
    """The repository's definitions with the capability listed by the customer managers'
    and the market inspectors' roles, as an installation that always runs the extension may
    list it (the extension's grants give it to them too)."""
    target = folder / "definitions"
    shutil.copytree(DEFINITIONS, target)
    for role in VERIFIERS:
        path = target / "roles" / f"{role}.json"
        doc = json.loads(path.read_text())
        if VERIFY not in doc["capabilities"]:
            doc["capabilities"].append(VERIFY)
        path.write_text(json.dumps(doc, ensure_ascii=False, indent=2))
    return target


@pytest.fixture
def active() -> Any:
    from rounds.extensions import activate

    return activate(ENABLED)


@pytest.fixture
async def bl_sessions(database_url: str, active: Any
                      ) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    from rounds.db import create_engine, session_factory
    from rounds.migrate import upgrade

    await asyncio.to_thread(upgrade, database_url, extensions=active)
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def world(bl_sessions: async_sessionmaker[AsyncSession], tmp_path: Path) -> Field:
    from rounds.db import transaction

    async with transaction(bl_sessions) as db:
        return await seed_field(db, definitions_folder=licence_definitions(tmp_path))


@pytest.fixture
def registry_server() -> Iterator[RegistryServer]:
    server = RegistryServer()
    yield server
    server.stop()


@pytest.fixture
def enabled_server(tmp_path: Path, active: Any, registry_server: RegistryServer
                   ) -> Iterator[tuple[LiveServer, Field]]:
    folder = licence_definitions(tmp_path)
    server = LiveServer(tmp_path / "on", definitions=folder, env={
        "ROUNDS_EXTENSIONS_ENABLED": "business_licence",
        "ROUNDS_BUSINESS_LICENCE_REGISTRY_URL": registry_server.url,
        "ROUNDS_BUSINESS_LICENCE_REGISTRY_TOKEN": TOKEN,
        "ROUNDS_BUSINESS_LICENCE_REGISTRY_TIMEOUT": "5"})
    try:
        world = run_async(seed_database(server.database_url, definitions_folder=folder))
        yield server, world
    finally:
        server.stop()

"""Shared fixtures: real databases (a SQLite file and a fresh PostgreSQL database per test)
and a real server."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from support.fieldwork import PG_ADMIN_URL, pg_admin
from support.live import LiveServer

# The suite sends far more checks a minute from one address than a person would (fuzzing,
# Schemathesis): no limit on them here; tests/integration/api/test_rate_limits.py sets one.
os.environ.setdefault("ROUNDS_CHECKS_PER_MINUTE", "0")

REPO = Path(__file__).resolve().parent.parent
DEFINITIONS = REPO / "definitions"


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"rounds_t_{uuid.uuid4().hex[:12]}"
    try:
        pg_admin(f'CREATE DATABASE "{name}"')
    except OSError as exc:  # pragma: no cover - CI starts PostgreSQL; say so plainly if not
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'rounds.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs on both databases, for real."""
    name = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(name)
    return url


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    from rounds.db import create_engine, session_factory
    from rounds.migrate import upgrade

    await asyncio.to_thread(upgrade, database_url)
    engine = create_engine(database_url)
    try:
        yield session_factory(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One real server for the session, on SQLite, with the repository's definitions."""
    server = LiveServer(tmp_path_factory.mktemp("live"))
    yield server
    server.stop()


# The extensions' tests (tests/extensions) run in a pytest of their own, with every
# extension enabled (support.extensions): their operations, capabilities and hooks belong to
# the process, as in production, and would reach into the core's tests (a hook reading an
# extension's table in a database the core's tests made without it). `pytest` runs the
# core's; `pytest tests/extensions` theirs; ./dev test runs both.
EXTENSION_TESTS = Path(__file__).resolve().parent / "extensions"


def _named(config: pytest.Config) -> list[Path]:
    return [Path(str(a).split("::", 1)[0]).resolve() for a in config.args]


def pytest_configure(config: pytest.Config) -> None:
    named = _named(config)
    ours = [p for p in named if p.is_relative_to(EXTENSION_TESTS)]
    if ours and len(ours) != len(named):
        raise pytest.UsageError("run tests/extensions in a pytest of its own (the extensions "
                                "it enables belong to the process): `pytest tests/extensions`")


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if collection_path.resolve().is_relative_to(EXTENSION_TESTS) and not any(
            p.is_relative_to(EXTENSION_TESTS) for p in _named(config)):
        return True
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests last: Playwright's sync API keeps an event loop running in the main
    thread for the rest of the session, where asyncio.run (used to seed data) would fail."""
    items.sort(key=lambda item: "tests/browser/" in str(item.path).replace("\\", "/")
               or item.path.name.endswith("_browser.py"))  # an extension's, beside its tests

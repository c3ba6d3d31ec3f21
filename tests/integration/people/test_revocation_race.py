"""A deactivated user's token stops working as soon as the deactivation has answered (issue
9): a request racing the deactivation must not put the old state back into the principal
cache, and with Redis the other API processes forget it too."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.runtime.access import NotAuthenticated
from rounds.runtime.people import auth, service
from support.field import PASSWORD, Field, field_definitions, principal, seed_field
from support.live import LiveServer, add_user, api_token, redis_database, user_id

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def world(sessions: Sessions, tmp_path: Path) -> Field:
    async with transaction(sessions) as db:
        return await seed_field(db, definitions_folder=field_definitions(tmp_path))


async def test_a_request_racing_a_deactivation_does_not_keep_the_user_in(
        sessions: Sessions, world: Field) -> None:
    async with transaction(sessions) as db:
        _, issued = await auth.sign_in(db, "cm_a", PASSWORD, ip="test")
    async with sessions() as db:
        assert (await auth.authenticate(db, issued.token)).username == "cm_a"  # cached
    async with sessions() as admin_db, admin_db.begin():
        admin = await principal(admin_db, "admin")
        await service.deactivate(admin_db, admin, world.users["cm_a"])
        # The race: a request with cm_a's token arrives after the deactivation ran but
        # before it committed. It reads the old state (still active) and caches it.
        async with sessions() as racing:
            assert (await auth.authenticate(racing, issued.token)).username == "cm_a"
    # Committed now: from here on the token must be refused, cache or not.
    async with sessions() as db:
        with pytest.raises(NotAuthenticated):
            await auth.authenticate(db, issued.token)


def test_other_processes_forget_a_deactivated_user_at_once(tmp_path: Path,
                                                           postgres_url: str) -> None:
    """Two API processes on one database and one Redis: the token cached by one stops
    working there the moment the other has deactivated its user."""
    with redis_database() as redis_url:
        env = {"ROUNDS_REDIS_URL": redis_url}
        a = LiveServer(tmp_path / "a", database_url=postgres_url, env=env)
        b = LiveServer(tmp_path / "b", database_url=postgres_url, env=env)
        try:
            add_user(a, "boss", "administrator")
            add_user(a, "victim", "customer_manager")
            admin, victim = api_token(a, "boss"), api_token(a, "victim")
            for _ in range(2):  # cached in B now
                assert httpx.get(b.url + "/api/auth/me", headers=victim).status_code == 200
            r = httpx.post(f"{a.url}/api/users/{user_id(a, 'victim')}/deactivate",
                           headers=admin)
            assert r.status_code == 200, r.text
            refused = httpx.get(b.url + "/api/auth/me", headers=victim)
            assert refused.status_code == 401, refused.text
        finally:
            a.stop()
            b.stop()

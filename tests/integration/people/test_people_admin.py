"""People and org units on real SQLite and PostgreSQL: the tree, users in scope, passwords,
deactivation."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.errors import InvalidInput, NotFound
from rounds.runtime.access import Forbidden
from rounds.runtime.orgs.service import OrgUnitNode, subtree_ids, visible_org_tree
from rounds.runtime.people import auth, service
from support.field import PASSWORD, Field, field_definitions, principal, seed_field

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def world(sessions: Sessions, tmp_path: Path) -> Field:
    async with transaction(sessions) as db:
        return await seed_field(db, definitions_folder=field_definitions(tmp_path))


def shape(nodes: list[OrgUnitNode]) -> list[tuple[str, list[object]]]:
    return [(n.code, shape(n.children)) for n in nodes]


async def test_org_tree_and_subtrees(sessions: Sessions, world: Field) -> None:
    async with sessions() as db:
        full = [("city", [("st_a", [("area_a1", [])]), ("st_b", [])])]
        assert shape(await visible_org_tree(db, await principal(db, "leader"))) == full
        assert shape(await visible_org_tree(db, await principal(db, "admin"))) == full
        assert shape(await visible_org_tree(db, await principal(db, "head_a"))) == [
            ("st_a", [("area_a1", [])])]
        assert shape(await visible_org_tree(db, await principal(db, "cm_a"))) == [
            ("area_a1", [])]
        assert set(await subtree_ids(db, world.units["st_a"])) == {
            world.units["st_a"], world.units["area_a1"]}
        assert len(await subtree_ids(db, world.units["city"])) == 4
        assert await subtree_ids(db, 999) == []


async def test_users_in_scope_a_page_at_a_time(sessions: Sessions, world: Field) -> None:
    async with sessions() as db:
        admin = await principal(db, "admin")
        everyone, total = await service.list_users(db, admin)
        assert total == len(world.users) == len(everyone)
        page, total = await service.list_users(db, admin, limit=3, offset=3)
        assert total == len(world.users) and len(page) == 3
        assert [u.username for u in page] == sorted(world.users)[3:6]
        cms, _ = await service.list_users(db, admin, role_id="customer_manager")
        assert {u.username for u in cms} == {"cm_a", "cm_b"}
        found, _ = await service.list_users(db, admin, search="HEAD")
        assert {u.username for u in found} == {"head_a", "head_b"}
        in_a, _ = await service.list_users(db, admin, org_unit_id=world.units["area_a1"])
        assert {u.username for u in in_a} == {"cm_a", "shop_ra1"}
        # A station administrator manages station A's people only.
        station_admin = await principal(db, "sadmin_a")
        theirs, _ = await service.list_users(db, station_admin)
        assert {u.username for u in theirs} == {"head_a", "cm_a", "mi_a", "driver",
                                                "shop_ra1", "sadmin_a"}
        with pytest.raises(NotFound):
            await service.get_user(db, station_admin, world.users["cm_b"])
        assert (await service.get_user(db, station_admin, world.users["cm_a"])).org_unit_code \
            == "area_a1"
        for who in ("leader", "head_a", "cm_a", "shop_ra1"):
            with pytest.raises(Forbidden):
                await service.list_users(db, await principal(db, who))


async def test_add_user_in_scope(sessions: Sessions, world: Field) -> None:
    async with transaction(sessions) as db:
        station_admin = await principal(db, "sadmin_a")
        _, generated = await service.add_user(
            db, station_admin, username="cm_new", display_name="New", role_id="customer_manager",
            org_unit_code="area_a1")
        assert generated and len(generated) >= 12
        with pytest.raises(InvalidInput) as caught:
            await service.add_user(db, station_admin, username="cm_far", display_name="Far",
                                   role_id="customer_manager", org_unit_code="st_b",
                                   password=PASSWORD)
        assert [p.pointer for p in caught.value.problems] == ["/org_unit"]
    async with transaction(sessions) as db:
        await auth.sign_in(db, "cm_new", generated, ip="test")


async def test_set_password_and_deactivate(sessions: Sessions, world: Field) -> None:
    async with transaction(sessions) as db:
        _, issued = await auth.sign_in(db, "cm_a", PASSWORD, ip="test")
    async with transaction(sessions) as db:
        admin = await principal(db, "admin")
        with pytest.raises(InvalidInput):
            await service.set_password(db, admin, world.users["cm_a"], "short")
        await service.set_password(db, admin, world.users["cm_a"], "a-new-password")
        cm = await principal(db, "cm_a")
        with pytest.raises(Forbidden):
            await service.set_password(db, cm, world.users["cm_b"], "a-new-password")
    async with transaction(sessions) as db:
        with pytest.raises(auth.NotAuthenticated):  # the old session ended with the password
            await auth.authenticate(db, issued.token)
        await auth.sign_in(db, "cm_a", "a-new-password", ip="test")
    async with transaction(sessions) as db:
        admin = await principal(db, "admin")
        row = await service.deactivate(db, admin, world.users["cm_b"])
        assert row.active is False
        with pytest.raises(Forbidden):
            await service.deactivate(db, admin, world.users["admin"])
    async with transaction(sessions) as db:
        with pytest.raises(auth.BadCredentials):
            await auth.sign_in(db, "cm_b", PASSWORD, ip="test")
    async with sessions() as db:
        admin = await principal(db, "admin")
        active, _ = await service.list_users(db, admin, active=True)
        assert "cm_b" not in {u.username for u in active}

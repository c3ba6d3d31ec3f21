"""Sites on real SQLite and PostgreSQL: attributes checked against the site kind, a new kind
from JSON alone, scoping per role, nearest first, assignments, history and the QR code."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import segno
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.errors import InvalidInput, NotFound
from rounds.runtime.access import Forbidden
from rounds.runtime.definitions.service import get_version
from rounds.runtime.sites import service
from rounds.runtime.sites.models import Site
from rounds.runtime.submissions.models import Submission
from rounds.runtime.visits.models import Visit
from support.field import (
    HOME,
    Field,
    field_definitions,
    principal,
    retailer_attributes,
    seed_field,
    sync_definitions,
)

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def world(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        return await seed_field(db)


def pointers(exc: InvalidInput) -> set[str]:
    return {p.pointer for p in exc.problems}


async def test_attributes_are_checked_against_the_site_kind(sessions: Sessions,
                                                            world: Field) -> None:
    async with transaction(sessions) as db:
        admin = await principal(db, "admin")
        attrs = retailer_attributes("R9", grade=40, licence_no="12", delivery_cycle="daily",
                                    opened_on="2026-02-30", uses_cloud_pos="yes",
                                    monthly_volume=-3, colour="red")
        del attrs["owner_name"]
        with pytest.raises(InvalidInput) as caught:
            await service.create_site(db, admin, site_kind="retailer", code="RA1", name="",
                                      lat=95, lng="east", org_unit="nope", attributes=attrs)
        assert pointers(caught.value) == {
            "/code", "/name", "/lat", "/lng", "/org_unit", "/attributes/grade",
            "/attributes/licence_no", "/attributes/delivery_cycle", "/attributes/opened_on",
            "/attributes/uses_cloud_pos", "/attributes/monthly_volume",
            "/attributes/owner_name", "/attributes/colour"}
        by_pointer = {p.pointer: p for p in caught.value.problems}
        assert by_pointer["/attributes/owner_name"].code == "required"
        assert by_pointer["/attributes/colour"].code == "unknown_attribute"
        assert by_pointer["/code"].code == "duplicate_id"
        assert "30" in by_pointer["/attributes/grade"].message

        with pytest.raises(InvalidInput) as unknown_kind:
            await service.create_site(db, admin, site_kind="spaceport", code="X1", name="X",
                                      lat=30, lng=120, org_unit="city")
        assert pointers(unknown_kind.value) == {"/site_kind"}

        site = await service.create_site(db, admin, site_kind="retailer", code="RA9",
                                         name="Shop RA9", lat=30.1, lng=120.1,
                                         org_unit="area_a1", address="9 Road",
                                         attributes={k: v for k, v in retailer_attributes(
                                             "RA9").items() if k != "address"})
        assert len(site.qr_token) >= 32
        # The kind's address attribute is filled from the site's address.
        assert site.attributes["grade"] == 5 and site.attributes["address"] == "9 Road"
        tokens = (await db.execute(select(Site.qr_token))).scalars().all()
        assert len(set(tokens)) == len(tokens)

        cm = await principal(db, "cm_a")
        with pytest.raises(Forbidden):
            await service.create_site(db, cm, site_kind="retailer", code="RA8", name="x",
                                      lat=30, lng=120, org_unit="area_a1",
                                      attributes=retailer_attributes("RA8"))


async def test_a_new_site_kind_is_only_a_definition(sessions: Sessions, tmp_path: Path) -> None:
    async with transaction(sessions) as db:
        world = await seed_field(db)
        admin = await principal(db, "admin")
        with pytest.raises(InvalidInput) as before:
            await service.create_site(db, admin, site_kind="warehouse", code="W1", name="W",
                                      lat=30, lng=120, org_unit="city")
        assert pointers(before.value) == {"/site_kind"}
    async with transaction(sessions) as db:
        await sync_definitions(db, field_definitions(tmp_path))
    async with transaction(sessions) as db:
        admin = await principal(db, "admin")
        with pytest.raises(InvalidInput) as bad:
            await service.create_site(db, admin, site_kind="warehouse", code="W1",
                                      name="North warehouse", lat=30, lng=120, org_unit="city",
                                      attributes={"capacity_m3": 0, "dock_code": "X12",
                                                  "bonded": "maybe"})
        assert pointers(bad.value) == {"/attributes/capacity_m3", "/attributes/dock_code",
                                       "/attributes/bonded", "/attributes/security"}
        site = await service.create_site(
            db, admin, site_kind="warehouse", code="W1", name="North warehouse", lat=30,
            lng=120, org_unit="city",
            attributes={"capacity_m3": 1200.5, "dock_code": "D001", "security": "high",
                        "bonded": True})
        details = await service.site_details(db, admin, site.id)
        assert details.site_kind_title == {"zh": "仓库", "en": "Warehouse"}
        assert details.attributes == {"capacity_m3": 1200.5, "dock_code": "D001",
                                      "security": "high", "bonded": True}
        leader = await principal(db, "leader")
        found, _ = await service.list_sites(db, leader, site_kind="warehouse")
        assert [s.code for s in found] == ["W1"]
        assert world.sites  # the rest of the field is untouched


SCOPES = {
    "cm_a": {"RA1", "RA2"},            # own_sites: the retailers assigned to them
    "cm_b": {"RB1"},
    "mi_a": {"RA1"},
    "head_a": {"RA1", "RA2", "TS-A"},  # org_subtree: station A and its area
    "head_b": {"RB1"},
    "shop_ra1": {"RA1"},               # own_shop: the retailer's own shop only
    "leader": {"RA1", "RA2", "RB1", "TS-A"},  # city: everything
    "driver": set(),                   # own_sites without assignments: nothing
}


async def test_every_role_sees_its_scope_only(sessions: Sessions, world: Field) -> None:
    async with sessions() as db:
        for username, visible in SCOPES.items():
            who = await principal(db, username)
            items, total = await service.list_sites(db, who)
            assert {s.code for s in items} == visible and total == len(visible), username
            for code, site_id in world.sites.items():
                if code in visible:
                    assert (await service.site_details(db, who, site_id)).code == code
                    continue
                with pytest.raises(NotFound) as caught:
                    await service.site_details(db, who, site_id)
                assert code not in str(caught.value.detail)
                with pytest.raises(NotFound):
                    await service.site_history(db, who, site_id)
            with pytest.raises(NotFound):
                await service.site_details(db, who, 999_999)


async def test_nearest_first_filters_and_pages(sessions: Sessions, world: Field) -> None:
    async with sessions() as db:
        leader = await principal(db, "leader")
        items, total = await service.list_sites(db, leader, near=HOME)
        assert [s.code for s in items] == ["RA1", "RA2", "TS-A", "RB1"] and total == 4
        distances = [s.distance_m for s in items]
        assert distances == sorted(distances)  # type: ignore[type-var]
        assert 900 < (distances[0] or 0) < 1100
        page2, total2 = await service.list_sites(db, leader, near=HOME, limit=2, offset=2)
        assert [s.code for s in page2] == ["TS-A", "RB1"] and total2 == 4
        by_name, _ = await service.list_sites(db, leader)
        assert all(s.distance_m is None for s in by_name)
        retailers, _ = await service.list_sites(db, leader, site_kind="retailer", near=HOME)
        assert [s.code for s in retailers] == ["RA1", "RA2", "RB1"]
        station_a, _ = await service.list_sites(db, leader, org_unit_id=world.units["st_a"])
        assert {s.code for s in station_a} == {"RA1", "RA2", "TS-A"}
        searched, _ = await service.list_sites(db, leader, search="shop ra")
        assert {s.code for s in searched} == {"RA1", "RA2"}
        # Filters never widen the scope.
        cm = await principal(db, "cm_a")
        other, n = await service.list_sites(db, cm, org_unit_id=world.units["st_b"])
        assert other == [] and n == 0


async def test_assignments_per_role(sessions: Sessions, world: Field) -> None:
    async with transaction(sessions) as db:
        admin = await principal(db, "admin")
        details = await service.assign_staff(db, admin, world.sites["RA2"], "customer_manager",
                                             world.users["cm_b"])
        assert [(a.role_id, a.username) for a in details.assignments] == [
            ("customer_manager", "cm_b")]
        for role, user, code in (("customer_manager", "head_a", "wrong_role"),
                                 ("market_inspector", "mi_a", "wrong_site_kind"),
                                 ("no_such_role", "cm_a", "unknown_reference")):
            site = "TS-A" if code == "wrong_site_kind" else "RA2"
            with pytest.raises(InvalidInput) as caught:
                await service.assign_staff(db, admin, world.sites[site], role,
                                           world.users[user])
            assert [(p.pointer, p.code) for p in caught.value.problems] == [("/user_id", code)]
        cm = await principal(db, "cm_a")
        with pytest.raises(Forbidden):
            await service.assign_staff(db, cm, world.sites["RA1"], "customer_manager",
                                       world.users["cm_a"])
    async with sessions() as db:
        cm_a, cm_b = await principal(db, "cm_a"), await principal(db, "cm_b")
        assert {s.code for s in (await service.list_sites(db, cm_a))[0]} == {"RA1"}
        assert {s.code for s in (await service.list_sites(db, cm_b))[0]} == {"RA2", "RB1"}
    async with transaction(sessions) as db:
        admin = await principal(db, "admin")
        cleared = await service.assign_staff(db, admin, world.sites["RA2"], "customer_manager",
                                             None)
        assert cleared.assignments == []


async def test_history_is_newest_first_and_follows_capabilities(sessions: Sessions,
                                                                 world: Field) -> None:
    t0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    async with transaction(sessions) as db:
        version = await get_version(db, "customer_manager_visit")
        site = world.sites["RA1"]
        for i, (user, hours) in enumerate((("cm_a", 0), ("mi_a", 24), ("cm_a", 48))):
            at = t0 + timedelta(hours=hours)
            visit = Visit(user_id=world.users[user], site_id=site, method="gps",
                          checked_in_at=at, checked_out_at=at + timedelta(minutes=30),
                          duration_s=1800, flags={"far": i == 1}, flagged=i == 1)
            db.add(visit)
            await db.flush()
            db.add(Submission(
                id=f"00000000-0000-0000-0000-00000000000{i}", body_hash="x" * 64,
                user_id=world.users[user], site_id=site, visit_id=visit.id,
                definition_id="customer_manager_visit", version_id=version.id,
                content_hash=version.content_hash, answers={}, evidence={}, total=8.0,
                max_total=10.0, percentage=80.0, passed=True, evaluation={},
                submitted_at=t0 + timedelta(hours=hours, minutes=20)))
        db.add(Visit(user_id=world.users["cm_b"], site_id=world.sites["RB1"], method="qr",
                     checked_in_at=t0, flags={}, flagged=False))  # another site: not listed
    async with sessions() as db:
        head = await principal(db, "head_a")
        entries, total = await service.site_history(db, head, site)
        assert total == 6
        assert [(e.kind, e.username) for e in entries] == [
            ("submission", "cm_a"), ("visit", "cm_a"), ("submission", "mi_a"),
            ("visit", "mi_a"), ("submission", "cm_a"), ("visit", "cm_a")]
        assert entries[3].flagged is True and entries[1].flagged is False
        assert entries[0].percentage == 80.0 and entries[0].visit_id is not None
        page, _ = await service.site_history(db, head, site, limit=2, offset=2)
        assert [(e.kind, e.username) for e in page] == [("submission", "mi_a"),
                                                        ("visit", "mi_a")]
        assert datetime.fromisoformat(entries[0].at).tzinfo is not None
        # A customer manager sees every visit but only their own submissions, and the
        # flags of their own visits only.
        cm = await principal(db, "cm_a")
        mine, n = await service.site_history(db, cm, site)
        assert n == 5 and [e.username for e in mine if e.kind == "submission"] == ["cm_a"] * 2
        mi_a = next(e for e in mine if e.user_id == world.users["mi_a"])
        assert mi_a.flagged is None
        assert mi_a.username is None  # a colleague's user name is not theirs to see
        # The retailer sees who came and when, not the scores.
        shop = await principal(db, "shop_ra1")
        theirs, n = await service.site_history(db, shop, site)
        assert n == 3 and {e.kind for e in theirs} == {"visit"}
        assert all(e.flagged is None for e in theirs)


async def test_qr_code_of_a_site(sessions: Sessions, world: Field) -> None:
    async with sessions() as db:
        admin = await principal(db, "admin")
        svg = await service.qr_svg(db, admin, world.sites["RA1"])
        site = await db.get(Site, world.sites["RA1"])
        assert site is not None
        payload = service.qr_payload(site)
        assert payload == f"rounds:checkin:{site.qr_token}"
        expected = io.BytesIO()
        segno.make(payload, error="m").save(expected, kind="svg", scale=8, border=4,
                                            title=f"{site.code} {site.name}")
        assert svg == expected.getvalue().decode() and svg.lstrip().startswith("<?xml")
        assert service.parse_qr_payload(payload) == site.qr_token
        assert service.parse_qr_payload(f"https://x.test/checkin/{site.qr_token}?a=1") \
            == site.qr_token
        for who in ("cm_a", "shop_ra1", "head_a"):  # staff never get the code to carry
            with pytest.raises(Forbidden):
                await service.qr_svg(db, await principal(db, who), world.sites["RA1"])
        assert (await db.execute(select(func.count()).select_from(Site))).scalar_one() == 4

"""CSV imports on real SQLite and PostgreSQL: every row error reported, nothing imported from
a file with errors, the good rows with skip_bad_rows; org units, users and sites."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from rounds.db import transaction
from rounds.runtime.access import Forbidden
from rounds.runtime.imports import ImportInvalid
from rounds.runtime.orgs.imports import import_org_units
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people import auth
from rounds.runtime.people.imports import import_users
from rounds.runtime.people.models import User
from rounds.runtime.sites.imports import import_sites
from rounds.runtime.sites.models import Site
from rounds.runtime.sites.service import site_details
from support.field import Field, field_definitions, principal, seed_field

Sessions = async_sessionmaker[AsyncSession]

HEADER = ("code,name,site_kind,org_unit,lat,lng,address,licence_no,shop_name,owner_name,"
          "grade,delivery_cycle,business_type,opened_on,uses_cloud_pos,station_code,"
          "station_name,customer_manager,market_inspector")
SITES_CSV = "\n".join([
    HEADER,
    # row 2: good, with both assignments
    "R10,Shop 10,retailer,area_a1,30.26,120.16,10 Road,330100000010,Shop 10,Wang,5,weekly,"
    "grocery,2020-05-01,yes,,,cm_a,mi_a",
    # row 3: bad licence, grade, cycle, date, boolean
    "R11,Shop 11,retailer,area_a1,30.26,120.16,11 Road,3301,Shop 11,Li,31,daily,grocery,"
    "2020-13-01,perhaps,,,,",
    # row 4: good transit station
    "TS-9,Transit 9,logistics_transit_station,st_a,30.2,120.1,Depot 9,,,,,,,,,TS-9,Transit 9,,",
    # row 5: latitude, unknown org unit, unknown kind of manager, missing owner
    "R12,Shop 12,retailer,nowhere,north,200,12 Road,330100000012,Shop 12,,5,weekly,grocery,,,,,"
    "head_a,",
    # row 6: code already in the database, and a station column filled on a retailer
    "RA1,Shop dup,retailer,area_a1,30.2,120.1,1 Road,330100000001,Shop,Wang,5,weekly,grocery,"
    ",,TS-1,,,",
    # row 7: the same code as row 2, unknown site kind
    "R10,Again,spaceport,area_a1,30.2,120.1,x,,,,,,,,,,,,",
    # row 8: good, no assignments
    "R13,Shop 13,retailer,st_b,30.3,120.2,13 Road,330100000013,Shop 13,Zhao,7,biweekly,"
    "supermarket,,no,,,,",
    # row 9: a market inspector does not serve transit stations; a customer manager who is not
    "TS-8,Transit 8,logistics_transit_station,st_a,30.2,120.1,Depot 8,,,,,,,,,TS-8,Transit 8,"
    "nobody,mi_a",
])

EXPECTED_SITE_ERRORS = {
    "/rows/3/licence_no", "/rows/3/grade", "/rows/3/delivery_cycle", "/rows/3/opened_on",
    "/rows/3/uses_cloud_pos",
    "/rows/5/org_unit", "/rows/5/lat", "/rows/5/lng", "/rows/5/owner_name",
    "/rows/5/customer_manager",
    "/rows/6/code", "/rows/6/station_code",
    "/rows/7/code", "/rows/7/site_kind",
    "/rows/9/customer_manager", "/rows/9/market_inspector",
}


@pytest.fixture
async def world(sessions: Sessions) -> Field:
    async with transaction(sessions) as db:
        return await seed_field(db)


async def count(sessions: Sessions, model: type) -> int:
    async with sessions() as db:
        return int((await db.execute(select(func.count()).select_from(model))).scalar_one())


async def test_a_sites_file_with_errors_imports_nothing_then_the_good_rows(
        sessions: Sessions, world: Field) -> None:
    before = await count(sessions, Site)
    with pytest.raises(ImportInvalid) as caught:
        async with transaction(sessions) as db:
            await import_sites(db, SITES_CSV.encode(), principal=await principal(db, "admin"))
    got = {p.pointer for p in caught.value.problems}
    assert got == EXPECTED_SITE_ERRORS
    assert caught.value.status == 422
    assert "16 errors in 5 of 8 rows" in caught.value.detail
    rows = [p.params["row"] for p in caught.value.problems]
    assert rows == sorted(rows)  # reported in file order
    assert await count(sessions, Site) == before

    async with transaction(sessions) as db:
        report = await import_sites(db, SITES_CSV, principal=await principal(db, "admin"),
                                    skip_bad_rows=True)
    assert report.imported == 3 and report.rows == 8
    assert report.created == ["R10", "TS-9", "R13"]
    assert report.bad_rows == [3, 5, 6, 7, 9]
    assert {e.pointer for e in report.errors} == EXPECTED_SITE_ERRORS
    assert await count(sessions, Site) == before + 3
    async with sessions() as db:
        r10 = (await db.execute(select(Site).where(Site.code == "R10"))).scalar_one()
        details = await site_details(db, await principal(db, "leader"), r10.id)
        assert details.attributes["grade"] == 5 and details.attributes["uses_cloud_pos"] is True
        assert details.attributes["address"] == "10 Road"
        assert {(a.role_id, a.username) for a in details.assignments} == {
            ("customer_manager", "cm_a"), ("market_inspector", "mi_a")}
        cm = await principal(db, "cm_a")
        assert (await site_details(db, cm, r10.id)).code == "R10"  # assigned: in scope now


async def test_header_errors_refuse_the_file_even_when_skipping(sessions: Sessions,
                                                                world: Field) -> None:
    bad = "code,name,site_kind,lat,lng,colour\nR1,x,retailer,30,120,red\n"
    with pytest.raises(ImportInvalid) as caught:
        async with transaction(sessions) as db:
            await import_sites(db, bad, skip_bad_rows=True)
    assert {p.pointer for p in caught.value.problems} == {"/rows/1/colour", "/rows/1/org_unit"}
    with pytest.raises(ImportInvalid) as empty:
        async with transaction(sessions) as db:
            await import_sites(db, b"")
    assert [p.pointer for p in empty.value.problems] == ["/rows/1"]


async def test_site_imports_need_site_manage_and_stay_in_scope(sessions: Sessions,
                                                               tmp_path: Path) -> None:
    async with transaction(sessions) as db:
        await seed_field(db, definitions_folder=field_definitions(tmp_path))
    async with transaction(sessions) as db:
        with pytest.raises(Forbidden):
            await import_sites(db, SITES_CSV, principal=await principal(db, "cm_a"))
    # A station administrator manages station A: station B's units are unknown to them.
    csv_text = "\n".join([
        "code,name,site_kind,org_unit,lat,lng,address,licence_no,shop_name,owner_name,grade,"
        "delivery_cycle,business_type,customer_manager",
        "R20,Shop 20,retailer,area_a1,30.2,120.1,20 Road,330100000020,S,W,3,weekly,grocery,cm_a",
        "R21,Shop 21,retailer,st_b,30.2,120.1,21 Road,330100000021,S,W,3,weekly,grocery,cm_b",
    ])
    with pytest.raises(ImportInvalid) as caught:
        async with transaction(sessions) as db:
            await import_sites(db, csv_text, principal=await principal(db, "sadmin_a"))
    assert {p.pointer for p in caught.value.problems} == {"/rows/3/org_unit",
                                                          "/rows/3/customer_manager"}
    assert "st_b" in caught.value.problems[0].message


async def test_a_warehouse_file_needs_no_code(sessions: Sessions, tmp_path: Path) -> None:
    async with transaction(sessions) as db:
        await seed_field(db, definitions_folder=field_definitions(tmp_path))
    text = ("code,name,site_kind,org_unit,lat,lng,address,capacity_m3,bonded,dock_code,security\n"
            "W1,North,warehouse,city,30.3,120.2,1 Dock Rd,5000,yes,D001,high\n"
            "W2,South,warehouse,city,30.1,120.2,2 Dock Rd,0,maybe,12,secret\n")
    with pytest.raises(ImportInvalid) as caught:
        async with transaction(sessions) as db:
            await import_sites(db, text)
    assert {p.pointer for p in caught.value.problems} == {
        "/rows/3/capacity_m3", "/rows/3/bonded", "/rows/3/dock_code", "/rows/3/security"}
    async with transaction(sessions) as db:
        report = await import_sites(db, text, skip_bad_rows=True)
    assert report.created == ["W1"]
    async with sessions() as db:
        w1 = (await db.execute(select(Site).where(Site.code == "W1"))).scalar_one()
        assert w1.attributes == {"capacity_m3": 5000, "bonded": True, "dock_code": "D001",
                                 "security": "high"}


async def test_users_file(sessions: Sessions, world: Field) -> None:
    text = "\n".join([
        "username,display_name,role,org_unit,phone,password,site",
        "cm_c,Chen,customer_manager,st_b,13800000000,,",           # 2: good, generated
        "cm_d,Du,customer_manager,area_a1,,long-enough-1,",        # 3: good, given
        "cm_a,Dup,customer_manager,st_a,,,",                       # 4: username taken
        "bad name,X,wizard,nowhere,,short,",                       # 5: four errors
        "shop_rb1,RB1 owner,retailer_user,st_b,,,",                # 6: a shop account needs a site
        "shop_x,X owner,retailer_user,st_b,,,NOPE",                # 7: unknown site
        "cm_c,Again,customer_manager,st_b,,,",                     # 8: same as row 2
        "shop_rb1b,RB1 owner,retailer_user,st_b,,,RB1",            # 9: good
    ])
    before = await count(sessions, User)
    with pytest.raises(ImportInvalid) as caught:
        async with transaction(sessions) as db:
            await import_users(db, text.encode("gb18030"))  # as Excel on Chinese Windows
    assert {p.pointer for p in caught.value.problems} == {
        "/rows/4/username", "/rows/5/username", "/rows/5/role", "/rows/5/org_unit",
        "/rows/5/password", "/rows/6/site", "/rows/7/site", "/rows/8/username"}
    assert await count(sessions, User) == before
    async with transaction(sessions) as db:
        report = await import_users(db, "\ufeff" + text, skip_bad_rows=True)
    assert report.created == ["cm_c", "cm_d", "shop_rb1b"]
    assert set(report.passwords) == {"cm_c", "shop_rb1b"}  # generated only for blank ones
    async with transaction(sessions) as db:
        user, _ = await auth.sign_in(db, "cm_c", report.passwords["cm_c"], ip="test")
        assert user.role_id == "customer_manager" and user.phone == "13800000000"
        shop = (await db.execute(select(User).where(User.username == "shop_rb1b"))).scalar_one()
        assert shop.site_id == world.sites["RB1"]
        await auth.sign_in(db, "cm_d", "long-enough-1", ip="test")
        with pytest.raises(Forbidden):
            await import_users(db, text, principal=await principal(db, "head_a"))


async def test_org_units_file(sessions: Sessions, world: Field) -> None:
    text = "\n".join([
        "code,parent,kind,name_zh,name_en",
        "st_c,city,station,丙所,Station C",      # 2
        "area_c1,st_c,area,丙一片,Area C1",       # 3: parent from row 2
        "area_c2,later,area,丙二片,Area C2",      # 4: parent comes later: not allowed
        "later,st_c,area,后,Later",              # 5
        "st_a,city,station,重复,Dup",             # 6: exists
        "bad code!,city,,x,y",                   # 7: code and kind
    ])
    with pytest.raises(ImportInvalid) as caught:
        async with transaction(sessions) as db:
            await import_org_units(db, text)
    assert {p.pointer for p in caught.value.problems} == {
        "/rows/4/parent", "/rows/6/code", "/rows/7/code", "/rows/7/kind"}
    async with transaction(sessions) as db:
        report = await import_org_units(db, text, skip_bad_rows=True)
    assert report.created == ["st_c", "area_c1", "later"]
    async with sessions() as db:
        units = {u.code: u for u in (await db.execute(select(OrgUnit))).scalars()}
        assert units["area_c1"].path == f"{units['st_c'].path}{units['area_c1'].id}/"
        assert units["st_c"].parent_id == world.units["city"]
    # Only user managers import units, and a station administrator only below their station.
    async with transaction(sessions) as db:
        with pytest.raises(Forbidden):
            await import_org_units(db, text, principal=await principal(db, "leader"))

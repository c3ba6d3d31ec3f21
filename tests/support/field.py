"""A small field organisation for tests of people, sites, plans and their scopes.

City company ``city`` with two stations: ``st_a`` (with an area ``area_a1`` under it) and
``st_b``. Retailers ``RA1`` and ``RA2`` in area A1 served by customer manager ``cm_a``,
``RB1`` in station B served by ``cm_b``; a transit station ``TS-A`` in station A. Station
heads ``head_a`` and ``head_b``, a city leader, an administrator, the retailer account
``shop_ra1`` of RA1, and a delivery driver with no sites; with :func:`field_definitions`
also a station administrator ``sadmin_a`` of station A.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.definitions.loader import load_documents
from rounds.runtime.access import Principal
from rounds.runtime.definitions import service as definitions
from rounds.runtime.definitions.models import Definition
from rounds.runtime.orgs.service import create_org_unit
from rounds.runtime.people.auth import hash_password, principal_for
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import SiteAssignment
from rounds.runtime.sites.service import create_site

REPO = Path(__file__).resolve().parents[2]
DEFINITIONS = REPO / "definitions"
PASSWORD = "password-123"

# Positions around Hangzhou: RA1 is ~1 km from HOME, RA2 ~3 km, RB1 ~10 km.
HOME = (30.2500, 120.1600)
POSITIONS = {"RA1": (30.2590, 120.1600), "RA2": (30.2770, 120.1600),
             "RB1": (30.3400, 120.1600), "TS-A": (30.2000, 120.1000)}

WAREHOUSE = {
    "kind": "site_kind", "id": "warehouse",
    "title": {"zh": "仓库", "en": "Warehouse"},
    "attributes": [
        {"id": "capacity_m3", "type": "number", "required": True, "min": 1,
         "title": {"zh": "库容", "en": "Capacity"}, "unit": {"zh": "立方米", "en": "m³"}},
        {"id": "bonded", "type": "boolean", "title": {"zh": "保税", "en": "Bonded"}},
        {"id": "dock_code", "type": "text", "pattern": "^D[0-9]{3}$",
         "title": {"zh": "月台编号", "en": "Dock code"}},
        {"id": "security", "type": "choice", "required": True,
         "title": {"zh": "安保等级", "en": "Security level"},
         "choices": [{"value": "basic", "label": {"zh": "基本", "en": "Basic"}},
                     {"value": "high", "label": {"zh": "高", "en": "High"}}]},
    ],
}


def retailer_attributes(code: str, **extra: Any) -> dict[str, Any]:
    number = "".join(ch for ch in code if ch.isdigit()) or "0"
    return {"licence_no": f"3301{number:0>8}", "shop_name": f"Shop {code}",
            "address": f"{code} Road", "owner_name": "Wang", "grade": 5,
            "delivery_cycle": "weekly", "business_type": "grocery", **extra}


STATION_ADMIN = {
    "kind": "role", "id": "station_admin",
    "title": {"zh": "管理所管理员", "en": "Station administrator"},
    "audience": "supervisor",
    "capabilities": ["user.manage", "site.manage", "report.view_scope",
                     "submission.view_scope"],
    "org_scope": "org_subtree",
    "site_kinds": ["retailer", "logistics_transit_station"],
    "standards": [], "surveys": [],
}


def field_definitions(folder: Path) -> Path:
    """A copy of the repository's definitions plus, written as JSON the way a user would:
    the warehouse site kind (and the administrator serving it) and a station
    administrator role that manages the people and sites of one station."""
    target = folder / "definitions"
    shutil.copytree(DEFINITIONS, target)
    (target / "site_kinds" / "warehouse.json").write_text(json.dumps(WAREHOUSE, indent=2))
    (target / "roles" / "station_admin.json").write_text(json.dumps(STATION_ADMIN, indent=2))
    admin_path = target / "roles" / "administrator.json"
    admin = json.loads(admin_path.read_text())
    admin["site_kinds"] = [*admin["site_kinds"], "warehouse"]
    admin_path.write_text(json.dumps(admin, ensure_ascii=False, indent=2))
    return target


async def sync_definitions(db: AsyncSession, folder: Path = DEFINITIONS) -> None:
    docs, problems = load_documents([folder])
    assert not problems, problems
    await definitions.sync(db, docs)


@contextmanager
def fresh_postgres() -> Iterator[str]:
    """A fresh PostgreSQL database for a module's live server, dropped afterwards."""
    import asyncio
    import uuid

    import asyncpg

    admin_url = os.environ.get("ROUNDS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
    name = f"rounds_t_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(admin_url)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    base = admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@dataclass
class Field:
    units: dict[str, int] = field(default_factory=dict)
    users: dict[str, int] = field(default_factory=dict)
    sites: dict[str, int] = field(default_factory=dict)


@cache
def _password_hash() -> str:
    return hash_password(PASSWORD)  # argon2 takes ~0.2 s: hash the shared password once


async def _user(db: AsyncSession, username: str, role_id: str, unit_id: int,
                site_id: int | None = None) -> int:
    user = User(username=username, display_name=username.upper(), role_id=role_id,
                org_unit_id=unit_id, site_id=site_id, password_hash=_password_hash())
    db.add(user)
    await db.flush()
    return user.id


STAFF = [  # username, role, org unit
    ("admin", "administrator", "city"),
    ("leader", "city_leader", "city"),
    ("head_a", "station_head", "st_a"),
    ("head_b", "station_head", "st_b"),
    ("cm_a", "customer_manager", "area_a1"),
    ("cm_b", "customer_manager", "st_b"),
    ("mi_a", "market_inspector", "st_a"),
    ("driver", "delivery_staff", "st_a"),
]


async def seed_field(db: AsyncSession, *, definitions_folder: Path = DEFINITIONS) -> Field:
    """Definitions, org units, people, sites and assignments (see the module's docstring)."""
    await sync_definitions(db, definitions_folder)
    world = Field()
    for code, parent, kind in (("city", None, "city"), ("st_a", "city", "station"),
                               ("area_a1", "st_a", "area"), ("st_b", "city", "station")):
        unit = await create_org_unit(db, code=code, kind=kind, name_zh=code, name_en=code,
                                     parent_code=parent)
        world.units[code] = unit.id
    for username, role, unit_code in STAFF:
        world.users[username] = await _user(db, username, role, world.units[unit_code])
    for code, unit_code in (("RA1", "area_a1"), ("RA2", "area_a1"), ("RB1", "st_b")):
        lat, lng = POSITIONS[code]
        site = await create_site(db, None, site_kind="retailer", code=code, name=f"Shop {code}",
                                 lat=lat, lng=lng, org_unit=unit_code, address=f"{code} Road",
                                 attributes=retailer_attributes(code))
        world.sites[code] = site.id
    lat, lng = POSITIONS["TS-A"]
    station = await create_site(
        db, None, site_kind="logistics_transit_station", code="TS-A", name="Transit A",
        lat=lat, lng=lng, org_unit="st_a", address="Depot Road",
        attributes={"station_code": "TS-A", "station_name": "Transit A"})
    world.sites["TS-A"] = station.id
    for code, role, username in (("RA1", "customer_manager", "cm_a"),
                                 ("RA2", "customer_manager", "cm_a"),
                                 ("RB1", "customer_manager", "cm_b"),
                                 ("RA1", "market_inspector", "mi_a")):
        db.add(SiteAssignment(site_id=world.sites[code], role_id=role,
                              user_id=world.users[username]))
    if await db.get(Definition, "station_admin") is not None:
        world.users["sadmin_a"] = await _user(db, "sadmin_a", "station_admin",
                                              world.units["st_a"])
    world.users["shop_ra1"] = await _user(db, "shop_ra1", "retailer_user",
                                          world.units["area_a1"], site_id=world.sites["RA1"])
    await db.flush()
    return world


async def principal(db: AsyncSession, username: str) -> Principal:
    user = (await db.execute(select(User).where(User.username == username))).scalar_one()
    return await principal_for(db, user)


async def seed_database(url: str, *, definitions_folder: Path = DEFINITIONS) -> Field:
    """Seed a database the tests do not hold a session on (a live server's)."""
    from rounds.db import create_engine, session_factory, transaction

    engine = create_engine(url)
    try:
        async with transaction(session_factory(engine)) as db:
            return await seed_field(db, definitions_folder=definitions_folder)
    finally:
        await engine.dispose()


@dataclass
class FieldServer:
    """A live server on the field definitions, seeded, with a bearer token per user."""

    server: Any
    world: Field
    tokens: dict[str, dict[str, str]]

    @property
    def url(self) -> str:
        return str(self.server.url)

    def as_(self, username: str) -> Any:
        import httpx

        return httpx.Client(base_url=self.url, headers=self.tokens[username], timeout=30)


@contextmanager
def field_server(data_dir: Path, *, postgres: bool = False) -> Iterator[FieldServer]:
    """`rounds up` on a fresh SQLite file (or PostgreSQL database), seeded with the field."""
    import asyncio
    from contextlib import ExitStack

    from support.live import LiveServer, api_token

    folder = field_definitions(data_dir)
    with ExitStack() as stack:
        url = stack.enter_context(fresh_postgres()) if postgres else None
        server = LiveServer(data_dir / "server", database_url=url, definitions=folder)
        stack.callback(server.stop)
        world = asyncio.run(seed_database(server.database_url, definitions_folder=folder))
        tokens = {u: api_token(server, u, PASSWORD) for u in world.users}
        yield FieldServer(server, world, tokens)

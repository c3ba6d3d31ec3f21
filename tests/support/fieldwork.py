"""A small city for field-operation tests: org units, staff, shops, photos and answers.

- ``north`` and ``south`` stations under ``city``;
- ``zhang`` (customer manager, north) serves ``shop_a``; ``wang`` (customer manager, south)
  serves ``shop_b``; ``shop_c`` (north) has nobody assigned;
- ``zhao`` heads the north station (sees north's shops, ``submission.view_scope``);
- ``qian`` is a consumer and ``admin`` an administrator: neither may check in.
"""

from __future__ import annotations

import asyncio
import math
import os
import struct
import uuid
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

REPO = Path(__file__).resolve().parents[2]
DEFINITIONS = REPO / "definitions"
PG_ADMIN_URL = os.environ.get("ROUNDS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "password-123"

SHOPS = {  # code: (lat, lng, org unit, assigned customer manager)
    "shop_a": (31.2304, 121.4737, "north", "zhang"),
    "shop_b": (31.2000, 121.4500, "south", "wang"),
    "shop_c": (31.2400, 121.4800, "north", None),
}
PEOPLE = {  # username: (role, org unit)
    "zhang": ("customer_manager", "north"),
    "wang": ("customer_manager", "south"),
    "zhao": ("station_head", "north"),
    "li": ("city_leader", "city"),
    "qian": ("consumer", "city"),
    "admin": ("administrator", "city"),
}
ATTRIBUTES = {"licence_no": "310101000001", "grade": "3"}


@dataclass
class Field:
    users: dict[str, int]
    sites: dict[str, int]
    qr: dict[str, str]


async def load_definitions(db: AsyncSession) -> None:
    from rounds.definitions.loader import load_documents
    from rounds.runtime.definitions.service import sync

    docs, problems = load_documents([DEFINITIONS])
    assert not problems, problems
    await sync(db, docs)


async def seed(db: AsyncSession) -> Field:
    """The city above (the definitions must be in the database already)."""
    from rounds.runtime.orgs.service import create_org_unit
    from rounds.runtime.people.service import create_user
    from rounds.runtime.sites.models import Site, SiteAssignment

    await create_org_unit(db, code="city", kind="city", name_zh="市公司", name_en="City")
    units = {}
    for code in ("north", "south"):
        units[code] = await create_org_unit(db, code=code, kind="station", name_zh=code,
                                            name_en=code, parent_code="city")
    users = {}
    for name, (role, unit) in PEOPLE.items():
        user = await create_user(db, username=name, display_name=name, role_id=role,
                                 org_unit_code=unit, password=PASSWORD, language="en")
        users[name] = user.id
    sites, qr = {}, {}
    for code, (lat, lng, unit, manager) in SHOPS.items():
        token = uuid.uuid4().hex
        site = Site(site_kind="retailer", code=code, name=f"Shop {code[-1].upper()}",
                    lat=lat, lng=lng, org_unit_id=units[unit].id, qr_token=token,
                    attributes=dict(ATTRIBUTES))
        db.add(site)
        await db.flush()
        sites[code], qr[code] = site.id, token
        if manager:
            db.add(SiteAssignment(site_id=site.id, role_id="customer_manager",
                                  user_id=users[manager]))
    await db.flush()
    return Field(users, sites, qr)


async def principal(db: AsyncSession, username: str) -> Any:
    from rounds.runtime.people.auth import principal_for
    from rounds.runtime.people.models import User

    user = (await db.execute(select(User).where(User.username == username))).scalar_one()
    return await principal_for(db, user)


def seed_database(url: str) -> Field:
    """Seed a server's database (its definitions are synced at start) from a test."""
    from rounds.db import create_engine, session_factory, transaction

    async def run() -> Field:
        engine = create_engine(url)
        try:
            async with transaction(session_factory(engine)) as db:
                return await seed(db)
        finally:
            await engine.dispose()

    return asyncio.run(run())


def pg_admin(sql: str) -> None:
    """One statement as PostgreSQL's superuser (the tests' databases made and dropped)."""
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for a module's server, dropped afterwards."""

    name = f"rounds_f_{uuid.uuid4().hex[:12]}"

    pg_admin(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# -- places ---------------------------------------------------------------------------------------

def north_of(code: str, metres: float) -> tuple[float, float]:
    """A point ``metres`` due north of a shop."""
    lat, lng, _, _ = SHOPS[code]
    return lat + metres / 6_371_008.8 * 180 / math.pi, lng


# -- files ----------------------------------------------------------------------------------------

def png_bytes(seed: int = 0) -> bytes:
    """A real 1×1 PNG (``seed`` changes its colour, so its hash)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixel = bytes([0, seed % 256, (seed // 256) % 256, 0])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b""))


def jpeg_bytes(size: int | None = None, *, exif: bytes = b"", seed: int = 0) -> bytes:
    """A real JPEG (16×12, ``seed`` changes its colour); ``size`` pads it with bytes after
    its end to that length; ``exif``: an EXIF block to carry."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (16, 12), (seed % 256, 80, 160)).save(out, "JPEG", exif=exif)
    data = out.getvalue()
    return data + b"\x00" * max(0, (size or 0) - len(data))


# -- answers to the customer manager's visit standard --------------------------------------------

STANDARD = "customer_manager_visit"


def good_answers(photo: str) -> dict[str, Any]:
    """A visit that passes (every scored item done)."""
    lat, lng, _, _ = SHOPS["shop_a"]
    return {"arrival_location": {"lat": lat, "lng": lng, "accuracy_m": 8},
            "storefront_photo": [photo], "stock_checked": True, "brands_in_stock": 45,
            "out_of_stock_found": "no", "demand_forecast": True,
            "new_brand_recommended": "yes", "display_standard": "standard",
            "price_tags_complete": "yes", "display_photo": [photo],
            "policy_explained": True, "policy_topics": ["price_policy"],
            "self_discipline_group": "yes", "advice_given": True,
            "advice_topics": ["display"], "retailer_signature": {"photo": photo}}


def poor_answers(photo: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A visit with failed items (messy display, price tags) and alerts; with its evidence."""
    answers = good_answers(photo) | {"display_standard": "messy", "display_guidance": False,
                                     "price_tags_complete": "no", "stock_checked": False}
    evidence = {"price_tags_complete": {"photos": [photo], "note": "two tags missing"}}
    return answers, evidence


def body(submission_id: str, version: str, answers: dict[str, Any], *,
         evidence: dict[str, Any] | None = None, visit_id: int | None = None,
         definition_id: str = STANDARD) -> dict[str, Any]:
    out: dict[str, Any] = {"id": submission_id, "definition_id": definition_id,
                           "version": version, "answers": answers}
    if evidence is not None:
        out["evidence"] = evidence
    if visit_id is not None:
        out["visit_id"] = visit_id
    return out


# -- a live server with the city in it ----------------------------------------------------------

@dataclass
class Live:
    server: Any
    field: Field
    auth: dict[str, dict[str, str]]  # username → Authorization header

    @property
    def url(self) -> str:
        return str(self.server.url)

    def database_url(self) -> str:
        return str(self.server.database_url)

    def client(self, who: str, timeout: float = 60) -> Any:
        """An HTTP client of the server, signed in (API token) as ``who``."""
        import httpx

        return httpx.Client(base_url=self.url, headers=self.auth[who], timeout=timeout)

    def visit(self, c: Any, shop: str = "shop_a") -> int:
        """The client's open visit, or a new one checked in at ``shop`` by its QR code."""
        current = c.get("/api/visits/current").json()["visit"]
        if current:
            return int(current["id"])
        r = c.post("/api/visits", json={"qr_token": self.field.qr[shop]})
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


@contextmanager
def live_city(data_dir: Path, database: str, env: dict[str, str] | None = None
              ) -> Iterator[Live]:
    """A real `rounds up` server on ``database`` ("sqlite" or "postgres"), seeded; ``env``:
    more settings for the server (``ROUNDS_UPLOADS_PER_MINUTE``...)."""
    from contextlib import ExitStack

    from support.live import LiveServer, api_token

    with ExitStack() as stack:
        url = stack.enter_context(postgres_database()) if database == "postgres" else None
        server = LiveServer(data_dir, database_url=url, env=env)
        stack.callback(server.stop)
        field = seed_database(server.database_url)
        auth = {name: api_token(server, name, PASSWORD) for name in PEOPLE}
        yield Live(server, field, auth)


def count_rows(database_url: str, table: str, where: str = "") -> int:
    """Rows in a table of a server's database, read behind the server's back."""
    from sqlalchemy import text

    from rounds.db import create_engine

    async def run() -> int:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                sql = f"SELECT count(*) FROM {table}" + (f" WHERE {where}" if where else "")
                return int((await conn.execute(text(sql))).scalar_one())
        finally:
            await engine.dispose()

    return asyncio.run(run())

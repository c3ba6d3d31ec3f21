"""The extension's part of the demo city: a reviewer and an inspector at the first station,
three applicants without a shop, and applications in several states (one just submitted,
one waiting for its inspection, one granted: its licence and new shop); their documents
are stand-in images.

Idempotent: nothing is added when an application exists."""

from __future__ import annotations

import json
import struct
import uuid
import zlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.demo.city import DEMO_PASSWORD
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.auth import principal_for
from rounds.runtime.people.models import User
from rounds.runtime.people.service import create_user
from rounds.runtime.sites.models import Site
from rounds.runtime.storage.service import upload
from rounds.runtime.storage.store import photo_store
from rounds.settings import load_settings
from rounds_retail_licence import service
from rounds_retail_licence.models import LicenceApplication

# Where the shops would be: north of the station's first shop, 40 m (too close in a town)
# and 300 m (far enough).
APPLICANTS = (("applicant_zhou", "周先生", 40.0), ("applicant_he", "何女士", 300.0),
              ("applicant_lu", "陆先生", 500.0))


async def seed(db: AsyncSession, now: datetime) -> None:
    if (await db.execute(select(func.count()).select_from(LicenceApplication))).scalar_one():
        return
    station = (await db.execute(select(OrgUnit).where(OrgUnit.kind == "station")
                                .order_by(OrgUnit.id).limit(1))).scalar_one_or_none()
    if station is None:
        return
    shop = (await db.execute(select(Site).join(OrgUnit, OrgUnit.id == Site.org_unit_id)
                             .where(OrgUnit.path.startswith(station.path),
                                    Site.site_kind == "retailer")
                             .order_by(Site.id).limit(1))).scalar_one_or_none()
    if shop is None:
        return
    settings = load_settings()
    store = photo_store(settings.data_dir)
    users: dict[str, User] = {}
    for username, name, role in (("licence_head", "许可证审批 孙", "licence_reviewer"),
                                 ("licence_inspector", "市管员 钱", "licence_inspector"),
                                 *((u, n, "licence_applicant") for u, n, _ in APPLICANTS)):
        found = (await db.execute(select(User).where(User.username == username))
                 ).scalar_one_or_none()
        users[username] = found or await create_user(
            db, username=username, display_name=name, role_id=role,
            org_unit_code=station.code, password=DEMO_PASSWORD, language="zh")
    await db.flush()
    for i, (username, name, metres) in enumerate(APPLICANTS):
        who = await principal_for(db, users[username])
        lat = shop.lat + metres / 111_195.0
        docs = [service.DocumentIn(kind, (await upload(db, store, who, _png(10 * i + k))).id)
                for k, kind in enumerate(service.REQUIRED_DOCUMENTS)]
        app = await service.apply(db, who, service.ApplicationIn(
            shop_name=f"{name}便利店",
            address=f"{shop.address or '芙蓉中路'} 北侧 {int(metres)} 米",
            owner_name=name, business_type="convenience_store", market_area="urban",
            lat=lat, lng=shop.lng, documents=docs), now=now - timedelta(days=3 + 5 * i),
            tz=settings.tz)
        if i == 0:
            continue  # just submitted
        head = await principal_for(db, users["licence_head"])
        await service.check_documents(db, head, app.id, now=now - timedelta(days=6))
        await service.schedule_inspection(
            db, head, app.id, inspector_id=users["licence_inspector"].id,
            on=(now + timedelta(days=1)).date() if i == 1 else (now - timedelta(days=4)).date(),
            now=now - timedelta(days=5 if i == 1 else 8), tz=settings.tz)
        if i == 2:  # inspected and granted: a licence, and a new shop on the map
            inspector = await principal_for(db, users["licence_inspector"])
            await _inspect(db, inspector, app.id, (lat, shop.lng),
                           (await upload(db, store, inspector, _png(99))).id,
                           now=now - timedelta(days=4), tz=settings.tz)
            await service.decide(db, head, app.id, decision="grant", note="",
                                 now=now - timedelta(days=2), tz=settings.tz)


async def _inspect(db: AsyncSession, inspector: Any, app_id: int, at: tuple[float, float],
                   photo_id: str, *, now: datetime, tz: Any) -> None:
    _, content_hash, _ = await service.inspection_version(db)
    body = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"rounds-demo-licence-{app_id}")),
            "definition_id": service.INSPECTION_STANDARD, "version": content_hash,
            "evidence": {},
            "answers": {"inspection_location": {"lat": at[0], "lng": at[1], "accuracy_m": 10},
                        "premises_match": "yes", "owner_matches": "yes",
                        "trading_ready": "yes", "no_school_nearby": "yes",
                        "premises_photos": [photo_id]}}
    await service.record_inspection(db, inspector, app_id, json.dumps(body).encode(), now=now,
                                    tz=tz, lang="zh")


def _png(seed: int) -> bytes:
    """A 1×1 PNG of its own colour: a stand-in for a photographed document."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixel = bytes([0, seed % 256, 90, 160])
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(pixel)) + chunk(b"IEND", b""))

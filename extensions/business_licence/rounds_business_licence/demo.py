"""The extension's part of the demo city: three retailers' licences checked, one passed, one
near its expiry (a warning, and the issue the reconciler opens for it), one failed (a
wrong check character). Idempotent: a site that has a check is left as it is."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import as_utc
from rounds.runtime.sites.models import Site, SiteAssignment
from rounds_business_licence import service
from rounds_business_licence.models import LicenceCheck

# Published codes (they pass the check character) and one with its last character changed.
CODES = ("91330100716105852F", "914403001922038216", "91110000802100433C")
# (the code, days until the expiry) of the first, second, third retailer
PLAN = ((CODES[0], 400), (CODES[1], 25), (CODES[2], 900))


async def seed(db: AsyncSession, now: datetime) -> None:
    now = as_utc(now)
    today = now.date()
    sites = list((await db.execute(select(Site).where(Site.site_kind == "retailer")
                                   .order_by(Site.id).limit(len(PLAN)))).scalars())
    for site, (code, days) in zip(sites, PLAN, strict=False):
        if (await db.execute(select(exists().where(LicenceCheck.site_id == site.id)))).scalar():
            continue
        staff = (await db.execute(select(SiteAssignment.user_id).where(
            SiteAssignment.site_id == site.id).order_by(SiteAssignment.id).limit(1))
                 ).scalar_one_or_none()
        attrs = site.attributes if isinstance(site.attributes, dict) else {}
        holder = str(attrs.get("owner_name") or site.name)
        expires = today + timedelta(days=days)
        checks = [service._result("check_character", "ok" if code != CODES[2] else "failed",
                                  "code_valid" if code != CODES[2] else "code_invalid"),
                  service._result("duplicate", "ok", "duplicate_none"),
                  service._result("holder", "ok", "holder_matches", record=holder),
                  service._expiry_check(expires, today),
                  service._result("registry", "not_made", "registry_none")]
        db.add(LicenceCheck(site_id=site.id, code=code, holder=holder,
                            address=site.address or "", expires_on=expires, photo_id=None,
                            checked_by=staff, checked_at=now - timedelta(days=3),
                            outcome=service.outcome_of(checks), checks=checks,
                            registry_answer=None))
    await db.flush()

"""What the extension adds to the core's hooks when it is activated: the panel of a site's
latest result (on ``/shop`` and the site's history page), who may see a check's photo, and
that a photo a check uses is kept by the cleanup of unused photos."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo
from functools import lru_cache

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal, site_scope
from rounds.runtime.fieldwork import views
from rounds.runtime.sites.models import Site
from rounds.runtime.sites.panels import Panel, site_panel
from rounds.runtime.storage import service as storage
from rounds.runtime.storage.access import photo_use
from rounds.runtime.storage.models import Photo
from rounds.settings import load_settings
from rounds_business_licence import service
from rounds_business_licence.models import FAILED, PASSED, LicenceCheck
from rounds_business_licence.texts import day, say

TONE = {PASSED: "good", FAILED: "bad"}  # anything else (warning) is "warn"


@lru_cache(maxsize=1)
def _tz() -> tzinfo:
    """The company's time zone (a panel is given no settings; they do not change)."""
    return load_settings().tz


@site_panel
async def licence_panel(db: AsyncSession, principal: Principal, site_id: int, lang: str
                        ) -> Sequence[Panel]:
    """The site's latest check, for whoever may see the site (the shop's own account too)."""
    check = await service.latest_visible(db, principal, site_id)
    href = views.href(f"/sites/{site_id}/business-licence", lang)
    if check is None:
        # Nothing checked yet: those who may check are shown the way to (a site they see).
        if not principal.can(service.VERIFY) or (await db.execute(select(Site.id).where(
                Site.id == site_id, site_scope(principal)))).first() is None:
            return []
        return [Panel(title=say(lang, "panel_title"), status=say(lang, "panel_none"),
                      href=href, link_text=say(lang, "panel_check"))]
    return [Panel(
        title=say(lang, "panel_title"), tone=TONE.get(check.outcome, "warn"),
        status=say(lang, f"outcome_{check.outcome}"),
        rows=[(say(lang, "panel_code"), check.code),
              (say(lang, "panel_expires"), day(check.expires_on, lang) if check.expires_on
               else say(lang, "expires_never")),
              (say(lang, "panel_checked"),
               day(check.checked_at.astimezone(_tz()).date(), lang))],
        href=href, link_text=say(lang, "panel_link"))]


@photo_use
def licence_photo(principal: Principal, photo_id: str) -> ColumnElement[bool]:
    """A check's photo is seen by whoever may see its site."""
    return exists().where(LicenceCheck.photo_id == photo_id,
                          LicenceCheck.site_id.in_(select(Site.id).where(site_scope(principal))))


@storage.keep_photos
def licence_photos() -> ColumnElement[bool]:
    """A photo a check uses is kept by the cleanup of unused photos."""
    return exists().where(LicenceCheck.photo_id == Photo.id)

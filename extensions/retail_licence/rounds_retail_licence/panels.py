"""The licence on the pages of a site: on ``/shop`` the shop's own account sees its
application's progress or its licence; on a site's history a reviewer of its unit does.
Data only (a :class:`~rounds.runtime.sites.panels.Panel`), drawn by the core."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.fieldwork.views import home_hook
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.sites.models import Site
from rounds.runtime.sites.panels import Panel, site_panel
from rounds_retail_licence import states
from rounds_retail_licence.models import LicenceApplication
from rounds_retail_licence.service import say, unit_in_scope

TONE = {states.ISSUED: "good", states.REFUSED: "bad", states.WITHDRAWN: ""}


def day(lang: str, d: date | None) -> str:
    return say(lang, "date", y=d.year, m=d.month, d=d.day) if d is not None else ""


@home_hook
def applicant_home(principal: Principal) -> str | None:
    """An applicant with no shop yet lands on their applications (the shop portal has no
    shop to show them)."""
    return "/licence-applications" if principal.can(states.APPLY) else None


@site_panel
async def licence_panel(db: AsyncSession, principal: Principal, site_id: int, lang: str
                        ) -> Sequence[Panel]:
    own = principal.site_id == site_id
    if not own:
        row = (await db.execute(select(OrgUnit).join(Site, Site.org_unit_id == OrgUnit.id)
                                .where(Site.id == site_id))).scalar_one_or_none()
        if row is None or not (principal.can(states.REVIEW) and unit_in_scope(principal, row)):
            return []
    # The site's latest application; for its own account also one it made before the
    # shop existed (the one that issued its licence is linked to the site).
    mine = [LicenceApplication.site_id == site_id]
    if own:
        mine.append(LicenceApplication.applicant_id == principal.user_id)
    app = (await db.execute(select(LicenceApplication).where(or_(*mine))
                            .order_by(LicenceApplication.submitted_at.desc(),
                                      LicenceApplication.id.desc()).limit(1))
           ).scalar_one_or_none()
    if app is None:
        return []
    rows: list[tuple[str, str]] = [(say(lang, "number"), app.number),
                                   (say(lang, "state"), say(lang, f"state_{app.state}"))]
    if app.state in states.OPEN:
        rows.append((say(lang, "deadline"), day(lang, app.deadline)))
    if app.state == states.ISSUED:
        rows += [(say(lang, "licence_number"), app.licence_number or ""),
                 (say(lang, "licence_scope"), say(lang, f"scope_{app.licence_scope}")),
                 (say(lang, "valid_from"), day(lang, app.valid_from)),
                 (say(lang, "valid_until"), day(lang, app.valid_until))]
    status = say(lang, f"panel_{'licence' if app.state == states.ISSUED else 'progress'}",
                 state=say(lang, f"state_{app.state}"))
    href = f"/licence-applications/{app.id}" + ("?lang=en" if lang == "en" else "")
    return [Panel(title=say(lang, "panel_title"), rows=rows, tone=TONE.get(app.state, "warn"),
                  status=status, href=href, link_text=say(lang, "panel_link"))]

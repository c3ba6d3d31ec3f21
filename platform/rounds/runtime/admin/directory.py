"""What the people and places pages read besides the slices' services: counts per org unit,
names, the role and site kind definitions, who serves which site. No handler holds SQL;
every query of those pages is here or in the slices' services.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.i18n import pick
from rounds.runtime.access import Principal, site_scope
from rounds.runtime.definitions.service import current_contents
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.people.service import user_scope
from rounds.runtime.sites.models import Site, SiteAssignment


async def unit_counts(db: AsyncSession) -> dict[int, tuple[int, int]]:
    """Org unit id → (active people, sites) directly in it."""
    people = dict((await db.execute(select(User.org_unit_id, func.count()).where(
        User.active.is_(True)).group_by(User.org_unit_id))).tuples().all())
    sites = dict((await db.execute(select(Site.org_unit_id, func.count())
                                   .group_by(Site.org_unit_id))).tuples().all())
    return {int(u): (int(people.get(u, 0)), int(sites.get(u, 0)))
            for u in {*people, *sites}}


async def unit(db: AsyncSession, unit_id: int) -> OrgUnit | None:
    return await db.get(OrgUnit, unit_id)


async def unit_names(db: AsyncSession, ids: Iterable[int], lang: str) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = await db.execute(select(OrgUnit.id, OrgUnit.name_zh, OrgUnit.name_en)
                            .where(OrgUnit.id.in_(wanted)))
    return {int(i): pick({"zh": zh, "en": en}, lang, zh) for i, zh, en in rows}


async def role_titles(db: AsyncSession) -> dict[str, dict[str, str]]:
    """Role id → its title (the current role definitions), by id."""
    return {i: dict(c.get("title") or {}) for i, c in
            sorted((await current_contents(db, "role")).items())}


async def roles(db: AsyncSession) -> dict[str, dict[str, Any]]:
    return dict(sorted((await current_contents(db, "role")).items()))


async def site_kinds(db: AsyncSession) -> dict[str, dict[str, Any]]:
    """Site kind id → its current content (title, attributes)."""
    return dict(sorted((await current_contents(db, "site_kind")).items()))


@dataclass(frozen=True)
class PersonAssignment:
    site_id: int
    site_code: str
    site_name: str
    role_id: str
    role_title: dict[str, str]


async def assignments_of(db: AsyncSession, principal: Principal, user_id: int
                         ) -> list[PersonAssignment]:
    """The sites a person serves (those in the reader's scope), by site name."""
    titles = await role_titles(db)
    rows = await db.execute(
        select(Site.id, Site.code, Site.name, SiteAssignment.role_id)
        .join(SiteAssignment, SiteAssignment.site_id == Site.id)
        .where(SiteAssignment.user_id == user_id, site_scope(principal))
        .order_by(Site.name, Site.id))
    return [PersonAssignment(int(i), c, n, r, titles.get(r, {})) for i, c, n, r in rows]


@dataclass(frozen=True)
class StaffChoice:
    id: int
    username: str
    display_name: str


async def staff_for(db: AsyncSession, principal: Principal, role_ids: Iterable[str]
                    ) -> dict[str, list[StaffChoice]]:
    """Role id → the active people of that role the assigner's scope covers (by name)."""
    wanted = sorted(set(role_ids))
    out: dict[str, list[StaffChoice]] = {r: [] for r in wanted}
    if not wanted:
        return out
    rows = await db.execute(select(User).where(
        User.role_id.in_(wanted), User.active.is_(True), user_scope(principal))
        .order_by(User.display_name, User.username).limit(2000))
    for u in rows.scalars():
        out[u.role_id].append(StaffChoice(u.id, u.username, u.display_name))
    return out

"""What the new-campaign form offers to choose from: the current standards and staff surveys,
site kinds and roles (their titles by language), the org units (by path, so a child follows
its parent) and the grades the sites have. Read for the leader's pages (``campaign.manage``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.campaigns.service import MANAGE
from rounds.runtime.definitions.service import current_contents, current_versions
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site


@dataclass(frozen=True)
class Unit:
    id: int
    name: dict[str, str]
    depth: int  # 0 for the city: the list is indented by it


@dataclass(frozen=True)
class Choices:
    standards: dict[str, dict[str, Any]]  # id -> title by language
    surveys: dict[str, dict[str, Any]]  # id -> title by language (staff surveys only)
    site_kinds: dict[str, dict[str, Any]]
    roles: dict[str, dict[str, Any]]
    units: list[Unit]
    grades: list[str]


def _titles(contents: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i: dict(c.get("title") or {}) for i, c in sorted(contents.items())}


async def form_choices(db: AsyncSession, principal: Principal) -> Choices:
    principal.require(MANAGE)
    roles = {i: c for i, c in (await current_contents(db, "role")).items()
             if c.get("standards") or c.get("surveys")}  # only roles that can submit a form
    units = [Unit(i, {"zh": zh, "en": en}, path.count("/") - 2)
             for i, zh, en, path in (await db.execute(
                 select(OrgUnit.id, OrgUnit.name_zh, OrgUnit.name_en, OrgUnit.path)
                 .order_by(OrgUnit.path))).all()]
    raw = (await db.execute(select(Site.attributes["grade"].as_string()).distinct())).scalars()
    grades = sorted({str(g) for g in raw if g not in (None, "")},
                    key=lambda g: (not g.isdigit(), int(g) if g.isdigit() else 0, g))
    # A campaign's form is filled by its drawn staff: a survey for the public is no choice.
    surveys = {i: c for i, c in (await current_contents(db, "survey")).items()
               if c.get("audience", "staff") == "staff"}
    return Choices(standards=_titles(await current_contents(db, "standard")),
                   surveys=_titles(surveys),
                   site_kinds=_titles(await current_contents(db, "site_kind")),
                   roles=_titles(roles), units=units, grades=grades)


async def titles(db: AsyncSession, kind: str) -> dict[str, dict[str, Any]]:
    """The current titles of every definition of ``kind`` (a standard's, a role's...)."""
    return _titles(await current_contents(db, kind))


async def current_content(db: AsyncSession, definition_id: str) -> dict[str, Any]:
    """The current content of one definition (a campaign's standard: its digits, its
    outcome levels' titles), empty when there is none."""
    version = (await current_versions(db, ids=[definition_id])).get(definition_id)
    return dict(version.content) if version is not None else {}


async def people_names(db: AsyncSession, ids: set[int]) -> dict[int, str]:
    """Who drew: user id → display name."""
    if not ids:
        return {}
    return {int(i): str(n) for i, n in (await db.execute(
        select(User.id, User.display_name).where(User.id.in_(ids)))).all()}

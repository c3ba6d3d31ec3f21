"""What the admin pages read: counts for the landing page, and the lists of the sections.

The web handlers stay thin (no SQL): every query of the admin app is here.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.definitions.models import DRAFT, Definition, DefinitionVersion
from rounds.runtime.people.models import User
from rounds.runtime.sites.models import Site


@dataclass(frozen=True)
class Counts:
    definitions: dict[str, int]  # kind -> how many definitions
    drafts: int  # definitions whose latest version is a draft (waiting to be published)
    people: int  # active users
    sites: int


async def counts(db: AsyncSession) -> Counts:
    """The landing page's figures."""
    kinds = {str(k): int(n) for k, n in await db.execute(
        select(Definition.kind, func.count()).group_by(Definition.kind))}
    latest = (select(DefinitionVersion.definition_id,
                     func.max(DefinitionVersion.number).label("n"))
              .group_by(DefinitionVersion.definition_id).subquery())
    drafts = (await db.execute(
        select(func.count()).select_from(DefinitionVersion).join(
            latest, (latest.c.definition_id == DefinitionVersion.definition_id)
            & (latest.c.n == DefinitionVersion.number))
        .where(DefinitionVersion.status == DRAFT))).scalar_one()
    people = (await db.execute(select(func.count()).select_from(User)
                               .where(User.active.is_(True)))).scalar_one()
    sites = (await db.execute(select(func.count()).select_from(Site))).scalar_one()
    return Counts(definitions=kinds, drafts=int(drafts), people=int(people), sites=int(sites))


async def people_names(db: AsyncSession, ids: set[int]) -> dict[int, str]:
    """User id -> display name (for "who changed it")."""
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {int(i): str(n) for i, n in rows}

"""The few reads the field pages need beyond the other slices' services: names and titles
for lists, and what was submitted during a visit. Always limited to the user's own rows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.sites.models import Site
from rounds.runtime.submissions.models import Submission


@dataclass(frozen=True)
class Submitted:
    id: str
    definition_id: str
    content_hash: str
    percentage: float | None
    passed: bool | None
    failed_count: int
    submitted_at: datetime


async def visit_submissions(db: AsyncSession, principal: Principal, visit_id: int
                            ) -> list[Submitted]:
    """The principal's own submissions made during a visit, newest first."""
    rows = await db.execute(
        select(Submission.id, Submission.definition_id, Submission.content_hash,
               Submission.percentage, Submission.passed, Submission.failed_count,
               Submission.submitted_at)
        .where(Submission.visit_id == visit_id, Submission.user_id == principal.user_id)
        .order_by(Submission.submitted_at.desc()))
    return [Submitted(*r) for r in rows]


async def version_titles(db: AsyncSession, versions: Iterable[tuple[str, str]]
                         ) -> dict[tuple[str, str], dict[str, Any]]:
    """The title of each (definition id, content hash): the title of the version filled."""
    wanted = set(versions)
    if not wanted:
        return {}
    rows = await db.execute(
        select(DefinitionVersion.definition_id, DefinitionVersion.content_hash,
               DefinitionVersion.content)
        .where(DefinitionVersion.definition_id.in_(sorted({d for d, _ in wanted}))))
    return {(d, h): dict(c.get("title") or {}) for d, h, c in rows if (d, h) in wanted}


async def site_names(db: AsyncSession, site_ids: Iterable[int | None]) -> dict[int, str]:
    ids = sorted({i for i in site_ids if i is not None})
    if not ids:
        return {}
    rows = await db.execute(select(Site.id, Site.name).where(Site.id.in_(ids)))
    return {i: n for i, n in rows}

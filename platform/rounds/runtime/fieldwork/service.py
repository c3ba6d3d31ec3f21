"""The few reads the field pages need beyond the other slices' services: names and titles
for lists, what was submitted during a visit, the issue board's counts per state and the
people it filters by. Always limited to the user's own rows or scope."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.issues import queries as issues
from rounds.runtime.issues.models import Issue
from rounds.runtime.issues.routing import role_capabilities
from rounds.runtime.people.models import User
from rounds.runtime.people.service import user_scope
from rounds.runtime.sites.models import Site
from rounds.runtime.submissions.models import Submission


@dataclass(frozen=True)
class Submitted:
    id: str
    definition_id: str
    content_hash: str
    score_value: float | None  # in the model the version scored in
    score_model: str
    direction: str
    outcome: str | None
    passed: bool | None
    failed_count: int
    submitted_at: datetime


async def visit_submissions(db: AsyncSession, principal: Principal, visit_id: int
                            ) -> list[Submitted]:
    """The principal's own submissions made during a visit, newest first."""
    rows = await db.execute(
        select(Submission.id, Submission.definition_id, Submission.content_hash,
               Submission.score_value, Submission.score_model, Submission.direction,
               Submission.outcome, Submission.passed, Submission.failed_count,
               Submission.submitted_at)
        .where(Submission.visit_id == visit_id, Submission.user_id == principal.user_id)
        .order_by(Submission.submitted_at.desc()))
    return [Submitted(**r._mapping) for r in rows]


async def version_contents(db: AsyncSession, versions: Iterable[tuple[str, str]]
                           ) -> dict[tuple[str, str], dict[str, Any]]:
    """The content of each (definition id, content hash): the version filled (its title,
    how it shows a score, its outcomes' labels)."""
    wanted = set(versions)
    if not wanted:
        return {}
    rows = await db.execute(
        select(DefinitionVersion.definition_id, DefinitionVersion.content_hash,
               DefinitionVersion.content)
        .where(DefinitionVersion.definition_id.in_(sorted({d for d, _ in wanted}))))
    return {(d, h): dict(c) for d, h, c in rows if (d, h) in wanted}


async def site_names(db: AsyncSession, site_ids: Iterable[int | None]) -> dict[int, str]:
    ids = sorted({i for i in site_ids if i is not None})
    if not ids:
        return {}
    rows = await db.execute(select(Site.id, Site.name).where(Site.id.in_(ids)))
    return {i: n for i, n in rows}


# -- issues ------------------------------------------------------------------------------------

async def user_names(db: AsyncSession, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Display names, for the people an issue's history mentions by id (a reassignment's
    new assignee): only names, of people the page already shows acting on the issue."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    rows = await db.execute(select(User.id, User.display_name).where(User.id.in_(ids)))
    return {int(i): str(n) for i, n in rows.tuples()}


async def issue_counts(db: AsyncSession, principal: Principal, *, now: datetime,
                       org_unit_id: int | None = None, assignee_id: int | None = None,
                       site_id: int | None = None, overdue: bool = False) -> dict[str, int]:
    """How many issues of the board there are in each state, under the board's other
    filters (the same conditions as ``issues.queries.board``; one grouped query rather than
    one count per state)."""
    conds = await issues.board_conditions(
        db, principal, now=now, org_unit_id=org_unit_id, assignee_id=assignee_id,
        site_id=site_id, overdue=True if overdue else None)
    rows = await db.execute(select(Issue.status, func.count()).where(*conds)
                            .group_by(Issue.status))
    return {str(s): int(n) for s, n in rows.tuples()}


@dataclass(frozen=True)
class Person:
    id: int
    label: str


async def assignable_people(db: AsyncSession, principal: Principal) -> list[Person]:
    """The people of the principal's scope whose role may rectify issues: whom the board
    filters by, and to whom an issue can be reassigned."""
    caps = await role_capabilities(db)
    roles = sorted(r for r, c in caps.items() if "issue.rectify" in c)
    if not roles:
        return []
    rows = await db.execute(
        select(User.id, User.display_name, User.username).where(
            user_scope(principal), User.role_id.in_(roles), User.active.is_(True))
        .order_by(User.display_name, User.id))
    return [Person(int(i), f"{name} ({username})" if name != username else str(name))
            for i, name, username in rows.tuples()]

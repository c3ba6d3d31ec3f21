"""What the admin pages read: counts for the landing page, and the lists of the sections.

The web handlers stay thin (no SQL): every query of the admin app is here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import NotFound
from rounds.runtime.audit import AuditEntry
from rounds.runtime.definitions.models import DRAFT, PUBLISHED, Definition, DefinitionVersion
from rounds.runtime.definitions.service import TARGET
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


@dataclass(frozen=True)
class LastChange:
    at: dt.datetime
    actor_id: int | None
    action: str | None  # None: known from the versions only (no audit entry)


@dataclass(frozen=True)
class DefinitionRow:
    id: str
    kind: str
    title: dict[str, str]
    current: int | None  # the current version's number
    latest: int
    latest_status: str  # a draft waiting when the latest version is a draft
    last: LastChange


def _matches(q: str, definition_id: str, title: dict[str, str]) -> bool:
    q = q.strip().casefold()
    return not q or q in definition_id.casefold() or any(
        q in str(t).casefold() for t in title.values())


async def definition_rows(db: AsyncSession, *, kind: str | None = None, q: str = "",
                          status: str | None = None) -> list[DefinitionRow]:
    """Every definition (of ``kind``; its id or a title containing ``q``; ``status``
    ``draft``: with a draft waiting, ``published``: without), by kind and id, each with its
    latest change: the newest audit entry, else its latest version's date."""
    stmt = select(Definition).order_by(Definition.kind, Definition.id)
    if kind:
        stmt = stmt.where(Definition.kind == kind)
    definitions = list((await db.execute(stmt)).scalars())
    versions: dict[str, list[DefinitionVersion]] = {}
    for v in (await db.execute(select(DefinitionVersion).order_by(
            DefinitionVersion.definition_id, DefinitionVersion.number))).scalars():
        versions.setdefault(v.definition_id, []).append(v)
    newest = (select(AuditEntry.target_id, func.max(AuditEntry.id).label("id"))
              .where(AuditEntry.target_kind == TARGET).group_by(AuditEntry.target_id)
              .subquery())
    last_entries = {e.target_id: e for e in (await db.execute(
        select(AuditEntry).join(newest, newest.c.id == AuditEntry.id))).scalars()}
    rows: list[DefinitionRow] = []
    for d in definitions:
        mine = versions.get(d.id) or []
        if not mine:
            continue
        latest = mine[-1]
        in_force = next((v for v in mine if v.id == d.current_version_id), latest)
        title = dict(in_force.content.get("title") or {})  # as the field sees it
        if not _matches(q, d.id, title):
            continue
        if (status == DRAFT and latest.status != DRAFT) or \
                (status == PUBLISHED and latest.status == DRAFT):
            continue
        current = next((v.number for v in mine if v.id == d.current_version_id), None)
        entry = last_entries.get(d.id)
        last = LastChange(entry.at, entry.actor_id, entry.action) if entry is not None else \
            LastChange(max(v.published_at or v.created_at for v in mine), None, None)
        rows.append(DefinitionRow(d.id, d.kind, title, current, latest.number, latest.status,
                                  last))
    return rows


@dataclass(frozen=True)
class VersionRow:
    version: DefinitionVersion
    current: bool
    published_by: int | None  # the actor of the entry that published it (None: the sync)
    published_known: bool  # an audit entry says who published it


@dataclass(frozen=True)
class DefinitionHistory:
    definition: Definition
    versions: list[VersionRow]  # newest first
    entries: list[AuditEntry]  # its audit entries, newest first


def _version_of(changes: dict[str, Any]) -> int | None:
    v = changes.get("version")
    if isinstance(v, list) and v:
        v = v[-1]
    return v if isinstance(v, int) else None


async def definition_history(db: AsyncSession, definition_id: str) -> DefinitionHistory:
    """A definition with its versions (who published each, from the audit trail) and its
    audit entries; NotFound when there is no such definition."""
    definition = await db.get(Definition, definition_id)
    if definition is None:
        raise NotFound(f"no definition {definition_id!r}")
    entries = list((await db.execute(
        select(AuditEntry).where(AuditEntry.target_kind == TARGET,
                                 AuditEntry.target_id == definition_id)
        .order_by(AuditEntry.id.desc()))).scalars())
    publishers: dict[int, int | None] = {}
    for e in reversed(entries):  # the first publishing of each version
        if e.action == "definition.publish":
            n = _version_of(e.changes)
            if n is not None and n not in publishers:
                publishers[n] = e.actor_id
    versions = list((await db.execute(
        select(DefinitionVersion).where(DefinitionVersion.definition_id == definition_id)
        .order_by(DefinitionVersion.number.desc()))).scalars())
    return DefinitionHistory(definition, [
        VersionRow(v, v.id == definition.current_version_id, publishers.get(v.number),
                   v.number in publishers) for v in versions], entries)


async def user_id_of(db: AsyncSession, person: str) -> int | None:
    """A user by username or display name (the audit filter's "person")."""
    row = (await db.execute(select(User.id).where(
        (User.username == person) | (User.display_name == person)).limit(1))).scalar_one_or_none()
    return int(row) if row is not None else None

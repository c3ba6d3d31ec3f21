"""The definition store's operations: sync from files, drafts, publishing, reading versions.

Every write validates first and writes in one transaction, so a folder with one bad file
changes nothing, and a published version is never altered (a guard on flush refuses it
even if a caller tries).

Every change is recorded in the audit trail (:mod:`rounds.runtime.audit`) in the same
transaction: a draft saved (``definition.draft``), a version published
(``definition.publish``), an earlier one made current again (``definition.rollback``, with
its reason), a file imported (``definition.import``); the actor is the user's id, None for
the command line's sync. Content that changes nothing records nothing.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from sqlalchemy import Select, event, func, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from rounds.db import utcnow
from rounds.definitions.loader import DefinitionDocument, content_hash
from rounds.definitions.validation import validate
from rounds.errors import Conflict, InvalidInput, NotFound, Problem
from rounds.runtime import audit
from rounds.runtime.access import Principal
from rounds.runtime.definitions.models import (
    DRAFT,
    PUBLISHED,
    CurrentVersionChange,
    Definition,
    DefinitionVersion,
)


class DefinitionInvalid(InvalidInput, code="definition_invalid", title="Invalid definition"):
    """Definitions that do not validate; ``problems`` names every mistake, by file."""


class PublishedVersionImmutable(Conflict, code="published_version_immutable",
                                title="A published version cannot change"):
    """A write to a published version's content (new content is a new version)."""


@event.listens_for(Session, "before_flush")
def _published_versions_never_change(session: Session, _ctx: Any, _instances: Any) -> None:
    for obj in session.dirty:
        if not isinstance(obj, DefinitionVersion):
            continue
        state = inspect(obj)
        was = state.attrs.status.history.deleted
        status_before = was[0] if was else obj.status
        changed = any(state.attrs[name].history.has_changes()
                      for name in ("content", "content_hash", "number", "definition_id"))
        if status_before == PUBLISHED and changed:
            raise PublishedVersionImmutable(
                f"version {obj.number} of {obj.definition_id!r} is published and cannot change")


@dataclass
class SyncReport:
    created: list[tuple[str, int, str]] = field(default_factory=list)  # (id, number, hash)
    unchanged: list[str] = field(default_factory=list)
    # Earlier content given again: that version is current again (id, number, hash).
    restored: list[tuple[str, int, str]] = field(default_factory=list)


RESTORED = "restored"


async def _make_current(session: AsyncSession, version: DefinitionVersion, reason: str
                        ) -> bool:
    """Make a published version its definition's current one, and say when in the history.
    False when it already was."""
    definition = await session.get(Definition, version.definition_id)
    assert definition is not None
    if definition.current_version_id == version.id:
        return False
    definition.current_version_id = version.id
    session.add(CurrentVersionChange(
        definition_id=version.definition_id, version_id=version.id, number=version.number,
        at=utcnow(), reason=reason, source=version.source))
    await session.flush()
    return True


def _current_join() -> Select[Any]:
    return select(DefinitionVersion).join(
        Definition, Definition.current_version_id == DefinitionVersion.id)


async def current_versions(db: AsyncSession, *, kind: str | None = None,
                           ids: Sequence[str] | None = None) -> dict[str, DefinitionVersion]:
    """The current version of each definition (of ``kind``, or among ``ids``): the one in
    force, which follows the content last synced or published, not the highest number."""
    stmt = _current_join()
    if kind is not None:
        stmt = stmt.where(Definition.kind == kind)
    if ids is not None:
        stmt = stmt.where(Definition.id.in_(list(ids)))
    return {v.definition_id: v for v in (await db.execute(stmt)).scalars()}


async def current_contents(db: AsyncSession, kind: str) -> dict[str, dict[str, Any]]:
    """Definition id → content of its current version, for every definition of ``kind``."""
    rows = await db.execute(
        select(Definition.id, DefinitionVersion.content)
        .join(DefinitionVersion, Definition.current_version_id == DefinitionVersion.id)
        .where(Definition.kind == kind))
    return {str(i): dict(c) for i, c in rows}


@dataclass(frozen=True)
class CurrentSince:
    number: int
    content_hash: str
    at: str
    reason: str
    source: str | None


async def current_history(db: AsyncSession, definition_id: str) -> list[CurrentSince]:
    """Which version was current from when, oldest first."""
    rows = await db.execute(
        select(CurrentVersionChange, DefinitionVersion.content_hash)
        .join(DefinitionVersion, DefinitionVersion.id == CurrentVersionChange.version_id)
        .where(CurrentVersionChange.definition_id == definition_id)
        .order_by(CurrentVersionChange.id))
    return [CurrentSince(number=c.number, content_hash=h, at=c.at.isoformat(),
                         reason=c.reason, source=c.source) for c, h in rows]


def _raise_if_invalid(problems: list[Problem]) -> None:
    if problems:
        files = len({p.source for p in problems})
        raise DefinitionInvalid(
            f"{len(problems)} problem{'s' if len(problems) != 1 else ''} in {files} "
            f"definition{'s' if files != 1 else ''}", problems)


async def _latest(session: AsyncSession, definition_id: str) -> DefinitionVersion | None:
    stmt = (select(DefinitionVersion).where(DefinitionVersion.definition_id == definition_id)
            .order_by(DefinitionVersion.number.desc()).limit(1))
    return (await session.execute(stmt)).scalar_one_or_none()


async def _add_version(session: AsyncSession, doc: DefinitionDocument, status: str
                       ) -> DefinitionVersion:
    assert doc.id is not None and doc.kind is not None
    definition = await session.get(Definition, doc.id)
    if definition is None:
        definition = Definition(id=doc.id, kind=doc.kind)
        session.add(definition)
    elif definition.kind != doc.kind:
        raise DefinitionInvalid(f"{doc.id!r} is a {definition.kind}, not a {doc.kind}", [
            Problem("/kind", f"{doc.id!r} is already a {definition.kind}; ids keep their kind",
                    "kind_changed", doc.source)])
    latest = await _latest(session, doc.id)
    version = DefinitionVersion(
        definition_id=doc.id, number=(latest.number + 1) if latest else 1,
        content_hash=content_hash(doc.content), content=doc.content, status=status,
        source=doc.source, published_at=utcnow() if status == PUBLISHED else None)
    session.add(version)
    await session.flush()
    return version


async def sync(session: AsyncSession, docs: Sequence[DefinitionDocument], *,
               publish: bool = True) -> SyncReport:
    """Import definitions (a whole folder): a new version only where the content changed.

    The current version follows the files: content seen before (a rollback) makes that
    version current again rather than a new one. Running it twice changes nothing. The
    caller's transaction makes it all or nothing.
    """
    _raise_if_invalid(validate(docs))
    report = SyncReport()
    for doc in docs:
        assert doc.id is not None
        digest = content_hash(doc.content)
        existing = (await session.execute(select(DefinitionVersion).where(
            DefinitionVersion.definition_id == doc.id,
            DefinitionVersion.content_hash == digest))).scalar_one_or_none()
        if existing is not None:
            if publish and existing.status == DRAFT:
                existing.status, existing.published_at = PUBLISHED, utcnow()
                await _make_current(session, existing, PUBLISHED)
                report.created.append((doc.id, existing.number, digest))
                _record(session, None, "definition.publish", doc.id,
                        {"version": existing.number, "source": doc.source})
            elif publish and await _make_current(session, existing, RESTORED):
                # The file went back to earlier content: that version is in force again.
                report.restored.append((doc.id, existing.number, digest))
                _record(session, None, "definition.rollback", doc.id,
                        {"version": existing.number, "source": doc.source})
            else:
                report.unchanged.append(doc.id)
            continue
        version = await _add_version(session, doc, PUBLISHED if publish else DRAFT)
        if publish:
            await _make_current(session, version, PUBLISHED)
        report.created.append((doc.id, version.number, digest))
        _record(session, None, "definition.publish" if publish else "definition.draft", doc.id,
                {"version": version.number, "source": doc.source})
    return report


TARGET = "definition"  # the audit trail's target kind for a definition


def _record(session: AsyncSession, actor_id: int | None, action: str, definition_id: str,
            changes: dict[str, Any]) -> None:
    audit.record(session, actor_id=actor_id, action=action, target_kind=TARGET,
                 target_id=definition_id, changes=changes)


async def save_draft(session: AsyncSession, content: Any, source: str = "admin", *,
                     actor_id: int | None = None, action: str = "definition.draft"
                     ) -> DefinitionVersion:
    """Create or change the draft of a definition (drafts change; published versions don't).
    Content a version already has is that version (nothing new, nothing recorded)."""
    doc = DefinitionDocument(source, content)
    problems = validate([doc], references=False)
    _raise_if_invalid(problems)
    assert doc.id is not None
    latest = await _latest(session, doc.id)
    digest = content_hash(content)
    same = (await session.execute(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == doc.id,
        DefinitionVersion.content_hash == digest))).scalar_one_or_none()
    if same is not None:
        return same  # earlier content: publishing that version makes it current again
    if latest is not None and latest.status == DRAFT:
        before = latest.content_hash
        latest.content, latest.content_hash, latest.source = content, digest, source
        await session.flush()
        _record(session, actor_id, action, doc.id,
                {"version": latest.number, "content_hash": [before, digest]})
        return latest
    version = await _add_version(session, doc, DRAFT)
    _record(session, actor_id, action, doc.id,
            {"version": version.number, "content_hash": [None, digest]})
    return version


async def publish_problems(session: AsyncSession, version: DefinitionVersion
                           ) -> list[Problem]:
    """What publishing ``version`` would break: its own problems (schema, meaning) and
    those of its references against the current versions of every other definition (an
    unknown role, a standard no role may fill...), only the ones this version brings (a
    problem the store already had is not this version's). Each problem's ``source`` is the
    definition it is in."""
    others = {d: c for d, c in (await _all_current(session)).items()
              if d != version.definition_id}
    current = (await session.execute(_current_join().where(
        Definition.id == version.definition_id))).scalar_one_or_none()

    def problems_with(content: Any | None) -> list[Problem]:
        docs = [DefinitionDocument(d, c) for d, c in others.items()]
        if content is not None:
            docs.append(DefinitionDocument(version.definition_id, content))
        return validate(docs)

    had = {(p.source, p.pointer, p.code) for p in problems_with(
        current.content if current is not None else None)}
    return [p for p in problems_with(version.content)
            if p.source == version.definition_id or (p.source, p.pointer, p.code) not in had]


async def _all_current(session: AsyncSession) -> dict[str, Any]:
    rows = await session.execute(
        select(Definition.id, DefinitionVersion.content)
        .join(DefinitionVersion, Definition.current_version_id == DefinitionVersion.id))
    return {str(i): c for i, c in rows}


async def publish(session: AsyncSession, definition_id: str, number: int, *,
                  actor_id: int | None = None, reason: str | None = None,
                  check_references: bool = False) -> DefinitionVersion:
    """Publish a version and make it current; an earlier published version becomes current
    again (a rollback, recorded with ``reason``).

    ``check_references`` (the admin pages): refused (``DefinitionInvalid``, every problem)
    when the version would not validate against the other definitions in force
    (:func:`publish_problems`). The API and tests publish one document as given, and the
    runtime copes with what that lets through."""
    version = await get_version(session, definition_id, number)
    if check_references:
        _raise_if_invalid(await publish_problems(session, version))
    current = (await session.execute(_current_join().where(
        Definition.id == definition_id))).scalar_one_or_none()
    was = current.number if current is not None else None
    if version.status == PUBLISHED:
        if await _make_current(session, version, RESTORED):
            _record(session, actor_id, "definition.rollback", definition_id,
                    {"version": [was, version.number], "reason": reason or ""})
        return version
    version.status, version.published_at = PUBLISHED, utcnow()
    await _make_current(session, version, PUBLISHED)
    _record(session, actor_id, "definition.publish", definition_id,
            {"version": [was, version.number]})
    return version


async def get_version(session: AsyncSession, definition_id: str, ref: int | str | None = None
                      ) -> DefinitionVersion:
    """A version by number, by content hash (or a unique prefix of at least 8), or the
    current one when ``ref`` is None."""
    stmt = select(DefinitionVersion).where(DefinitionVersion.definition_id == definition_id)
    if ref is None:
        current: DefinitionVersion | None = (await session.execute(_current_join().where(
            Definition.id == definition_id))).scalar_one_or_none()
        if current is None:
            raise NotFound(f"no published version of definition {definition_id!r}")
        return current
    if isinstance(ref, int) or (isinstance(ref, str) and ref.isdigit() and len(ref) < 8):
        stmt = stmt.where(DefinitionVersion.number == int(ref))
    else:
        stmt = stmt.where(DefinitionVersion.content_hash.startswith(str(ref)))
    found = (await session.execute(stmt.limit(2))).scalars().all()
    if len(found) != 1:
        raise NotFound(f"no version {ref!r} of definition {definition_id!r}")
    return found[0]


def may_see_drafts(principal: Principal | None) -> bool:
    """Drafts are for the administrators who write and publish definitions; everyone else
    (and anonymous readers of the public definition API) sees published versions only."""
    return principal is not None and (principal.can("definition.author")
                                      or principal.can("definition.publish"))


async def readable_version(session: AsyncSession, principal: Principal | None,
                           definition_id: str, ref: int | str | None = None
                           ) -> DefinitionVersion:
    """``get_version`` for a reader: a draft is not found (404) unless they may see drafts."""
    version = await get_version(session, definition_id, ref)
    if version.status != PUBLISHED and not may_see_drafts(principal):
        raise NotFound(f"no version {ref!r} of definition {definition_id!r}")
    return version


async def current_content(db: AsyncSession, definition_id: str, kind: str
                          ) -> dict[str, Any] | None:
    """The content of the current version of a definition of ``kind``; None when there is
    none (or the id names a definition of another kind)."""
    row = (await db.execute(
        select(DefinitionVersion.content)
        .join(Definition, Definition.current_version_id == DefinitionVersion.id)
        .where(Definition.id == definition_id, Definition.kind == kind))).scalar_one_or_none()
    return dict(row) if row is not None else None


async def role_content(db: AsyncSession, role_id: str) -> dict[str, Any]:
    """The content of a role's current version (404 when there is none): the capabilities,
    scope and forms of the users who have that role."""
    version = await get_version(db, role_id)
    return version.content


class DefinitionSummary(msgspec.Struct, frozen=True):
    """A definition as lists show it: described by its latest version (the latest published
    one for readers who may not see drafts). The API answers with it as it is."""

    id: str
    kind: str
    title: dict[str, str]
    current_version: int | None
    latest_version: int
    latest_status: str


async def list_definitions(session: AsyncSession, *, kind: str | None = None,
                           limit: int = 50, offset: int = 0, drafts: bool = True
                           ) -> tuple[list[DefinitionSummary], int]:
    """One page of definitions (with their current and latest versions) and the total count.

    ``drafts=False`` (readers who may not see drafts): only definitions with a published
    version, described by it (a draft's title and number are not shown)."""
    base = select(Definition)
    if kind:
        base = base.where(Definition.kind == kind)
    if not drafts:
        base = base.where(Definition.id.in_(select(DefinitionVersion.definition_id).where(
            DefinitionVersion.status == PUBLISHED)))
    total = (await session.execute(select(func.count()).select_from(base.subquery()))).scalar_one()
    page = (await session.execute(base.order_by(Definition.kind, Definition.id)
                                  .limit(limit).offset(offset))).scalars().all()
    out: list[DefinitionSummary] = []
    for d in page:
        versions = (await session.execute(
            select(DefinitionVersion).where(DefinitionVersion.definition_id == d.id)
            .order_by(DefinitionVersion.number))).scalars().all()
        published = [v for v in versions if v.status == PUBLISHED]
        current = next((v for v in versions if v.id == d.current_version_id), None)
        latest = versions[-1] if drafts else published[-1]
        out.append(DefinitionSummary(
            id=d.id, kind=d.kind, title=dict(latest.content.get("title") or {}),
            current_version=current.number if current is not None else None,
            latest_version=latest.number, latest_status=latest.status))
    return out, int(total)


def check(content: Any) -> dict[str, Any]:
    """Validate one definition (no references checked) for the admin UI's live feedback."""
    problems = validate([DefinitionDocument("request", content)], references=False)
    return {"valid": not problems,
            "errors": [{"pointer": p.pointer, "message": p.message, "code": p.code}
                       for p in problems]}


def export_text(content: Any) -> str:
    """A version's content as the JSON file ``rounds definitions sync`` reads (UTF-8, the
    Chinese as written, two-space indent): importing it again changes nothing, the content
    and so its hash being the same."""
    return json.dumps(content, ensure_ascii=False, indent=2) + "\n"


async def import_file(session: AsyncSession, data: bytes, filename: str, *,
                      expect_id: str | None = None, actor_id: int | None = None
                      ) -> DefinitionVersion:
    """A definition file uploaded: its content becomes the draft (``definition.import``).
    Not JSON, or (``expect_id``) another definition's file: refused, saying where. Content
    a version already has is that version: a round trip of an export adds nothing."""
    source = f"import:{filename}"[:500]
    try:
        content = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise DefinitionInvalid("the file is not JSON", [
            Problem("", f"not a JSON file: {exc}", "invalid_json", source)]) from exc
    if expect_id is not None and isinstance(content, dict) and content.get("id") != expect_id:
        raise DefinitionInvalid("the file is another definition's", [
            Problem("/id", f"the file is {content.get('id')!r}, not {expect_id!r}",
                    "other_definition", source)])
    return await save_draft(session, content, source, actor_id=actor_id,
                            action="definition.import")

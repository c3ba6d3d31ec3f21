"""The compiled form of a published standard or survey version, cached for the process.

A published version never changes, so its compiled form (``rounds.forms.compile_form``) is
kept for the life of the process, keyed by ``(engine, definition_id, content_hash)``: the
database is asked only on a miss. Version ids belong to one database, hence the engine in
the key (tests use several databases at once).

Imports: the forms engine, the definitions slice's models; used by visits (the form to fill
at a visit) and submissions (the form a submission is checked against).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, Problem
from rounds.forms.compiled import CompiledForm, compile_form
from rounds.runtime.definitions.models import PUBLISHED, DefinitionVersion

FORM_KINDS = ("standard", "survey")


@dataclass(frozen=True)
class FormVersion:
    definition_id: str
    content_hash: str
    version_id: int
    number: int
    kind: str
    site_kinds: frozenset[str] | None
    form: CompiledForm


_forms: dict[tuple[Any, str, str], FormVersion] = {}


class UnknownVersion(InvalidInput, code="unknown_version", title="Unknown definition version"):
    """No published version of the form has the content hash sent."""


class UnknownDefinition(InvalidInput, code="unknown_definition", title="Unknown definition"):
    """Nothing is published under the definition id sent."""


def cached_form_version(bind: Any, definition_id: str, content_hash: str
                        ) -> FormVersion | None:
    """The compiled form if it is in the cache already (no database needed)."""
    return _forms.get((bind, definition_id, content_hash))


async def form_version(db: AsyncSession, definition_id: str, content_hash: str
                       ) -> FormVersion:
    """The compiled form of a published standard or survey version (cached forever)."""
    key = (db.bind, definition_id, content_hash)
    hit = _forms.get(key)
    if hit is not None:
        return hit
    v = (await db.execute(select(DefinitionVersion).where(
        DefinitionVersion.definition_id == definition_id,
        DefinitionVersion.content_hash == content_hash))).scalar_one_or_none()
    if v is None and (await db.execute(select(func.count()).select_from(DefinitionVersion)
                                       .where(DefinitionVersion.definition_id == definition_id,
                                              DefinitionVersion.status == PUBLISHED))
                      ).scalar_one() == 0:
        # Nothing published under this id: the id is what is wrong, not the version.
        raise UnknownDefinition(f"no published standard or survey {definition_id!r}", [
            Problem("/definition_id", "no published standard or survey has this id "
                    "(GET /api/definitions lists them)", "unknown_definition", "body")])
    if v is None or v.status != PUBLISHED:
        raise UnknownVersion(
            f"no published version {content_hash[:12]!r} of {definition_id!r}",
            [Problem("/version", "send the content hash of a published version of the form "
                     "(GET /api/definitions/{id} gives the current one)", "unknown_version",
                     "body")])
    kind = str(v.content.get("kind"))
    if kind not in FORM_KINDS:
        raise InvalidInput(f"{definition_id!r} is a {kind}, not a standard or survey", [
            Problem("/definition_id", "not a standard or survey", "not_a_form", "body")])
    kinds = v.content.get("site_kinds")
    entry = FormVersion(definition_id=definition_id, content_hash=v.content_hash,
                        version_id=v.id, number=v.number, kind=kind,
                        site_kinds=frozenset(kinds) if kinds is not None else None,
                        form=compile_form(v.content, v.content_hash))
    _forms[key] = entry
    return entry

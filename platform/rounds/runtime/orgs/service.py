"""Org units: creating them keeps the materialised path right; listing them as a tree."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, NotFound, Problem
from rounds.runtime import audit
from rounds.runtime.access import Forbidden, Principal
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.sql import one_or_not_found

CODE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # the same rule as the CSV import's


async def create_org_unit(db: AsyncSession, *, code: str, kind: str, name_zh: str,
                          name_en: str, parent_code: str | None = None) -> OrgUnit:
    parent = None
    if parent_code is not None:
        parent = await by_code(db, parent_code)
    if (await db.execute(select(OrgUnit.id).where(OrgUnit.code == code))).first():
        raise InvalidInput(f"org unit {code!r} exists already",
                           [Problem("/code", f"{code!r} is already used", "duplicate_id")])
    unit = OrgUnit(code=code, kind=kind, name_zh=name_zh, name_en=name_en,
                   parent_id=parent.id if parent else None)
    db.add(unit)
    await db.flush()
    unit.path = f"{parent.path if parent else '/'}{unit.id}/"
    await db.flush()
    return unit


async def by_code(db: AsyncSession, code: str) -> OrgUnit:
    return await one_or_not_found(db, select(OrgUnit).where(OrgUnit.code == code),
                                  f"no org unit {code!r}")


def unit_in_scope(principal: Principal, unit: OrgUnit) -> bool:
    """Whether the principal may place people or sites in this org unit."""
    if principal.org_scope == "city":
        return True
    if principal.org_scope == "org_subtree" and principal.org_path:
        return unit.path.startswith(principal.org_path)
    if principal.org_scope == "org_unit":
        return unit.id == principal.org_unit_id
    return False


async def subtree_ids(db: AsyncSession, unit_id: int) -> list[int]:
    """The unit and every unit below it (one prefix query on the materialised path)."""
    unit = await db.get(OrgUnit, unit_id)
    if unit is None or not unit.path:
        return []
    rows = await db.execute(select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path))
                            .order_by(OrgUnit.path))
    return [int(i) for i in rows.scalars()]


@dataclass
class OrgUnitNode:
    id: int
    code: str
    kind: str
    name_zh: str
    name_en: str
    parent_id: int | None
    children: list[OrgUnitNode] = field(default_factory=list)


def _build_tree(units: list[OrgUnit]) -> list[OrgUnitNode]:
    nodes = {u.id: OrgUnitNode(u.id, u.code, u.kind, u.name_zh, u.name_en, u.parent_id)
             for u in units}
    roots: list[OrgUnitNode] = []
    for u in units:  # ordered by path: a parent always comes before its children
        parent = nodes.get(u.parent_id) if u.parent_id is not None else None
        (parent.children if parent else roots).append(nodes[u.id])
    return roots


async def org_tree(db: AsyncSession, *, root_path: str | None = None) -> list[OrgUnitNode]:
    """The org units as a tree (roots with their children), or one unit's subtree."""
    stmt = select(OrgUnit).order_by(OrgUnit.path, OrgUnit.code)
    if root_path is not None:
        stmt = stmt.where(OrgUnit.path.startswith(root_path))
    return _build_tree(list((await db.execute(stmt)).scalars()))


async def visible_org_tree(db: AsyncSession, principal: Principal) -> list[OrgUnitNode]:
    """The part of the tree the principal may see.

    City-wide roles see the whole tree; a station head (``org_subtree``) their unit and
    below; other staff their own unit alone; the public roles none of it (403: the
    company's structure is not public).
    """
    if principal.org_scope == "public":
        raise Forbidden(f"your role ({principal.role_id}) may not see the org units")
    if principal.org_scope == "city":
        return await org_tree(db)
    if principal.org_scope == "org_subtree" and principal.org_path:
        return await org_tree(db, root_path=principal.org_path)
    unit = await db.get(OrgUnit, principal.org_unit_id)
    return _build_tree([unit]) if unit else []


# -- the admin app's changes (each recorded in the audit trail, in the same transaction) ----

NAME_MAX = 200


def _names(name_zh: str, name_en: str) -> list[Problem]:
    problems = []
    for key, value in (("name_zh", name_zh), ("name_en", name_en)):
        if not value.strip():
            problems.append(Problem(f"/{key}", "a name is required", "required"))
        elif len(value) > NAME_MAX:
            problems.append(Problem(f"/{key}", f"at most {NAME_MAX} characters", "too_long"))
    return problems


async def unit_for_manager(db: AsyncSession, principal: Principal, unit_id: int) -> OrgUnit:
    """An org unit the manager's scope covers; NotFound otherwise (nothing is revealed)."""
    principal.require("user.manage")
    unit = await db.get(OrgUnit, unit_id)
    if unit is None or not unit_in_scope(principal, unit):
        raise NotFound(f"no org unit {unit_id}")
    return unit


async def add_child_unit(db: AsyncSession, principal: Principal, parent_id: int, *, code: str,
                         kind: str, name_zh: str, name_en: str) -> OrgUnit:
    """A new unit under ``parent_id`` (in the manager's scope); every mistake at once."""
    parent = await unit_for_manager(db, principal, parent_id)
    code, kind = code.strip(), kind.strip()
    problems = _names(name_zh, name_en)
    if not CODE.match(code):
        problems.append(Problem("/code", "1 to 64 letters, digits or . _ -",
                                "required" if not code else "invalid"))
    elif (await db.execute(select(OrgUnit.id).where(OrgUnit.code == code))).first():
        problems.append(Problem("/code", f"{code!r} is already used", "duplicate_id"))
    if not kind or len(kind) > 32:
        problems.append(Problem("/kind", "a kind of 1 to 32 characters (station, area...)",
                                "required" if not kind else "too_long"))
    if problems:
        raise InvalidInput(f"cannot create org unit {code!r}", problems)
    unit = await create_org_unit(db, code=code, kind=kind, name_zh=name_zh.strip(),
                                 name_en=name_en.strip(), parent_code=parent.code)
    audit.record(db, actor_id=principal.user_id, action="org_unit.create",
                 target_kind="org_unit", target_id=unit.code,
                 changes={"parent": parent.code, "kind": kind, "name_zh": unit.name_zh,
                          "name_en": unit.name_en})
    return unit


async def rename_unit(db: AsyncSession, principal: Principal, unit_id: int, *, name_zh: str,
                      name_en: str) -> OrgUnit:
    """A unit's names in both languages; an unchanged name records nothing."""
    unit = await unit_for_manager(db, principal, unit_id)
    problems = _names(name_zh, name_en)
    if problems:
        raise InvalidInput(f"cannot rename org unit {unit.code!r}", problems)
    before = {"name_zh": unit.name_zh, "name_en": unit.name_en}
    unit.name_zh, unit.name_en = name_zh.strip(), name_en.strip()
    changes = audit.changes_between(before, {"name_zh": unit.name_zh, "name_en": unit.name_en})
    if changes:
        audit.record(db, actor_id=principal.user_id, action="org_unit.rename",
                     target_kind="org_unit", target_id=unit.code, changes=changes)
    await db.flush()
    return unit

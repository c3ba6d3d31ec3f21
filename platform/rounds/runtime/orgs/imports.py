"""Org units from a CSV file: ``code``, ``parent`` (a code; blank for a root), ``kind``
(city, station, market_department, area...), ``name_zh``, ``name_en``.

A parent is an existing unit or one on an earlier row of the same file, so a tree is
written top down. See :mod:`rounds.runtime.imports` for the row numbering, pointers and
all-or-nothing rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.imports import (
    ImportReport,
    Progress,
    RowError,
    begin,
    settle,
)
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.orgs.service import unit_in_scope

COLUMNS = ("code", "parent", "kind", "name_zh", "name_en")
REQUIRED_COLUMNS = ("code", "kind", "name_zh", "name_en")
CODE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


@dataclass
class _UnitDraft:
    code: str
    parent_code: str | None
    kind: str
    name_zh: str
    name_en: str


async def import_org_units(db: AsyncSession, data: bytes | str, *,
                           principal: Principal | None = None, skip_bad_rows: bool = False,
                           progress: Progress | None = None) -> ImportReport:
    """Check every row, then create the units in file order (parents before children).

    ``principal`` None is the system (the CLI); otherwise it needs ``user.manage`` (who
    manages people manages the units they work in), and every parent must be in its scope:
    only the city scope may add a root.
    """
    if principal is not None:
        principal.require("user.manage")
    table, report = begin(data, what="org units", required=REQUIRED_COLUMNS,
                          known=lambda c: c in COLUMNS)
    existing = {u.code: u for u in (await db.execute(select(OrgUnit))).scalars()}
    in_file: dict[str, int] = {}  # code -> row, of the good rows so far
    bad_rows = set(report.bad_rows)
    good: list[_UnitDraft] = []
    for number, cells in table.rows:
        errors: list[RowError] = []
        code = cells["code"]
        if not code:
            errors.append(RowError(number, "code", "a code is required", "required"))
        elif not CODE.match(code):
            errors.append(RowError(number, "code", "1 to 64 letters, digits or . _ -",
                                   "invalid"))
        elif code in existing:
            errors.append(RowError(number, "code", f"org unit {code!r} exists already",
                                   "duplicate_id"))
        elif code in in_file:
            errors.append(RowError(number, "code", f"{code!r} is also on row {in_file[code]}",
                                   "duplicate_id"))
        parent = cells.get("parent", "") or None
        if parent is None:
            if principal is not None and principal.org_scope != "city":
                errors.append(RowError(number, "parent", "only the city scope may add a root "
                                       "unit: name a parent", "required"))
        elif parent in existing:
            if principal is not None and not unit_in_scope(principal, existing[parent]):
                errors.append(RowError(number, "parent", f"no org unit {parent!r}",
                                       "unknown_reference"))
        elif parent not in in_file:
            errors.append(RowError(number, "parent", f"no org unit {parent!r} (a parent must "
                                   "exist or come on an earlier row)", "unknown_reference"))
        for column, limit in (("kind", 32), ("name_zh", 200), ("name_en", 200)):
            if not cells[column]:
                errors.append(RowError(number, column, f"{column} is required", "required"))
            elif len(cells[column]) > limit:
                errors.append(RowError(number, column, f"at most {limit} characters",
                                       "too_long"))
        if errors or number in bad_rows:
            report.errors += errors
            continue
        in_file[code] = number
        good.append(_UnitDraft(code, parent, cells["kind"], cells["name_zh"], cells["name_en"]))
    settle(report, skip_bad_rows=skip_bad_rows)

    for draft in good:
        parent_unit = existing.get(draft.parent_code) if draft.parent_code else None
        unit = OrgUnit(code=draft.code, kind=draft.kind, name_zh=draft.name_zh,
                       name_en=draft.name_en, parent_id=parent_unit.id if parent_unit else None)
        db.add(unit)
        await db.flush()
        unit.path = f"{parent_unit.path if parent_unit else '/'}{unit.id}/"
        existing[draft.code] = unit
        report.created.append(draft.code)
    await db.flush()
    report.imported = len(good)
    if progress:
        progress(f"imported {len(good)} org units")
    return report

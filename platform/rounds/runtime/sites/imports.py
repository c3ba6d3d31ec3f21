"""Sites from a CSV file (the retailer register, the list of transit stations...).

Columns: ``code``, ``name``, ``site_kind``, ``org_unit`` (its code), ``lat``, ``lng``,
``address``; then one column per attribute of the site kinds (``licence_no``, ``grade``...,
named by the attribute's id; a file may mix kinds, a row fills the columns of its own
kind); then optional assignment columns named by a role id (``customer_manager``,
``market_inspector``...) holding the username of the site's staff member for that role.
The ``address`` column also fills an ``address`` attribute when the kind declares one.

Import the staff first (``users``), then the sites that name them. See
:mod:`rounds.runtime.imports` for the row numbering, pointers and all-or-nothing rule.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.runtime.access import Principal
from rounds.runtime.definitions.service import current_contents
from rounds.runtime.imports import (
    ImportReport,
    Progress,
    RowError,
    begin,
    row_errors,
    settle,
)
from rounds.runtime.people.models import User
from rounds.runtime.people.service import user_scope
from rounds.runtime.sites.attributes import from_text
from rounds.runtime.sites.models import SiteAssignment
from rounds.runtime.sites.service import SiteChecker, SiteDraft, store_site

BASE_COLUMNS = ("code", "name", "site_kind", "org_unit", "lat", "lng", "address")
REQUIRED_COLUMNS = ("code", "name", "site_kind", "org_unit", "lat", "lng")


async def _current_contents(db: AsyncSession, kind: str) -> dict[str, dict[str, Any]]:
    return await current_contents(db, kind)


async def import_sites(db: AsyncSession, data: bytes | str, *,
                       principal: Principal | None = None, skip_bad_rows: bool = False,
                       progress: Progress | None = None) -> ImportReport:
    """Check every row, then import all of them (or, with ``skip_bad_rows``, the good ones).

    ``principal`` None is the system (the CLI); otherwise it needs ``site.manage`` and every
    org unit and staff member named must be in its scope.
    """
    if principal is not None:
        principal.require("site.manage")
    kinds = await _current_contents(db, "site_kind")
    roles = set(await _current_contents(db, "role"))
    attribute_ids = {a["id"] for k in kinds.values() for a in k.get("attributes") or ()}

    def known(column: str) -> bool:
        return column in BASE_COLUMNS or column in attribute_ids or column in roles

    table, report = begin(data, what="sites", required=REQUIRED_COLUMNS, known=known)
    role_columns = [c for c in table.columns if c in roles and c not in attribute_ids]
    checker = SiteChecker(db, principal)
    await checker.prefetch_codes(cells.get("code", "") for _, cells in table.rows)
    staff = await _staff_by_username(
        db, principal, {cells[c] for _, cells in table.rows for c in role_columns if cells[c]})
    if progress:
        progress(f"read {len(table.rows)} rows; checking")

    first_row_of: dict[str, int] = {}
    good: list[tuple[int, SiteDraft, dict[str, User]]] = []
    bad_rows = set(report.bad_rows)
    for number, cells in table.rows:
        errors: list[RowError] = []
        kind_id = cells.get("site_kind", "")
        kind = kinds.get(kind_id)
        attributes: dict[str, Any] = {}
        if kind is not None:
            declared = {a["id"]: a for a in kind.get("attributes") or ()}
            for column in table.columns:
                if column in declared:
                    value = from_text(declared[column], cells[column])
                    if value is not None:
                        attributes[column] = value
                elif column in attribute_ids and column not in BASE_COLUMNS and cells[column]:
                    errors.append(RowError(number, column, f"{column!r} is not an attribute of "
                                           f"site kind {kind_id!r}; leave it blank",
                                           "unknown_attribute"))
        draft, problems = await checker.check_site(
            site_kind=kind_id, code=cells.get("code", ""), name=cells.get("name", ""),
            lat=cells.get("lat", ""), lng=cells.get("lng", ""),
            org_unit=cells.get("org_unit", ""), address=cells.get("address", ""),
            attributes=attributes, where=lambda f: f"/{f}", attribute_base="")
        errors += row_errors(number, problems, lambda name: name)
        code = cells.get("code", "").strip()
        if code and code in first_row_of:
            errors.append(RowError(number, "code", f"code {code!r} is also on row "
                                   f"{first_row_of[code]}", "duplicate_id"))
        elif code:
            first_row_of[code] = number
        assigned: dict[str, User] = {}
        for column in role_columns:
            username = cells[column]
            if not username:
                continue
            user = staff.get(username)
            for p in await checker.check_assignment(kind_id, column, user, f"/{column}",
                                                    repr(username)):
                errors.append(RowError(number, column, p.message, p.code))
            if user is not None:
                assigned[column] = user
        if errors or draft is None or number in bad_rows:
            report.errors += errors
        else:
            good.append((number, draft, assigned))
    settle(report, skip_bad_rows=skip_bad_rows)

    for i, (_, draft, assigned) in enumerate(good, start=1):
        site = store_site(db, draft)
        await db.flush()
        for role_id, user in assigned.items():
            db.add(SiteAssignment(site_id=site.id, role_id=role_id, user_id=user.id))
        report.created.append(site.code)
        if progress and i % 500 == 0:
            progress(f"imported {i} of {len(good)} sites")
    await db.flush()
    report.imported = len(good)
    return report


async def _staff_by_username(db: AsyncSession, principal: Principal | None,
                             usernames: set[str]) -> dict[str, User]:
    """The users named in the file (that the importer's scope covers), by username."""
    found: dict[str, User] = {}
    names = sorted(usernames)
    for i in range(0, len(names), 500):
        stmt = select(User).where(User.username.in_(names[i:i + 500]))
        if principal is not None:
            stmt = stmt.where(user_scope(principal))
        found.update({u.username: u for u in (await db.execute(stmt)).scalars()})
    return found

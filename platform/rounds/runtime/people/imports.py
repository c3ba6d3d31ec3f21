"""Users from a CSV file.

Columns: ``username``, ``display_name``, ``role`` (a role definition's id), ``org_unit``
(its code); optional ``phone``, ``password`` (blank: one is generated and reported once),
``site`` (the code of the shop a retailer account acts for; required for roles scoped to
their own shop) and ``language`` (``zh`` or ``en``).

See :mod:`rounds.runtime.imports` for the row numbering, pointers and all-or-nothing rule.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.i18n import DEFAULT, LANGUAGES
from rounds.runtime.access import Principal, site_scope
from rounds.runtime.imports import (
    ImportReport,
    Progress,
    RowError,
    begin,
    settle,
)
from rounds.runtime.people.auth import hash_password
from rounds.runtime.people.models import User
from rounds.runtime.people.service import MIN_PASSWORD_LENGTH, Lookups, generate_password
from rounds.runtime.sites.models import Site

COLUMNS = ("username", "display_name", "role", "org_unit", "phone", "password", "site",
           "language")
REQUIRED_COLUMNS = ("username", "display_name", "role", "org_unit")
USERNAME = re.compile(r"^[A-Za-z0-9._@-]{2,64}$")
T = TypeVar("T")


@dataclass
class _UserDraft:
    username: str
    display_name: str
    role_id: str
    org_unit_id: int
    phone: str | None
    password: str
    generated: bool
    site_id: int | None
    language: str


async def _taken_usernames(db: AsyncSession, usernames: Iterable[str]) -> set[str]:
    wanted = sorted({u for u in usernames if u})
    found: set[str] = set()
    for i in range(0, len(wanted), 500):
        rows = await db.execute(select(User.username).where(
            User.username.in_(wanted[i:i + 500])))
        found.update(rows.scalars())
    return found


async def _named(ref: str, find: Callable[[str], Awaitable[T | None]],
                 error: Callable[[str, str], None], what: str, unknown: str) -> T | None:
    """What a required cell names (``find`` looks it up); None, with the error, when the
    cell is blank (``what`` is required) or names nothing (``unknown``)."""
    if not ref:
        error(f"{what} is required", "required")
        return None
    found = await find(ref)
    if found is None:
        error(unknown, "unknown_reference")
    return found


def _hash_all(passwords: list[str]) -> list[str]:
    # argon2 is slow on purpose (~50 ms a hash) and releases the GIL: hash on every core.
    with ThreadPoolExecutor(max_workers=max(1, min(8, os.cpu_count() or 1))) as pool:
        return list(pool.map(hash_password, passwords))


async def import_users(db: AsyncSession, data: bytes | str, *,
                       principal: Principal | None = None, skip_bad_rows: bool = False,
                       progress: Progress | None = None) -> ImportReport:
    """Check every row, then create all the users (or, with ``skip_bad_rows``, the good ones).

    ``principal`` None is the system (the CLI); otherwise it needs ``user.manage``, and the
    org units and shops named must be in its scope.
    """
    if principal is not None:
        principal.require("user.manage")
    table, report = begin(data, what="users", required=REQUIRED_COLUMNS,
                          known=lambda c: c in COLUMNS)
    taken = await _taken_usernames(db, (c["username"] for _, c in table.rows))
    site_codes = {c.get("site", "") for _, c in table.rows} - {""}
    sites: dict[str, int] = {}
    if site_codes:
        stmt = select(Site.code, Site.id).where(Site.code.in_(sorted(site_codes)))
        if principal is not None:
            stmt = stmt.where(site_scope(principal))
        sites = {code: i for code, i in (await db.execute(stmt))}
    checker = Lookups(db, principal)
    if progress:
        progress(f"read {len(table.rows)} rows; checking")

    first_row_of: dict[str, int] = {}
    bad_rows = set(report.bad_rows)
    good: list[_UserDraft] = []
    for number, cells in table.rows:
        errors: list[RowError] = []

        def error(column: str, message: str, code: str, *, row: int = number,
                  into: list[RowError] = errors) -> None:
            into.append(RowError(row, column, message, code))

        username = cells["username"]
        if not username:
            error("username", "a username is required", "required")
        elif not USERNAME.match(username):
            error("username", "2 to 64 letters, digits or . _ @ -", "invalid")
        elif username in taken:
            error("username", f"{username!r} is taken", "duplicate_id")
        elif username in first_row_of:
            error("username", f"{username!r} is also on row {first_row_of[username]}",
                  "duplicate_id")
        else:
            first_row_of[username] = number
        display_name = cells["display_name"] or username
        if len(display_name) > 200:
            error("display_name", "at most 200 characters", "too_long")
        role_id, unit_code = cells["role"], cells["org_unit"]
        role = await _named(role_id, checker.role, partial(error, "role"), "a role",
                            f"no role {role_id!r} among the definitions")
        unit = await _named(unit_code, checker.unit, partial(error, "org_unit"), "an org unit",
                            f"no org unit {unit_code!r}")
        phone = cells.get("phone", "") or None
        if phone and len(phone) > 32:
            error("phone", "at most 32 characters", "too_long")
        password = cells.get("password", "")
        if password and len(password) < MIN_PASSWORD_LENGTH:
            error("password", f"at least {MIN_PASSWORD_LENGTH} characters", "too_short")
        site_code = cells.get("site", "")
        site_id = sites.get(site_code) if site_code else None
        if site_code and site_id is None:
            error("site", f"no site {site_code!r}", "unknown_reference")
        elif role is not None and role.get("org_scope") == "own_shop" and not site_code:
            error("site", f"a {role_id} account acts for one shop: give the site's code",
                  "required")
        language = cells.get("language", "") or DEFAULT
        if language not in LANGUAGES:
            error("language", " or ".join(LANGUAGES), "invalid")
        if errors or number in bad_rows or unit is None:
            report.errors += errors
            continue
        good.append(_UserDraft(
            username=username, display_name=display_name, role_id=role_id,
            org_unit_id=unit.id, phone=phone, password=password or generate_password(),
            generated=not password, site_id=site_id, language=language))
    settle(report, skip_bad_rows=skip_bad_rows)

    if progress and good:
        progress(f"hashing {len(good)} passwords")
    hashes = await asyncio.to_thread(_hash_all, [d.password for d in good])
    for draft, password_hash in zip(good, hashes, strict=True):
        db.add(User(username=draft.username, display_name=draft.display_name,
                    role_id=draft.role_id, org_unit_id=draft.org_unit_id, phone=draft.phone,
                    password_hash=password_hash, site_id=draft.site_id,
                    language=draft.language))
        report.created.append(draft.username)
        if draft.generated:
            report.passwords[draft.username] = draft.password
    await db.flush()
    report.imported = len(good)
    return report

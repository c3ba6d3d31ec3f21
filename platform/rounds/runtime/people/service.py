"""Users: created with a role that exists as a definition and an org unit that exists."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, NotFound, Problem
from rounds.runtime.definitions.models import Definition
from rounds.runtime.orgs.service import by_code
from rounds.runtime.people.auth import hash_password
from rounds.runtime.people.models import User


async def create_user(db: AsyncSession, *, username: str, display_name: str, role_id: str,
                      org_unit_code: str, password: str, site_id: int | None = None,
                      phone: str | None = None, language: str = "zh") -> User:
    problems: list[Problem] = []
    role = await db.get(Definition, role_id)
    if role is None or role.kind != "role":
        problems.append(Problem("/role_id", f"no role {role_id!r} among the definitions",
                                "unknown_reference"))
    try:
        unit = await by_code(db, org_unit_code)
    except NotFound:
        problems.append(Problem("/org_unit", f"no org unit {org_unit_code!r}",
                                "unknown_reference"))
    if (await db.execute(select(User.id).where(User.username == username))).first():
        problems.append(Problem("/username", f"{username!r} is taken", "duplicate_id"))
    if len(password) < 8:
        problems.append(Problem("/password", "at least 8 characters", "too_short"))
    if problems:
        raise InvalidInput(f"cannot create user {username!r}", problems)
    user = User(username=username, display_name=display_name, role_id=role_id,
                org_unit_id=unit.id, site_id=site_id, phone=phone, language=language,
                password_hash=hash_password(password))
    db.add(user)
    await db.flush()
    return user

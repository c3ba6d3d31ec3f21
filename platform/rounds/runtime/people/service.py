"""Users: created with a role that exists as a definition and an org unit that exists;
listed, read, given a new password and deactivated within the manager's scope."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.errors import InvalidInput, NotFound, Problem
from rounds.i18n import DEFAULT
from rounds.runtime import audit
from rounds.runtime.access import Forbidden, Principal, site_scope
from rounds.runtime.definitions.models import Definition
from rounds.runtime.definitions.service import current_content
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.orgs.service import by_code, unit_in_scope
from rounds.runtime.people.auth import forget_principals_after_commit, hash_password_async
from rounds.runtime.people.models import Credential, User
from rounds.runtime.sites.models import Site
from rounds.runtime.sql import one_or_not_found

MIN_PASSWORD_LENGTH = 8


def generate_password() -> str:
    """A random password for a new account (12 URL-safe characters), shown once."""
    return secrets.token_urlsafe(9)


def user_scope(principal: Principal) -> ColumnElement[bool]:
    """The condition on ``User`` keeping the people the principal's scope covers.

    The same ladder as sites: the city sees everyone, a station head the people of their
    unit and below, an ``org_unit`` role the people of its unit, everyone else themselves.
    """
    scope = principal.org_scope
    if scope == "city":
        return true()
    if scope == "org_subtree" and principal.org_path:
        units = select(OrgUnit.id).where(OrgUnit.path.startswith(principal.org_path))
        return User.org_unit_id.in_(units)
    if scope == "org_unit":
        return User.org_unit_id == principal.org_unit_id
    if scope == "public":
        return false()
    return User.id == principal.user_id


class Lookups:
    """The roles and org units that many rows name, each looked up once (imports check
    thousands of rows against the same few).

    ``principal`` None is the system itself (the CLI): every org unit is in its scope.
    """

    def __init__(self, db: AsyncSession, principal: Principal | None) -> None:
        self.db = db
        self.principal = principal
        self._roles: dict[str, dict[str, Any] | None] = {}
        self._units: dict[str, OrgUnit | None] = {}

    async def role(self, role_id: str) -> dict[str, Any] | None:
        """The current content of a role definition, None if there is none."""
        if role_id not in self._roles:
            self._roles[role_id] = await current_content(self.db, role_id, "role")
        return self._roles[role_id]

    async def unit(self, code: str) -> OrgUnit | None:
        """The org unit by code if it exists and is in the principal's scope."""
        if code not in self._units:
            unit = (await self.db.execute(select(OrgUnit).where(OrgUnit.code == code))
                    ).scalar_one_or_none()
            if unit is not None and self.principal is not None \
                    and not unit_in_scope(self.principal, unit):
                unit = None  # out of scope reads as unknown: nothing is revealed
            self._units[code] = unit
        return self._units[code]


async def create_user(db: AsyncSession, *, username: str, display_name: str, role_id: str,
                      org_unit_code: str, password: str, site_id: int | None = None,
                      phone: str | None = None, language: str = DEFAULT) -> User:
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
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(Problem("/password", "at least 8 characters", "too_short"))
    if problems:
        raise InvalidInput(f"cannot create user {username!r}", problems)
    user = User(username=username, display_name=display_name, role_id=role_id,
                org_unit_id=unit.id, site_id=site_id, phone=phone, language=language,
                password_hash=await hash_password_async(password))
    db.add(user)
    await db.flush()
    return user


async def add_user(db: AsyncSession, principal: Principal, *, username: str,
                   display_name: str, role_id: str, org_unit_code: str,
                   password: str | None = None, site_id: int | None = None,
                   phone: str | None = None, language: str = DEFAULT,
                   site_code: str | None = None) -> tuple[User, str | None]:
    """A manager creates an account in an org unit of their scope. Without a password one
    is generated and returned (the only time it is readable). ``site_code`` (the admin
    pages' way to say ``site_id``) names the shop a retailer account acts for: a role
    scoped to its own shop needs one, in the manager's scope."""
    principal.require("user.manage")
    extra: list[Problem] = []
    if site_code:
        site_id = (await db.execute(select(Site.id).where(
            Site.code == site_code, site_scope(principal)))).scalar_one_or_none()
        if site_id is None:
            extra.append(Problem("/site", f"no site {site_code!r}", "unknown_reference"))
    if site_id is None and not site_code:
        role = await current_content(db, role_id, "role")
        if role is not None and role.get("org_scope") == "own_shop":
            extra.append(Problem("/site", f"a {role_id} acts for one shop: name it",
                                 "required"))
    unit = (await db.execute(select(OrgUnit).where(OrgUnit.code == org_unit_code))
            ).scalar_one_or_none()
    if unit is not None and not unit_in_scope(principal, unit):
        # Same answer as a unit that does not exist: the manager learns nothing about it.
        raise InvalidInput(f"cannot create user {username!r}", [
            Problem("/org_unit", f"no org unit {org_unit_code!r}", "unknown_reference")])
    generated = None if password else generate_password()
    try:
        user = await create_user(db, username=username, display_name=display_name,
                                 role_id=role_id, org_unit_code=org_unit_code,
                                 password=password or str(generated), site_id=site_id,
                                 phone=phone, language=language)
    except InvalidInput as exc:  # every mistake at once: the account's and the shop's
        raise InvalidInput(exc.detail, [*exc.problems, *extra]) from None
    if extra:  # raised before the caller's transaction commits: nothing is kept
        raise InvalidInput(f"cannot create user {username!r}", extra)
    audit.record(db, actor_id=principal.user_id, action="user.create", target_kind="user",
                 target_id=user.id, changes={k: v for k, v in _fields(user, unit).items()
                                             if v is not None})  # never the password
    return user, generated


def _fields(user: User, unit: OrgUnit | None) -> dict[str, Any]:
    """What the audit trail shows of an account (no secret is among them)."""
    return {"username": user.username, "display_name": user.display_name,
            "role_id": user.role_id, "org_unit": unit.code if unit else None,
            "phone": user.phone, "active": user.active}


@dataclass(frozen=True)
class UserRow:
    id: int
    username: str
    display_name: str
    role_id: str
    org_unit_id: int
    org_unit_code: str
    site_id: int | None
    phone: str | None
    language: str
    active: bool
    created_at: str


def _row(user: User, unit_code: str) -> UserRow:
    return UserRow(id=user.id, username=user.username, display_name=user.display_name,
                   role_id=user.role_id, org_unit_id=user.org_unit_id, org_unit_code=unit_code,
                   site_id=user.site_id, phone=user.phone, language=user.language,
                   active=user.active, created_at=user.created_at.isoformat())


async def list_users(db: AsyncSession, principal: Principal, *, role_id: str | None = None,
                     org_unit_id: int | None = None, search: str | None = None,
                     active: bool | None = None, limit: int = 50, offset: int = 0
                     ) -> tuple[list[UserRow], int]:
    """One page of the users in the manager's scope (by username) and the total count."""
    principal.require("user.manage")
    stmt = select(User, OrgUnit.code).join(OrgUnit, OrgUnit.id == User.org_unit_id).where(
        user_scope(principal))
    if role_id:
        stmt = stmt.where(User.role_id == role_id)
    if org_unit_id is not None:
        stmt = stmt.where(User.org_unit_id == org_unit_id)
    if active is not None:
        stmt = stmt.where(User.active.is_(active))
    if search:
        like = f"%{search}%"
        stmt = stmt.where(or_(User.username.ilike(like), User.display_name.ilike(like),
                              User.phone.ilike(like)))
    total = (await db.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = await db.execute(stmt.order_by(User.username).limit(limit).offset(offset))
    return [_row(u, code) for u, code in rows], int(total)


async def user_in_scope(db: AsyncSession, principal: Principal, user_id: int) -> User:
    """A user the principal's scope covers; NotFound for anyone else (they learn nothing)."""
    return await one_or_not_found(
        db, select(User).where(User.id == user_id, user_scope(principal)), f"no user {user_id}")


async def get_user(db: AsyncSession, principal: Principal, user_id: int) -> UserRow:
    principal.require("user.manage")
    user = await user_in_scope(db, principal, user_id)
    unit = await db.get(OrgUnit, user.org_unit_id)
    return _row(user, unit.code if unit else "")


async def _revoke_credentials(db: AsyncSession, user_id: int) -> None:
    await db.execute(update(Credential).where(Credential.user_id == user_id)
                     .values(revoked=True))
    # After the commit, not now: a request reading the user before the commit would cache
    # the old state again (the principal cache, people/auth.py).
    forget_principals_after_commit(db)


async def set_password(db: AsyncSession, principal: Principal, user_id: int,
                       password: str) -> None:
    """A manager sets a user's password; the user's sessions and tokens end with it."""
    principal.require("user.manage")
    user = await user_in_scope(db, principal, user_id)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput("the password is too short", [
            Problem("/password", f"at least {MIN_PASSWORD_LENGTH} characters", "too_short")])
    user.password_hash = await hash_password_async(password)
    await _revoke_credentials(db, user.id)
    # That it happened, never what it is.
    audit.record(db, actor_id=principal.user_id, action="user.password_reset",
                 target_kind="user", target_id=user.id)
    await db.flush()


async def reset_password(db: AsyncSession, principal: Principal, user_id: int) -> str:
    """A new generated password for a user (returned this once); their sessions end."""
    password = generate_password()
    await set_password(db, principal, user_id, password)
    return password


async def deactivate(db: AsyncSession, principal: Principal, user_id: int) -> UserRow:
    """Stop an account: it cannot sign in and its sessions and tokens end. Its records stay."""
    principal.require("user.manage")
    user = await user_in_scope(db, principal, user_id)
    if user.id == principal.user_id:
        raise Forbidden("you cannot deactivate your own account")
    if user.active:
        user.active = False
        await _revoke_credentials(db, user.id)
        audit.record(db, actor_id=principal.user_id, action="user.disable", target_kind="user",
                     target_id=user.id, changes={"active": [True, False]})
    await db.flush()
    unit = await db.get(OrgUnit, user.org_unit_id)
    return _row(user, unit.code if unit else "")


async def activate(db: AsyncSession, principal: Principal, user_id: int) -> UserRow:
    """Let a stopped account sign in again (with its password; old sessions stay ended)."""
    principal.require("user.manage")
    user = await user_in_scope(db, principal, user_id)
    if not user.active:
        user.active = True
        audit.record(db, actor_id=principal.user_id, action="user.enable", target_kind="user",
                     target_id=user.id, changes={"active": [False, True]})
    await db.flush()
    unit = await db.get(OrgUnit, user.org_unit_id)
    return _row(user, unit.code if unit else "")


async def update_user(db: AsyncSession, principal: Principal, user_id: int, *,
                      role_id: str, org_unit_code: str, display_name: str,
                      phone: str | None) -> UserRow:
    """Change a user's role, org unit, name or phone; every mistake at once. A new role or
    unit changes what they may do and see, so their sessions end (they sign in again)."""
    principal.require("user.manage")
    user = await user_in_scope(db, principal, user_id)
    problems: list[Problem] = []
    lookups = Lookups(db, principal)
    if await lookups.role(role_id) is None:
        problems.append(Problem("/role_id", f"no role {role_id!r} among the definitions",
                                "unknown_reference"))
    unit = await lookups.unit(org_unit_code)
    if unit is None:
        problems.append(Problem("/org_unit", f"no org unit {org_unit_code!r}",
                                "unknown_reference"))
    display_name = display_name.strip()
    if not display_name or len(display_name) > 200:
        problems.append(Problem("/display_name", "a name of 1 to 200 characters",
                                "required" if not display_name else "too_long"))
    phone = (phone or "").strip() or None
    if phone is not None and len(phone) > 32:
        problems.append(Problem("/phone", "at most 32 characters", "too_long"))
    if user.id == principal.user_id and role_id != user.role_id:
        problems.append(Problem("/role_id", "you cannot change your own role", "forbidden"))
    if problems or unit is None:
        raise InvalidInput(f"cannot change user {user.username!r}", problems)
    before = _fields(user, await db.get(OrgUnit, user.org_unit_id))
    access_changes = (role_id, unit.id) != (user.role_id, user.org_unit_id)
    user.role_id, user.org_unit_id = role_id, unit.id
    user.display_name, user.phone = display_name, phone
    changes = audit.changes_between(before, _fields(user, unit))
    if changes:
        audit.record(db, actor_id=principal.user_id, action="user.update", target_kind="user",
                     target_id=user.id, changes=changes)
    if access_changes:
        await _revoke_credentials(db, user.id)
    await db.flush()
    return _row(user, unit.code)

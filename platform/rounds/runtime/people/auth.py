"""Signing in: argon2 password hashes, sessions and API tokens, failed sign-ins throttled.

Credentials are random tokens; only their SHA-256 is stored. A session (cookie) carries a
CSRF token that every state-changing request made with the cookie must echo in the
``X-CSRF-Token`` header; an API token (``Authorization: Bearer``) needs none.

Resolving a token to a :class:`Principal` reads the database; the result is kept in
process memory for ``PRINCIPAL_TTL_S`` seconds so the hot path (submissions) does not pay a
query per request. A revoked token or a changed role therefore takes up to that long to
take effect in other processes; signing out in this process takes effect at once.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from rounds.db import utcnow
from rounds.errors import RoundsError
from rounds.runtime.access import NotAuthenticated, Principal
from rounds.runtime.definitions.models import DefinitionVersion
from rounds.runtime.definitions.service import get_version
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people.models import Credential, FailedSignIn, User

SESSION_TTL = timedelta(hours=12)
API_TOKEN_TTL = timedelta(days=30)
PRINCIPAL_TTL_S = 30.0
FAILURE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_USER = 5
MAX_FAILURES_PER_IP = 30

_hasher = PasswordHasher()


class TooManyAttempts(RoundsError):
    code = "too_many_attempts"
    status = 429
    title = "Too many failed sign-ins"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class BadCredentials(NotAuthenticated):
    code = "bad_credentials"
    title = "Wrong user name or password"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    token: str
    csrf_token: str | None
    expires_at: datetime


async def _check_throttle(db: AsyncSession, username: str, ip: str) -> None:
    since = utcnow() - FAILURE_WINDOW
    by_user = (await db.execute(select(func.count()).select_from(FailedSignIn).where(
        FailedSignIn.username == username, FailedSignIn.at >= since))).scalar_one()
    by_ip = (await db.execute(select(func.count()).select_from(FailedSignIn).where(
        FailedSignIn.ip == ip, FailedSignIn.at >= since))).scalar_one()
    if by_user >= MAX_FAILURES_PER_USER or by_ip >= MAX_FAILURES_PER_IP:
        minutes = int(FAILURE_WINDOW.total_seconds() // 60)
        raise TooManyAttempts(
            f"too many failed sign-ins; try again in {minutes} minutes",
            int(FAILURE_WINDOW.total_seconds()))


async def sign_in(db: AsyncSession, username: str, password: str, *, ip: str,
                  kind: str = "session") -> tuple[User, Issued]:
    """Check the password and issue a session or an API token.

    A failed attempt is recorded (in its own transaction by the caller's commit) and the
    same message is given whether the user exists or not.
    """
    await _check_throttle(db, username, ip)
    user = (await db.execute(select(User).where(User.username == username))).scalar_one_or_none()
    # Verify against a dummy hash when the user is unknown, so timing does not tell.
    ok = verify_password(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        db.add(FailedSignIn(username=username, ip=ip))
        raise BadCredentials("wrong user name or password")
    await db.execute(delete(FailedSignIn).where(FailedSignIn.username == username))
    return user, await issue(db, user.id, kind=kind)


async def issue(db: AsyncSession, user_id: int, *, kind: str = "session") -> Issued:
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(24) if kind == "session" else None
    expires = utcnow() + (SESSION_TTL if kind == "session" else API_TOKEN_TTL)
    db.add(Credential(token_hash=token_hash(token), user_id=user_id, kind=kind,
                      csrf_token=csrf, expires_at=expires))
    await db.flush()
    return Issued(token, csrf, expires)


async def sign_out(db: AsyncSession, token: str) -> None:
    h = token_hash(token)
    cred = await db.get(Credential, h)
    if cred is not None:
        cred.revoked = True
    _cache.pop(h)


class _PrincipalCache:
    def __init__(self, size: int = 10_000) -> None:
        self._items: dict[str, tuple[float, Principal]] = {}
        self._size = size
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        hit = self._items.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, principal: Principal) -> None:
        with self._lock:
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = (time.monotonic() + PRINCIPAL_TTL_S, principal)

    def pop(self, key: str) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        self._items.clear()


_cache = _PrincipalCache()


def forget_principals() -> None:
    """Drop every cached principal (after a role or user change in this process)."""
    _cache.clear()


async def role_content(db: AsyncSession, role_id: str) -> dict[str, Any]:
    version: DefinitionVersion = await get_version(db, role_id)
    return version.content


async def principal_for(db: AsyncSession, user: User, *, credential: str = "session",
                        csrf_token: str | None = None) -> Principal:
    role = await role_content(db, user.role_id)
    unit = await db.get(OrgUnit, user.org_unit_id)
    check_in = role.get("check_in") or {}
    return Principal(
        user_id=user.id, username=user.username, display_name=user.display_name,
        role_id=user.role_id, role_title=dict(role.get("title") or {}),
        capabilities=frozenset(role.get("capabilities") or ()),
        org_scope=str(role.get("org_scope") or "public"), org_unit_id=user.org_unit_id,
        org_path=unit.path if unit else "", site_id=user.site_id, language=user.language,
        check_in_radius_m=float(check_in.get("radius_m", 100)),
        check_in_max_accuracy_m=float(check_in.get("max_accuracy_m", 50)),
        check_in_methods=frozenset(check_in.get("methods") or ("qr", "gps")),
        check_in_other_method=str(check_in.get("other_method") or "refuse"),
        credential=credential, csrf_token=csrf_token)


async def authenticate(db: AsyncSession, token: str) -> Principal:
    """The principal of a session or API token; NotAuthenticated if it is not valid now."""
    h = token_hash(token)
    cached = _cache.get(h)
    if cached is not None:
        return cached
    cred = await db.get(Credential, h)
    if cred is None or cred.revoked or cred.expires_at.replace(tzinfo=None) < \
            utcnow().replace(tzinfo=None):
        raise NotAuthenticated("your session has ended; please sign in again")
    user = await db.get(User, cred.user_id)
    if user is None or not user.active:
        raise NotAuthenticated("this account is not active")
    principal = await principal_for(db, user, credential=cred.kind, csrf_token=cred.csrf_token)
    _cache.put(h, principal)
    return principal


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

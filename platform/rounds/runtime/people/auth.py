"""Signing in: argon2 password hashes, sessions and API tokens, sign-ins throttled.

Credentials are random tokens; only their SHA-256 is stored. A session (cookie) carries a
CSRF token that every state-changing request made with the cookie must echo in the
``X-CSRF-Token`` header; an API token (``Authorization: Bearer``) needs none.

Resolving a token to a :class:`Principal` reads the database; the result is kept in
process memory for ``PRINCIPAL_TTL_S`` seconds so the hot path (submissions) does not pay a
query per request. A change that ends or alters principals (a deactivation, a new password)
calls :func:`forget_principals_after_commit`: the cache is emptied once the transaction has
committed, in this process at once and, when Redis is configured, in every API process
before the request that made the change answers. Without Redis other processes notice
within ``PRINCIPAL_TTL_S``. A principal read from the database is cached only if no such
change committed while it was being read (a generation count), so a request racing the
change cannot put the old state back.

Password hashing (argon2, deliberately slow) runs on a small pool of threads, never on the
event loop, so that other requests go on while people sign in.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from rounds.db import PENDING_AWAITS, utcnow
from rounds.definitions.capabilities import of_role
from rounds.errors import TryLater
from rounds.runtime.access import NotAuthenticated, Principal
from rounds.runtime.definitions.service import role_content
from rounds.runtime.orgs.models import OrgUnit
from rounds.runtime.people import throttle
from rounds.runtime.people.models import Credential, KnownDevice, User
from rounds.settings import redis_prefix

SESSION_TTL = timedelta(hours=12)
API_TOKEN_TTL = timedelta(days=30)
PRINCIPAL_TTL_S = 30.0
MAX_USERNAME = 64
MAX_PASSWORD = 1024  # argon2 takes any length; a megabyte password would only cost us time

log = logging.getLogger("rounds.auth")
_hasher = PasswordHasher()
# argon2 releases the GIL; half the cores hash, the rest serve requests. More sign-ins than
# threads wait their turn in the pool's queue, not on the event loop.
HASH_THREADS = max(1, (os.cpu_count() or 2) // 2)
_hash_pool = ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="argon2")


class TooManyAttempts(TryLater, code="too_many_attempts", title="Too many failed sign-ins"):
    """The sign-in throttle has no slot for this attempt yet."""


class BadCredentials(NotAuthenticated, code="bad_credentials",
                     title="Wrong user name or password"):
    """No such active user, or not their password (the same answer for both)."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` on the hashing threads (for request handlers)."""
    return await asyncio.get_running_loop().run_in_executor(_hash_pool, hash_password,
                                                            password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    """:func:`verify_password` on the hashing threads (for request handlers)."""
    return await asyncio.get_running_loop().run_in_executor(
        _hash_pool, verify_password, password_hash, password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    token: str
    csrf_token: str | None
    expires_at: datetime


async def known_device(db: AsyncSession, username: str, device_token: str | None) -> bool:
    """Has ``username`` signed in on the device holding this cookie before?"""
    if not device_token:
        return False
    found = await db.execute(select(KnownDevice.user_id).join(
        User, User.id == KnownDevice.user_id).where(
        KnownDevice.token_hash == token_hash(device_token), User.username == username))
    return found.first() is not None


def throttle_keys(username: str, ip: str, device_token: str | None, known: bool
                  ) -> list[throttle.Key]:
    """The throttle's keys for an attempt, narrowest first (see ``throttle.py``)."""
    if known and device_token:
        # Only the holder of the cookie can slow this one down.
        return [throttle.key(throttle.PAIR, username, "device", token_hash(device_token))]
    return [throttle.key(throttle.PAIR, username, "ip", ip),
            throttle.key(throttle.ADDRESS, ip), throttle.key(throttle.USER, username)]


async def sign_in(db: AsyncSession, username: str, password: str, *, ip: str,
                  limiter: throttle.Throttle | None = None, device_token: str | None = None,
                  kind: str = "session") -> tuple[User, Issued]:
    """Check the password and issue a session or an API token.

    The attempt takes its throttle slots before the password is checked (TooManyAttempts
    when it may not be checked yet); the same message is given whether the user exists or
    not. ``limiter``: the app's throttle (the server's takes its slots in transactions of
    its own); by default the counters are kept in ``db``'s transaction.
    """
    if limiter is None:
        limiter = throttle.InTransactionThrottle(db)
    username, password = username[:MAX_USERNAME + 1], password[:MAX_PASSWORD + 1]
    # Until the throttle has answered, ``db`` holds no connection: the look-up and the
    # throttle each take one briefly, so parallel sign-ins never wait for a second one
    # while holding a first (which exhausts the pool).
    async with async_sessionmaker(db.bind, expire_on_commit=False)() as lookup:
        known = await known_device(lookup, username, device_token)
    keys = throttle_keys(username, ip, device_token, known)
    try:
        await limiter.take(keys)
    except throttle.Refused as exc:
        raise TooManyAttempts(
            f"too many failed sign-ins; try again in {_wait_text(exc.retry_after_s)}",
            exc.retry_after_s) from None
    user = (await db.execute(select(User).where(User.username == username))).scalar_one_or_none()
    # Verify against a dummy hash when the user is unknown, so timing does not tell.
    ok = await verify_password_async(user.password_hash if user else _DUMMY_HASH, password)
    if user is None or not ok or not user.active:
        raise BadCredentials("wrong user name or password")
    await limiter.succeeded(keys, db)
    return user, await issue(db, user.id, kind=kind)


async def remember_device(db: AsyncSession, user_id: int, device_token: str | None) -> str:
    """The device cookie to keep after ``user_id`` signed in: the one sent if it is known
    for them, else a new one (a shared phone knows each of its users)."""
    if device_token:
        row: KnownDevice | None = await db.get(KnownDevice, (token_hash(device_token), user_id))
        if row is not None:
            return device_token
    token = device_token or secrets.token_urlsafe(32)
    db.add(KnownDevice(token_hash=token_hash(token), user_id=user_id))
    return token


def _wait_text(seconds: int) -> str:
    if seconds < 90:
        return "1 second" if seconds == 1 else f"{seconds} seconds"
    return f"{(seconds + 59) // 60} minutes"


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
    forget_principals_after_commit(db)  # and in the other processes


class _PrincipalCache:
    def __init__(self, size: int = 10_000) -> None:
        self._items: dict[str, tuple[float, Principal]] = {}
        self._size = size
        self._lock = threading.Lock()
        # Bumped by every invalidation: a principal read before one is not cached after it.
        self.generation = 0

    def get(self, key: str) -> Principal | None:
        hit = self._items.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: str, principal: Principal, generation: int) -> None:
        with self._lock:
            if generation != self.generation:
                return  # read while a change committed: it may be the old state
            if len(self._items) >= self._size:
                self._items.pop(next(iter(self._items)))
            self._items[key] = (time.monotonic() + PRINCIPAL_TTL_S, principal)

    def pop(self, key: str) -> None:
        self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self.generation += 1
            self._items.clear()


_cache = _PrincipalCache()
_FORGET = "rounds.forget_principals"


def forget_principals() -> None:
    """Drop every cached principal in this process, now."""
    _cache.clear()


def forget_principals_after_commit(db: AsyncSession) -> None:
    """Drop every cached principal once ``db``'s transaction commits (nothing if it rolls
    back), here and, with Redis, in every API process.

    Not before the commit: a request reading the user meanwhile would still see the old
    state and cache it again."""
    db.sync_session.info[_FORGET] = True


class _Broadcast:
    """Tells the other API processes (Redis pub/sub); installed by the app's lifespan."""

    publish: Callable[[], Coroutine[Any, Any, None]] | None = None


@event.listens_for(Session, "after_commit")
def _forget_after_commit(session: Session) -> None:
    if not session.info.pop(_FORGET, False):
        return
    _cache.clear()
    publish = _Broadcast.publish
    if publish is None:
        return
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # a synchronous session outside the server: nothing to tell
        return
    # Awaited by the request's session dependency before it answers (see rounds.db).
    session.info.setdefault(PENDING_AWAITS, []).append(loop.create_task(publish()))


@event.listens_for(Session, "after_rollback")
def _keep_after_rollback(session: Session) -> None:
    session.info.pop(_FORGET, None)


async def listen_for_invalidations(redis_url: str) -> Callable[[], Awaitable[None]]:
    """Share invalidations with the other API processes through Redis; returns ``stop``.

    While Redis is away the cache is emptied on reconnecting (a message may have been
    missed), and principals are cached only until then."""
    from redis.asyncio import Redis

    channel = f"{redis_prefix(redis_url)}principals"
    client: Any = Redis.from_url(redis_url, socket_connect_timeout=5)
    ready = asyncio.Event()

    async def publish() -> None:
        try:
            async with asyncio.timeout(5):
                await client.publish(channel, b"forget")
        except Exception:  # Redis away: the others fall back on the TTL
            log.warning("could not tell other processes to forget principals", exc_info=True)

    async def listen() -> None:
        while True:
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(channel)
                _cache.clear()  # whatever was missed while not subscribed
                ready.set()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        _cache.clear()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("principal invalidations: Redis unreachable; retrying",
                            exc_info=True)
                await asyncio.sleep(1)

    task = asyncio.get_running_loop().create_task(listen())
    try:
        async with asyncio.timeout(5):
            await ready.wait()
    except TimeoutError:
        log.warning("principal invalidations: not subscribed yet; going on")
    _Broadcast.publish = publish

    async def stop() -> None:
        _Broadcast.publish = None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        await client.aclose()

    return stop


async def principal_for(db: AsyncSession, user: User, *, credential: str = "session",
                        csrf_token: str | None = None) -> Principal:
    role = await role_content(db, user.role_id)
    unit = await db.get(OrgUnit, user.org_unit_id)
    check_in = role.get("check_in") or {}
    return Principal(
        user_id=user.id, username=user.username, display_name=user.display_name,
        role_id=user.role_id, role_title=dict(role.get("title") or {}),
        capabilities=of_role(user.role_id, role.get("capabilities")),
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
    generation = _cache.generation
    cred = await db.get(Credential, h)
    if cred is None or cred.revoked or cred.expires_at < utcnow():
        raise NotAuthenticated("your session has ended; please sign in again")
    user = await db.get(User, cred.user_id)
    if user is None or not user.active:
        raise NotAuthenticated("this account is not active")
    principal = await principal_for(db, user, credential=cred.kind, csrf_token=cred.csrf_token)
    _cache.put(h, principal, generation)
    return principal


_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))

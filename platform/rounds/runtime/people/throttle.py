"""The sign-in throttle: exponential back-off per key, the slot taken before the password
is checked, in one atomic step.

A sign-in attempt is checked only if it can take a slot on each of its keys:

- ``pair``: the username with the address it comes from, or with the known device it comes
  from (a ``rounds_device`` cookie set by an earlier sign-in). Only the requester's own
  attempts slow it down: an attacker elsewhere cannot lock the user out.
- ``user``: the username from anywhere, a much larger budget, so that guessing one user's
  password from many addresses stays slow. Known devices do not take part.
- ``address``: the address for any username, so that one address cannot try many users.
  Known devices do not take part, so a station behind one NAT address keeps signing in.

Each key lets ``free`` attempts through, then waits ``base_s``, twice that, and so on up to
``cap_s`` before the next one is checked (back-off, not a hard lock); a key that has seen
no attempt for ``window_s`` starts afresh. Attempts refused by the throttle do not count,
so flooding cannot push the back-off further out. A successful sign-in clears the pair and
user keys and gives its slot back to the address key.

Taking a slot is one ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING`` in a transaction of
its own (committed before the password is checked), or one Lua script on Redis when
``ROUNDS_REDIS_URL`` is set: parallel attempts each see the count the others left.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import ColumnElement, case, delete, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from rounds.runtime.people.models import SignInThrottle
from rounds.runtime.sql import writer_lock
from rounds.settings import redis_prefix


@dataclass(frozen=True)
class Policy:
    name: str
    free: int  # attempts checked without waiting
    base_s: float  # the first wait after those
    cap_s: float  # the longest wait
    window_s: float  # a key idle this long starts afresh
    refund_on_success: bool = False  # give a successful attempt's slot back, keep the rest

    def delay(self, attempts: int) -> float:
        """The wait after the ``attempts``-th attempt before the next one is checked."""
        if attempts < self.free:
            return 0.0
        return min(self.cap_s, self.base_s * 2.0 ** min(attempts - self.free, 40))

    def ladder(self) -> list[tuple[int, float]]:
        """(attempts, delay) for every count before the delay reaches the cap."""
        steps: list[tuple[int, float]] = []
        n = self.free
        while self.delay(n) < self.cap_s:
            steps.append((n, self.delay(n)))
            n += 1
        return steps


PAIR = Policy("pair", free=5, base_s=1.0, cap_s=15 * 60.0, window_s=3600.0)
USER = Policy("user", free=20, base_s=1.0, cap_s=15 * 60.0, window_s=3600.0)
ADDRESS = Policy("address", free=30, base_s=1.0, cap_s=5 * 60.0, window_s=3600.0,
                 refund_on_success=True)


@dataclass(frozen=True)
class Key:
    policy: Policy
    key: str


def key(policy: Policy, *parts: str) -> Key:
    """A fixed-length key: usernames and addresses are the caller's, of any length."""
    digest = hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:40]
    return Key(policy, f"{policy.name}:{digest}")


class Refused(Exception):
    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"retry after {retry_after_s} s")
        self.retry_after_s = retry_after_s


class Throttle(Protocol):
    async def take(self, keys: list[Key]) -> None:
        """Take a slot on every key, in order; ``Refused`` at the first that has none (the
        keys after it are not touched)."""

    async def succeeded(self, keys: list[Key], db: AsyncSession) -> None:
        """The attempt that took these slots signed in (in ``db``'s transaction, which
        issues the session: one connection per sign-in at a time)."""


def _retry_after(next_at: float, now: float) -> int:
    return max(1, math.ceil(next_at - now))


def take_statement(dialect_name: str, k: Key, now: float, token: str) -> Any:
    """Take a slot on ``k`` if it has one: ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING
    token, next_at``; the slot is ours if the token returned is ours."""
    t = SignInThrottle.__table__.c
    p = k.policy

    def next_at(attempts: ColumnElement[int] | int) -> Any:
        # When the attempt after this one may be checked: 0 (at once) within the free
        # attempts, so that racing free attempts never refuse each other.
        whens: list[tuple[Any, Any]] = [(attempts < p.free, 0.0)]
        whens += [(attempts == n, now + d) for n, d in p.ladder()]
        return case(*whens, else_=now + p.cap_s)

    stale = t.last_at < now - p.window_s
    open_ = t.next_at <= now
    took = or_(stale, open_)
    dialect: Any = postgresql if dialect_name == "postgresql" else sqlite
    return dialect.insert(SignInThrottle.__table__).values(
        key=k.key, attempts=1, next_at=0.0 if p.free > 1 else now + p.delay(1),
        last_at=now, token=token,
    ).on_conflict_do_update(index_elements=["key"], set_={
        "attempts": case((stale, 1), (open_, t.attempts + 1), else_=t.attempts),
        "next_at": case((stale, next_at(1)), (open_, next_at(t.attempts + 1)),
                        else_=t.next_at),
        "last_at": case((took, now), else_=t.last_at),
        "token": case((took, token), else_=t.token),
    }).returning(t.token, t.next_at)


class SqlThrottle:
    """Counters in the ``sign_in_throttle`` table."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine) -> None:
        self.sessions = sessions
        self.engine = engine

    def _statement(self, k: Key, now: float, token: str) -> Any:
        return take_statement(self.engine.dialect.name, k, now, token)

    async def take(self, keys: list[Key]) -> None:
        async with writer_lock(self.engine), self.sessions() as db, db.begin():
            for k in keys:
                now = time.time()
                token = secrets.token_hex(16)
                mine, next_at = (await db.execute(self._statement(k, now, token))).one()
                if mine != token:
                    # Raised inside the transaction, which rolls back the slots taken on
                    # the keys before this one: an attempt not checked counts nowhere.
                    raise Refused(_retry_after(float(next_at), now))

    async def succeeded(self, keys: list[Key], db: AsyncSession) -> None:
        await clear(db, keys)


async def clear(db: AsyncSession, keys: list[Key]) -> None:
    """After a successful sign-in: the keys start afresh, or give the slot back."""
    t = SignInThrottle.__table__.c
    for k in keys:
        if k.policy.refund_on_success:
            await db.execute(update(SignInThrottle).where(
                t.key == k.key, t.attempts > 0).values(attempts=t.attempts - 1))
        else:
            await db.execute(delete(SignInThrottle).where(t.key == k.key))


class InTransactionThrottle:
    """The same counters, in the caller's transaction: for scripts and tests that sign in
    inside a transaction of their own (a second connection would wait for the locks theirs
    holds). Not for the server: its slots count only when the caller commits."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def take(self, keys: list[Key]) -> None:
        name = self.db.get_bind().dialect.name
        for k in keys:
            now = time.time()
            token = secrets.token_hex(16)
            mine, next_at = (await self.db.execute(take_statement(name, k, now, token))).one()
            if mine != token:
                raise Refused(_retry_after(float(next_at), now))

    async def succeeded(self, keys: list[Key], db: AsyncSession) -> None:
        await clear(db, keys)


# Every key's slot in one script, all or none. ARGV: now, then per key: free, window,
# cap, the ladder's length and its delays (from ``free`` attempts on).
_TAKE_LUA = """
local now = tonumber(ARGV[1])
local states = {}
local at = 2
for i = 1, #KEYS do
  local free = tonumber(ARGV[at]); local window = tonumber(ARGV[at + 1])
  local cap = tonumber(ARGV[at + 2]); local len = tonumber(ARGV[at + 3])
  local h = redis.call('HMGET', KEYS[i], 'a', 'n', 'l')
  local a = tonumber(h[1]) or 0
  local n = tonumber(h[2]) or 0
  local l = tonumber(h[3]) or 0
  if now - l >= window then a = 0; n = 0 end
  if n > now then return {0, tostring(n)} end
  a = a + 1
  local d = 0
  if a >= free then
    if a - free < len then d = tonumber(ARGV[at + 4 + a - free]) else d = cap end
  end
  if d > 0 then n = now + d else n = 0 end
  states[i] = {a, n, math.ceil(window + cap)}
  at = at + 4 + len
end
for i = 1, #KEYS do
  local s = states[i]
  redis.call('HSET', KEYS[i], 'a', s[1], 'n', tostring(s[2]), 'l', tostring(now))
  redis.call('EXPIRE', KEYS[i], s[3])
end
return {1, '0'}
"""

_REFUND_LUA = """
if tonumber(redis.call('HGET', KEYS[1], 'a') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'a', -1)
end
return 1
"""


class RedisThrottle:
    """Counters in Redis hashes, each taken by one Lua script (atomic on the server)."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self.client: Any = Redis.from_url(url, socket_connect_timeout=5, socket_timeout=5)
        # The same database-number prefix as the live pushes: installations sharing a server
        # on different database numbers keep apart anyway (keys are per database), but the
        # prefix makes the keys easy to find.
        self.prefix = f"{redis_prefix(url) or 'rounds.'}throttle:"
        self._take = self.client.register_script(_TAKE_LUA)
        self._refund = self.client.register_script(_REFUND_LUA)

    async def take(self, keys: list[Key]) -> None:
        now = time.time()
        args: list[Any] = [repr(now)]
        for k in keys:
            ladder = [d for _, d in k.policy.ladder()]
            args += [k.policy.free, k.policy.window_s, k.policy.cap_s, len(ladder), *ladder]
        ok, next_at = await self._take(keys=[self.prefix + k.key for k in keys], args=args)
        if not int(ok):
            raise Refused(_retry_after(float(next_at), now))

    async def succeeded(self, keys: list[Key], db: AsyncSession) -> None:
        for k in keys:
            if k.policy.refund_on_success:
                await self._refund(keys=[self.prefix + k.key], args=[])
            else:
                await self.client.delete(self.prefix + k.key)

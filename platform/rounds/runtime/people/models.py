"""Users, their credentials (sessions and API tokens), the devices they signed in on and
the sign-in throttle's counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role_id: Mapped[str] = mapped_column(String(64), index=True)  # a role definition's id
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    # For users who act for one site (a retailer's own account): their shop.
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    phone: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(200))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Credential(Base):
    """A session (cookie, for pages) or an API token (bearer), stored only as a hash."""

    __tablename__ = "credentials"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "session" or "api"
    csrf_token: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked: Mapped[bool] = mapped_column(Boolean, default=False)


class KnownDevice(Base):
    """A browser (or app) a user has signed in on: its ``rounds_device`` cookie, hashed.

    A sign-in from a known device is throttled on its own (user, device) counter, so that
    nobody without the cookie can slow it down (see ``people/throttle.py``)."""

    __tablename__ = "known_devices"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SignInThrottle(Base):
    """One throttle counter (a username and address, a username, an address...).

    Times are Unix seconds (floats) so that one ``INSERT ... ON CONFLICT DO UPDATE`` can
    compare and add them the same way on SQLite and PostgreSQL."""

    __tablename__ = "sign_in_throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    attempts: Mapped[int] = mapped_column(Integer)  # checked in the current window
    next_at: Mapped[float] = mapped_column(Float)  # no attempt is checked before this
    last_at: Mapped[float] = mapped_column(Float)  # the last attempt checked
    token: Mapped[str] = mapped_column(String(32))  # which request took the last slot

"""Monthly visit plans and visits (a check-in, then a check-out)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow


class PlannedVisit(Base):
    """How many times a staff member should visit a site in a month (from the role's targets),
    and the frequency it comes from: ``per_visits`` visits per ``per`` (``day``, ``week``,
    ``month``, ``quarter``, ``year``), which "my day" follows (a weekly visit is due each week)."""

    __tablename__ = "planned_visits"
    __table_args__ = (UniqueConstraint("month", "user_id", "site_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    month: Mapped[str] = mapped_column(String(7), index=True)  # "2026-11"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    visits: Mapped[int] = mapped_column(Integer)
    per: Mapped[str] = mapped_column(String(8), default="month", server_default="month")
    per_visits: Mapped[int | None] = mapped_column(Integer)


class Visit(Base):
    """Being at a site: checked in (by QR code or GPS), then checked out.

    A check-in farther than the role's radius or with poor accuracy is accepted and flagged,
    never refused; supervisors see the flags.
    """

    __tablename__ = "visits"
    __table_args__ = (Index("ix_visits_user_open", "user_id", "checked_out_at"),
                      Index("ix_visits_site_at", "site_id", "checked_in_at"),
                      # The query store's refresh reads visits by when they changed.
                      Index("ix_visits_checked_in_at", "checked_in_at"),
                      Index("ix_visits_checked_out_at", "checked_out_at"),
                      # At most one open visit per person, enforced by the database so two
                      # check-ins racing each other cannot both win (partial index: SQLite
                      # and PostgreSQL both have them).
                      Index("uq_visits_user_open", "user_id", unique=True,
                            sqlite_where=text("checked_out_at IS NULL"),
                            postgresql_where=text("checked_out_at IS NULL")))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    method: Mapped[str] = mapped_column(String(8))  # "qr" or "gps"
    checked_in_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)
    flags: Mapped[dict[str, Any]]  # {"far": true, "poor_accuracy": true, ...}
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
    checked_out_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    duration_s: Mapped[int | None] = mapped_column(Integer)

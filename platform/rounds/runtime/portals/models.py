"""The company's notices to those outside it: product and policy notices for consumers,
and notices for retailers (all of them, or those of a unit and the units below).

A notice is stored in both languages (``title`` and ``body`` as ``{"zh": .., "en": ..}``;
English may be left out and falls back to Chinese), so each reader sees their own."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow

# Who a notice is for (``audience``).
FOR_RETAILERS = "retailer"
FOR_CONSUMERS = "consumer"
FOR_EVERYONE = "all"
NOTICE_AUDIENCES = (FOR_RETAILERS, FOR_CONSUMERS, FOR_EVERYONE)

# What it is about (``topic``).
NOTICE_TOPICS = ("product", "policy", "service")


class Notice(Base):
    """One notice, shown from ``published_at`` until ``expires_at`` (none: until withdrawn)."""

    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_audience_published", "audience", "published_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    audience: Mapped[str] = mapped_column(String(16))
    topic: Mapped[str] = mapped_column(String(16))
    title: Mapped[dict[str, Any]]  # {"zh": .., "en": ..}
    body: Mapped[dict[str, Any]]
    # retailers of this unit and the units below only; none: every reader of the audience
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    published_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

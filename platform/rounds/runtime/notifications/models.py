"""A user's inbox."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow


class Notification(Base):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_read", "user_id", "read_at"),
                      Index("ix_notifications_pushed", "pushed_at", "id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(32))  # issue_assigned, issue_due_soon, ...
    message: Mapped[dict[str, Any]]  # {"zh": "...", "en": "..."}
    link: Mapped[str] = mapped_column(String(300), default="")
    issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"))
    # Makes creation idempotent: a retried task or a second reconciliation adds nothing.
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # When it was published to live pages (None: not yet; a reconciliation publishes it).
    pushed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

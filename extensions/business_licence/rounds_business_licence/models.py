"""The extension's table: each verification of a site's business licence, kept (the latest is
the site's current result; the earlier ones are its history)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, JSONDocument, UtcDateTime, utcnow

PASSED, WARNING, FAILED = "passed", "warning", "failed"
OUTCOMES = (PASSED, WARNING, FAILED)
# What each check found: ``warning`` is the expiry's "soon" (the check stands but needs
# attention); ``not_made`` says a check could not be made (no registry, no record to compare).
OK, WARN, NOT_OK, NOT_MADE = "ok", "warning", "failed", "not_made"


class LicenceCheck(Base):
    __tablename__ = "licence_checks"
    __table_args__ = (Index("ix_licence_checks_site_id_id", "site_id", "id"),
                      Index("ix_licence_checks_code", "code"),
                      Index("ix_licence_checks_expires_on", "expires_on"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    code: Mapped[str] = mapped_column(String(18))  # the USCC as entered (upper-cased)
    holder: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    expires_on: Mapped[date | None] = mapped_column(Date)  # None: 长期 (no end date)
    photo_id: Mapped[str | None] = mapped_column(ForeignKey("photos.id"))
    checked_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    checked_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    outcome: Mapped[str] = mapped_column(String(16))
    # [{"check", "result", "detail": {"key", "params"}}]: words are looked up when shown.
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument)
    # What the registry answered (``{"found": false}`` for a code it does not know), or None
    # (no registry, or not reachable). ``registry`` is the declarative base's own name.
    registry_answer: Mapped[dict[str, Any] | None] = mapped_column("registry", JSONDocument)
    # The issue opened before this licence expires (at most one per check: the reconciler).
    expiry_issue_id: Mapped[int | None] = mapped_column(ForeignKey("issues.id"))

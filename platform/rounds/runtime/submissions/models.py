"""Submissions and their failed items (which the issues module turns into issues)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow


def _stored_time(context: Any) -> datetime:
    """``happened_at`` left out: when the row was stored (its ``submitted_at``)."""
    given = context.get_current_parameters().get("submitted_at")
    return given if isinstance(given, datetime) else utcnow()


class Submission(Base):
    """One filled form. The id comes from the client (a UUID), so a retry after a lost
    connection finds the stored submission instead of making a second one; ``body_hash``
    tells a true retry (same content) from a conflicting reuse of the id (409)."""

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_user_at", "user_id", "submitted_at"),
                      Index("ix_submissions_site_at", "site_id", "submitted_at"),
                      Index("ix_submissions_submitted_at", "submitted_at"),
                      Index("ix_submissions_happened_at", "happened_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    definition_id: Mapped[str] = mapped_column(String(64), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    content_hash: Mapped[str] = mapped_column(String(64))  # the definition version's hash
    answers: Mapped[dict[str, Any]]
    evidence: Mapped[dict[str, Any]]
    # Full precision: rounding is for display only (the definition's ``scoring.digits``).
    total: Mapped[float | None] = mapped_column(Float)
    max_total: Mapped[float | None] = mapped_column(Float)
    percentage: Mapped[float | None] = mapped_column(Float)  # only in the percentage model
    passed: Mapped[bool | None] = mapped_column(Boolean)
    # The score in the definition's model (percentage, sum or mean) and which way is better:
    # lists and dashboards rank by them without reading the evaluation.
    score_value: Mapped[float | None] = mapped_column(Float)
    score_model: Mapped[str] = mapped_column(String(16), default="percentage",
                                             server_default="percentage")
    direction: Mapped[str] = mapped_column(String(16), default="higher_better",
                                           server_default="higher_better")
    outcome: Mapped[str | None] = mapped_column(String(64))  # the first outcome's level id
    evaluation: Mapped[dict[str, Any]]  # scores per section and item, explanation, alerts
    alert_count: Mapped[int] = mapped_column(Integer, default=0)
    failed_count: Mapped[int] = mapped_column(Integer, default=0)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)  # stored
    # When the work was done: the visit's check-in, else when it was stored (a phone that was
    # offline will send its own time). The query store files the submission under this day,
    # however late it arrives; ``submitted_at`` tells the refresh what is new.
    happened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=_stored_time,
                                                  nullable=True)


class FailedItem(Base):
    """An item that failed in a submission: the seed of a closed-loop issue."""

    __tablename__ = "failed_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"), index=True)
    item_id: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SubmissionPhoto(Base):
    """A photo a submission refers to (in an answer or its evidence): who may see a photo
    follows from the submissions that use it."""

    __tablename__ = "submission_photos"
    __table_args__ = (PrimaryKeyConstraint("submission_id", "photo_id"),)

    submission_id: Mapped[str] = mapped_column(ForeignKey("submissions.id"))
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id"), index=True)

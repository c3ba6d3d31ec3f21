"""Issues and their events (the audit trail)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, PrimaryKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow

# The states of an issue, in the order of the loop.
OPEN = "open"
ASSIGNED = "assigned"
IN_PROGRESS = "in_progress"
RECTIFIED = "rectified"  # the assignee signed: done, with evidence
VERIFIED = "verified"  # the assigner signed: checked
CLOSED = "closed"
CANCELLED = "cancelled"
STATES = (OPEN, ASSIGNED, IN_PROGRESS, RECTIFIED, VERIFIED, CLOSED, CANCELLED)
ACTIVE = (OPEN, ASSIGNED, IN_PROGRESS, RECTIFIED)  # still needs someone to act


class Issue(Base):
    __tablename__ = "issues"
    __table_args__ = (Index("ix_issues_status_due", "status", "due_at"),
                      Index("ix_issues_assignee_status", "assignee_id", "status"),
                      Index("ix_issues_org_unit_status", "org_unit_id", "status"),
                      # The query store recomputes an issue's days when it changes.
                      Index("ix_issues_updated_at", "updated_at"),
                      Index("ix_issues_created_at", "created_at"),
                      Index("ix_issues_closed_at", "closed_at"),
                      Index("ix_issues_due_at", "due_at"),
                      Index("ix_issues_escalated_at", "escalated_at"),
                      Index("ix_issues_assignee_signed_at", "assignee_signed_at"),
                      Index("ix_issues_assigner_signed_at", "assigner_signed_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(300))
    # The title in both languages ({"zh", "en"}) where it came from a definition, so that
    # each reader sees their own; ``title`` keeps one of them (for search and sorting).
    titles: Mapped[dict[str, Any] | None]
    description: Mapped[str] = mapped_column(Text, default="")
    # failed_item (from a submission), assigned (交办 by a supervisor), complaint, suggestion
    source: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))  # low, medium, high, critical
    priority: Mapped[int] = mapped_column(Integer, default=2)  # 1 urgent … 4 low
    status: Mapped[str] = mapped_column(String(16), default=OPEN)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    submission_id: Mapped[str | None] = mapped_column(ForeignKey("submissions.id"))
    # One issue per failed item at most: creating issues from a submission is idempotent.
    failed_item_id: Mapped[int | None] = mapped_column(ForeignKey("failed_items.id"),
                                                       unique=True)
    definition_id: Mapped[str | None] = mapped_column(String(64))
    item_id: Mapped[str | None] = mapped_column(String(64))
    assigner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    assignee_signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    assigner_signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # The retailer who raised it confirms the fix (a party to the sign-off of what it raised).
    reporter_signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Reminders and escalations are recomputed from these by the periodic reconciliation.
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalation_level: Mapped[int] = mapped_column(Integer, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalated_to_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic locking


class IssueEvent(Base):
    """Who did what to an issue, when and why: appended, never changed or deleted."""

    __tablename__ = "issue_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # None: the system
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]]  # evidence {"note", "photos"}, reassignment, escalation...


class IssuePhoto(Base):
    """A photo an issue's event refers to (evidence, feedback, a comment): who may see it
    follows from the issue, and the cleanup of unused photos keeps it."""

    __tablename__ = "issue_photos"
    __table_args__ = (PrimaryKeyConstraint("issue_id", "photo_id"),)

    issue_id: Mapped[int] = mapped_column(ForeignKey("issues.id"))
    photo_id: Mapped[str] = mapped_column(ForeignKey("photos.id"), index=True)

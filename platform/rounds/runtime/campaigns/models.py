"""Check campaigns, their draws and the assignments a draw makes.

A draw and its assignments are a public record: once written they never change. The
service refuses to change them; the one column ever set afterwards is a draw's
``superseded_by``, set once (from null) when a re-draw replaces it, so the first draw is
kept and anyone can still verify it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow

DRAFT = "draft"
DRAWN = "drawn"
CLOSED = "closed"


class CheckCampaign(Base):
    """A campaign: its spec as checked (``rounds.draws.check_spec``), the standard it uses
    and its status (``draft``, ``drawn``, ``closed``: a closed campaign takes no change)."""

    __tablename__ = "check_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    standard_id: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]]
    # The period, out of the spec: its days, and the instants they begin and end in the
    # company's time zone, which the scope condition compares with the database's clock
    # (a date compared in SQL would be the database's day: UTC on SQLite).
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    opens_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(8), default=DRAFT, index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class CampaignDraw(Base):
    """One draw, as published: the inputs' exact bytes (the digest covers them), the seed
    and the result. Never changed; ``superseded_by`` is set once by a re-draw."""

    __tablename__ = "campaign_draws"
    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("check_campaigns.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1 for the first draw, 2 for a re-draw...
    algorithm: Mapped[str] = mapped_column(String(32))
    inputs: Mapped[bytes] = mapped_column(LargeBinary)  # the JSON bytes exactly as published
    inputs_digest: Mapped[str] = mapped_column(String(64))
    seed: Mapped[str] = mapped_column(String(128))  # hex
    result: Mapped[dict[str, Any]]
    drawn_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    drawn_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    reason: Mapped[str | None] = mapped_column(Text)  # required for a re-draw
    superseded_by: Mapped[int | None] = mapped_column(ForeignKey("campaign_draws.id"))


class CampaignAssignment(Base):
    """A drawn site and its team (the lead, and the second inspector of a team of two);
    no team when the draw found none. Never changed: the visits and submissions that work
    it are matched by site, inspector and period."""

    __tablename__ = "campaign_assignments"
    __table_args__ = (UniqueConstraint("draw_id", "site_id"),
                      Index("ix_campaign_assignments_lead", "lead_id"),
                      Index("ix_campaign_assignments_second", "second_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    draw_id: Mapped[int] = mapped_column(ForeignKey("campaign_draws.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"))
    stratum: Mapped[str] = mapped_column(String(64))
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    second_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

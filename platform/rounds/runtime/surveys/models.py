"""Survey campaigns and their responses.

A campaign pins the survey *version* it asks (immutable, like every published version), so
every response of a campaign answers the same questions and its results compare. A response
is stored once, by the id its client chose (a retry finds the stored one), with its score in
the survey's model, and with whom it is about: the shop (a consumer scanning a shop's code,
or the retailer answering), the shop's unit (station figures), and, for a survey that
follows a visit, that visit and the staff member who made it.

Anonymous responses keep no person: ``user_id`` is null, and what makes them one per person
is the single-use token's nonce (unique) or a hash of the device's cookie (unique within the
campaign) -- never an address or a name.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow

# Who a campaign asks (``audience``), and who answered (``respondent``).
RETAILER = "retailer"
CONSUMER = "consumer"
INDUSTRY = "industry"
AUDIENCES = (RETAILER, CONSUMER, INDUSTRY)

# A campaign's life: drafted, open for answers (from ``opens_at``), closed.
DRAFT = "draft"
OPEN = "open"
CLOSED = "closed"

# What keeps an anonymous respondent to one response (``one_per``).
PER_TOKEN = "token"    # a single-use signed token per response
PER_DEVICE = "device"  # a signed link shared by many, one response per device's cookie


class SurveyCampaign(Base):
    """One survey asked of an audience over a period, with a target number of responses.

    ``targeting`` narrows a retailer campaign: ``{"org_units": [ids] (with the units below),
    "grades": [..]}``, either or both, empty for every retailer. ``follow_visit`` offers the
    survey to a shop after each visit: ``{"within_days": 3, "roles": ["customer_manager"]}``
    (the visitors' roles; the response is then about that visit and that staff member).
    """

    __tablename__ = "survey_campaigns"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    title: Mapped[str] = mapped_column(String(200))
    survey_id: Mapped[str] = mapped_column(String(64), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    audience: Mapped[str] = mapped_column(String(16))
    targeting: Mapped[dict[str, Any]]
    follow_visit: Mapped[dict[str, Any] | None]
    one_per: Mapped[str] = mapped_column(String(8), default=PER_DEVICE)
    target_responses: Mapped[int] = mapped_column(Integer)
    # The period's days, and the instants they begin and end in the company's time zone.
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    opens_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[str] = mapped_column(String(8), default=DRAFT, index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class SurveyResponse(Base):
    """One answered survey of a campaign, scored; stored once by its client's id."""

    __tablename__ = "survey_responses"
    __table_args__ = (Index("ix_survey_responses_campaign_at", "campaign_id", "submitted_at"),
                      Index("ix_survey_responses_site_at", "site_id", "submitted_at"),
                      Index("ix_survey_responses_happened_at", "happened_at"),
                      Index("ix_survey_responses_user", "user_id"),
                      # one response per device in a campaign (nulls are distinct)
                      UniqueConstraint("campaign_id", "device_hash"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    body_hash: Mapped[str] = mapped_column(String(64))
    campaign_id: Mapped[int] = mapped_column(ForeignKey("survey_campaigns.id"))
    definition_id: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    respondent: Mapped[str] = mapped_column(String(16))  # retailer, consumer, industry
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # null: anonymous
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))  # the shop it is about
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))  # the shop's
    about_visit_id: Mapped[int | None] = mapped_column(ForeignKey("visits.id"))
    about_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    token_nonce: Mapped[str | None] = mapped_column(String(64), unique=True)
    device_hash: Mapped[str | None] = mapped_column(String(64))
    answers: Mapped[dict[str, Any]]
    evaluation: Mapped[dict[str, Any]]
    total: Mapped[float | None] = mapped_column(Float)
    max_total: Mapped[float | None] = mapped_column(Float)
    percentage: Mapped[float | None] = mapped_column(Float)
    score_value: Mapped[float | None] = mapped_column(Float)
    score_model: Mapped[str] = mapped_column(String(16), default="percentage")
    direction: Mapped[str] = mapped_column(String(16), default="higher_better")
    outcome: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    happened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SurveyLinkKey(Base):
    """The key that signs public survey links when ``ROUNDS_SURVEYS_LINK_KEY`` is not set:
    made once (the one row, ``id`` 1), so printed links stay valid across restarts and
    processes."""

    __tablename__ = "survey_link_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

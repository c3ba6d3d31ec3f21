"""The tables of the retail licence extension: applications and every step taken on them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow


class LicenceApplication(Base):
    """One application for a tobacco retail licence (烟草专卖零售许可证).

    ``site_id`` is the applicant's shop when it has one; an applicant without a shop yet
    gives its name, address and position, and the shop (a site of kind ``retailer``) is
    made when the licence is issued. ``documents`` is ``[{"kind": "id_card", "photo_id":
    ...}, ...]`` (photos uploaded through the core's ``/api/photos``)."""

    __tablename__ = "licence_applications"
    __table_args__ = (Index("ix_licence_applications_state_deadline", "state", "deadline"),
                      Index("ix_licence_applications_valid_until", "state", "valid_until"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)  # 申请编号 shown to people
    applicant_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    state: Mapped[str] = mapped_column(String(32))
    shop_name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200))
    owner_name: Mapped[str] = mapped_column(String(50))
    phone: Mapped[str] = mapped_column(String(20), default="")
    business_type: Mapped[str] = mapped_column(String(32))
    market_area: Mapped[str] = mapped_column(String(16))  # urban / rural: the distance rule
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    documents: Mapped[dict[str, Any]]  # {"items": [{"kind", "photo_id"}]}
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    deadline: Mapped[date] = mapped_column(Date)  # the statutory limit, in working days
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    inspection_on: Mapped[date | None] = mapped_column(Date)
    inspection: Mapped[dict[str, Any] | None]  # answers, evidence and result of the standard
    decision: Mapped[str | None] = mapped_column(String(16))  # grant / refuse
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decision_note: Mapped[str] = mapped_column(Text, default="")
    licence_number: Mapped[str | None] = mapped_column(String(12), unique=True)
    licence_scope: Mapped[str] = mapped_column(String(200), default="")
    valid_from: Mapped[date | None] = mapped_column(Date)
    valid_until: Mapped[date | None] = mapped_column(Date)
    # What the periodic jobs did already (they also dedupe the notices themselves).
    reminded_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # Optimistic concurrency: every UPDATE says which version it changes (two reviewers
    # taking a step at once: the second is refused, never both applied).
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 (SQLAlchemy reads a dict)


class LicenceApplicationEvent(Base):
    """A step of an application: who took it, when, from which state to which."""

    __tablename__ = "licence_application_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[int] = mapped_column(
        ForeignKey("licence_applications.id",
                   name="fk_licence_application_events_application"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str | None] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")


class LicenceApplicationPhoto(Base):
    """A photo an application uses (a document, or the inspection's): who may see it, and
    that the cleanup of unused photos keeps it."""

    __tablename__ = "licence_application_photos"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("licence_applications.id", name="fk_licence_application_photos_application"),
        primary_key=True)
    photo_id: Mapped[str] = mapped_column(
        ForeignKey("photos.id", name="fk_licence_application_photos_photo"), primary_key=True,
        index=True)

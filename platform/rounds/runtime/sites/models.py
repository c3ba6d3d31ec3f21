"""Sites and who is assigned to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_kind: Mapped[str] = mapped_column(String(64), index=True)  # a site_kind definition id
    code: Mapped[str] = mapped_column(String(64), unique=True)  # licence number or site code
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(500), default="")
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    # The secret printed in the shop's QR code: scanning it proves presence at check-in.
    qr_token: Mapped[str] = mapped_column(String(64), unique=True)
    attributes: Mapped[dict[str, Any]]  # what the site kind defines (grade, delivery cycle...)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SiteAssignment(Base):
    """Which staff member serves a site, for each role (the retailer's customer manager...)."""

    __tablename__ = "site_assignments"
    __table_args__ = (UniqueConstraint("site_id", "role_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    role_id: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)

"""Org units as a tree, with a materialised path so a subtree is one indexed prefix query."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow


class OrgUnit(Base):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)  # stable, used by CSV imports
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    kind: Mapped[str] = mapped_column(String(32))  # city, station, market_department, area...
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    # "/1/4/9/": this unit and its ancestors; `path LIKE '/1/4/%'` is the subtree of unit 4.
    path: Mapped[str] = mapped_column(String(500), index=True, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

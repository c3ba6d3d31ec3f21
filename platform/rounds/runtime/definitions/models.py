"""Definitions and their versions, as stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rounds.db import Base, utcnow

DRAFT = "draft"
PUBLISHED = "published"


class Definition(Base):
    """A definition's stable identity; its content lives in its versions."""

    __tablename__ = "definitions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    versions: Mapped[list[DefinitionVersion]] = relationship(
        back_populates="definition", order_by="DefinitionVersion.number", lazy="raise")


class DefinitionVersion(Base):
    """One version of a definition, identified by the hash of its content.

    A draft may change; once published a version never does (see ``service``), and a
    submission records the version id and hash it was filled against.
    """

    __tablename__ = "definition_versions"
    __table_args__ = (
        UniqueConstraint("definition_id", "number"),
        UniqueConstraint("definition_id", "content_hash"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    definition_id: Mapped[str] = mapped_column(ForeignKey("definitions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=DRAFT)
    source: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    definition: Mapped[Definition] = relationship(back_populates="versions", lazy="raise")

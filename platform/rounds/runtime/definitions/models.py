"""Definitions and their versions, as stored."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from rounds.db import Base, UtcDateTime, utcnow

DRAFT = "draft"
PUBLISHED = "published"


class Definition(Base):
    """A definition's stable identity; its content lives in its versions."""

    __tablename__ = "definitions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # The published version in force: the one whose content the files (or the admin) last
    # gave, which is not always the highest number (returning to earlier content makes
    # that version current again). No foreign key: the two tables would point at each other.
    current_version_id: Mapped[int | None] = mapped_column(Integer)
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
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    definition: Mapped[Definition] = relationship(back_populates="versions", lazy="raise")


class CurrentVersionChange(Base):
    """When a version became the current one of its definition: appended, never changed.

    Publishing a new version adds a row, and so does returning to earlier content (a
    rollback), so the history shows which version was in force when.
    """

    __tablename__ = "definition_current_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    definition_id: Mapped[str] = mapped_column(ForeignKey("definitions.id"), index=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("definition_versions.id"))
    number: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    # published (a new or draft version), restored (earlier content again)
    reason: Mapped[str] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(String(500))

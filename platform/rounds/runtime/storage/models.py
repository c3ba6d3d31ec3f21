"""Uploaded photos (decoded, re-encoded, content-addressed) and the log of upload attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow


class Photo(Base):
    __tablename__ = "photos"
    __table_args__ = (Index("ix_photos_uploader_at", "uploaded_by", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the reference answers use
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    width: Mapped[int | None] = mapped_column(Integer)  # None: stored before images were decoded
    height: Mapped[int | None] = mapped_column(Integer)


class PhotoUpload(Base):
    """One upload attempt, kept a day: the per-user rate counts refused attempts too (each
    costs a decode), which a count of stored photos would not."""

    __tablename__ = "photo_uploads"
    __table_args__ = (Index("ix_photo_uploads_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    size: Mapped[int] = mapped_column(Integer)

"""OKR grades as stored: a period's grade of each person and org unit, frozen once the
period is over and closed in the store; and each recompute made on purpose."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Float, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow

PERSON = "person"
ORG_UNIT = "org_unit"


class OkrGrade(Base):
    """One subject's grade on one OKR for one period, with the whole result (each key
    result's value, the facts it came from, grade, score and weight) in ``result``."""

    __tablename__ = "okr_grades"
    __table_args__ = (
        UniqueConstraint("okr_id", "period", "subject_kind", "subject_id"),
        Index("ix_okr_grades_subject", "subject_kind", "subject_id", "period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    okr_id: Mapped[str] = mapped_column(String(64))
    version_id: Mapped[int] = mapped_column(Integer)  # the OKR version graded against
    period: Mapped[str] = mapped_column(String(16))  # 2026-11, 2026-Q4, 2026, 2026-W48
    subject_kind: Mapped[str] = mapped_column(String(16))  # person | org_unit
    subject_id: Mapped[int] = mapped_column(Integer)
    score: Mapped[float | None] = mapped_column(Float)  # None: no key result had a value
    grade: Mapped[str | None] = mapped_column(String(16))
    result: Mapped[dict[str, Any]]  # rounds.definitions.okr.Result.as_json()
    frozen: Mapped[bool] = mapped_column(Boolean, default=True)
    computed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class OkrRecompute(Base):
    """A period's grades computed again on purpose (``rounds okr recompute``): who, when,
    why, and what changed."""

    __tablename__ = "okr_recomputes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    okr_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(200))  # who ran it (the operator's name)
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    rows: Mapped[int] = mapped_column(Integer, default=0)  # grades written
    changed: Mapped[int] = mapped_column(Integer, default=0)  # of them, with another score
    changes: Mapped[dict[str, Any]]  # {"person:12": {"before": [0.7, "C"], "after": ...}}

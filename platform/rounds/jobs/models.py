"""The jobs' own table: the lock that lets exactly one beat send the periodic schedule."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime


class ScheduleLock(Base):
    """Who sends the periodic schedule (``rounds.jobs.schedule``), and what it last sent.

    One row per schedule (``name``, today only ``beat``). The holder renews it; anyone may
    take it once ``expires_at`` is past (its holder died or stopped). ``last_runs`` is the
    schedule's state, kept here rather than in a file beside each beat, so that whoever
    takes over goes on from the last tick sent instead of sending every task again.
    """

    __tablename__ = "schedule_locks"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))  # host:pid/token of the beat
    acquired_at: Mapped[datetime] = mapped_column(UtcDateTime())
    renewed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Entry name -> ISO time (UTC) of the tick last sent, written only by the holder.
    last_runs: Mapped[dict[str, Any]] = mapped_column(default=dict)

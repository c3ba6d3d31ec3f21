"""What the admin app stores of its own: a standard's test cases (sample answer sets).

A test case belongs to the definition, not to one version: it says what the standard must
keep doing (these answers give this score and fail these items), so it is run against every
draft before it is published. Kept in a table and not in the draft's content, because the
content is what field staff fill and what its hash identifies; a test case changing must
not make a new version, and a published version never changes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from rounds.db import Base, UtcDateTime, utcnow


class DefinitionTestCase(Base):
    """Sample answers of a standard or survey and the result they must give."""

    __tablename__ = "definition_test_cases"
    __table_args__ = (UniqueConstraint("definition_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    definition_id: Mapped[str] = mapped_column(ForeignKey("definitions.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # {"answers": {...}, "evidence": {...}} as a submission body has them
    body: Mapped[dict[str, Any]]
    # {"score": <total value or null>, "failed": [item ids, sorted]}
    expected: Mapped[dict[str, Any]]
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

"""The schedule lock: exactly one beat sends the periodic tasks

A beat holds the row of its schedule and renews it; a second beat (on any machine) waits
until the lock is released or expires. The row also keeps when each periodic task was last
sent, so a beat that takes over goes on from there (``rounds.jobs.schedule``).

Revision ID: 0011_schedule_lock
Revises: 0010_okr_grades
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0011_schedule_lock'
down_revision: str | None = '0010_okr_grades'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('schedule_locks',
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('holder', sa.String(length=255), nullable=False),
    sa.Column('acquired_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('renewed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_runs', JSONDocument, nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_schedule_locks'))
    )


def downgrade() -> None:
    op.drop_table('schedule_locks')

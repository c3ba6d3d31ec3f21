"""OKR grades: each person's and org unit's grade per OKR and period, and the recomputes

A period's grades are computed from the query store and frozen once the period is over and
closed (``rounds.runtime.okr``); ``rounds okr recompute`` computes them again on purpose and
records who did it, when, why and what changed.

Revision ID: 0010_okr_grades
Revises: 0009_query_store
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0010_okr_grades'
down_revision: str | None = '0009_query_store'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('okr_grades',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('okr_id', sa.String(length=64), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('grade', sa.String(length=16), nullable=True),
    sa.Column('result', JSONDocument, nullable=False),
    sa.Column('frozen', sa.Boolean(), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_okr_grades')),
    sa.UniqueConstraint('okr_id', 'period', 'subject_kind', 'subject_id', name=op.f('uq_okr_grades_okr_id_period_subject_kind_subject_id'))
    )
    with op.batch_alter_table('okr_grades', schema=None) as batch_op:
        batch_op.create_index('ix_okr_grades_subject', ['subject_kind', 'subject_id', 'period'], unique=False)

    op.create_table('okr_recomputes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('okr_id', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('by', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('changed', sa.Integer(), nullable=False),
    sa.Column('changes', JSONDocument, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_okr_recomputes'))
    )


def downgrade() -> None:
    op.drop_table('okr_recomputes')
    with op.batch_alter_table('okr_grades', schema=None) as batch_op:
        batch_op.drop_index('ix_okr_grades_subject')

    op.drop_table('okr_grades')

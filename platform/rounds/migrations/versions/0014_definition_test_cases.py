"""A standard's test cases: sample answers and the score and failed items they must give

Run again before each publish from the admin editor.

Revision ID: 0014_definition_test_cases
Revises: 0013_audit_trail
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0014_definition_test_cases'
down_revision: str | None = '0013_audit_trail'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('definition_test_cases',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('body', JSONDocument, nullable=False),
    sa.Column('expected', JSONDocument, nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['definition_id'], ['definitions.id'], name=op.f('fk_definition_test_cases_definition_id_definitions')),
    sa.ForeignKeyConstraint(['updated_by'], ['users.id'], name=op.f('fk_definition_test_cases_updated_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_definition_test_cases')),
    sa.UniqueConstraint('definition_id', 'name', name=op.f('uq_definition_test_cases_definition_id_name'))
    )
    with op.batch_alter_table('definition_test_cases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_definition_test_cases_definition_id'), ['definition_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('definition_test_cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_definition_test_cases_definition_id'))

    op.drop_table('definition_test_cases')

"""The company's notices to retailers and consumers; a retailer's sign-off of the fix of
what it raised; the key that signs public survey links

Revision ID: 0016_notices
Revises: 0015_survey_campaigns
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0016_notices'
down_revision: str | None = '0015_survey_campaigns'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('survey_link_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_link_keys'))
    )
    op.create_table('notices',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('topic', sa.String(length=16), nullable=False),
    sa.Column('title', JSONDocument, nullable=False),
    sa.Column('body', JSONDocument, nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_notices_created_by_users')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_notices_org_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_audience_published', ['audience', 'published_at'], unique=False)

    # Plain ALTER TABLE, not a batch: a batch rebuilds the table on SQLite, and dropping
    # ``issues`` fails its events' foreign keys once there are issues.
    op.add_column('issues', sa.Column('reporter_signed_at', sa.DateTime(timezone=True),
                                      nullable=True))

def downgrade() -> None:
    op.drop_column('issues', 'reporter_signed_at')

    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_audience_published')

    op.drop_table('notices')
    op.drop_table('survey_link_keys')

"""Check campaigns (双随机抽查): campaigns, their draws and the drawn assignments

A draw is a public record: its inputs (the exact bytes published), seed and result are
written once; a re-draw is a new draw and only sets the first one's ``superseded_by``.

Revision ID: 0012_check_campaigns
Revises: 0011_schedule_lock
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0012_check_campaigns'
down_revision: str | None = '0011_schedule_lock'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('check_campaigns',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('standard_id', sa.String(length=64), nullable=False),
    sa.Column('spec', JSONDocument, nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_check_campaigns_created_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_campaigns'))
    )
    with op.batch_alter_table('check_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_check_campaigns_status'), ['status'], unique=False)

    op.create_table('campaign_draws',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('algorithm', sa.String(length=32), nullable=False),
    sa.Column('inputs', sa.LargeBinary(), nullable=False),
    sa.Column('inputs_digest', sa.String(length=64), nullable=False),
    sa.Column('seed', sa.String(length=128), nullable=False),
    sa.Column('result', JSONDocument, nullable=False),
    sa.Column('drawn_by', sa.Integer(), nullable=False),
    sa.Column('drawn_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('superseded_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['check_campaigns.id'], name=op.f('fk_campaign_draws_campaign_id_check_campaigns')),
    sa.ForeignKeyConstraint(['drawn_by'], ['users.id'], name=op.f('fk_campaign_draws_drawn_by_users')),
    sa.ForeignKeyConstraint(['superseded_by'], ['campaign_draws.id'], name=op.f('fk_campaign_draws_superseded_by_campaign_draws')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_draws')),
    sa.UniqueConstraint('campaign_id', 'number', name=op.f('uq_campaign_draws_campaign_id_number'))
    )
    with op.batch_alter_table('campaign_draws', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaign_draws_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('campaign_assignments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('draw_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('stratum', sa.String(length=64), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('second_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['draw_id'], ['campaign_draws.id'], name=op.f('fk_campaign_assignments_draw_id_campaign_draws')),
    sa.ForeignKeyConstraint(['lead_id'], ['users.id'], name=op.f('fk_campaign_assignments_lead_id_users')),
    sa.ForeignKeyConstraint(['second_id'], ['users.id'], name=op.f('fk_campaign_assignments_second_id_users')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_campaign_assignments_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_assignments')),
    sa.UniqueConstraint('draw_id', 'site_id', name=op.f('uq_campaign_assignments_draw_id_site_id'))
    )
    with op.batch_alter_table('campaign_assignments', schema=None) as batch_op:
        batch_op.create_index('ix_campaign_assignments_lead', ['lead_id'], unique=False)
        batch_op.create_index('ix_campaign_assignments_second', ['second_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_campaign_assignments_draw_id'), ['draw_id'], unique=False)


def downgrade() -> None:
    op.drop_table('campaign_assignments')
    op.drop_table('campaign_draws')
    op.drop_table('check_campaigns')

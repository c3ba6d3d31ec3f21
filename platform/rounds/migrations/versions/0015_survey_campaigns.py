"""Survey campaigns (a survey version asked of an audience) and their responses

Revision ID: 0015_survey_campaigns
Revises: 0014_definition_test_cases
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = '0015_survey_campaigns'
down_revision: str | None = '0014_definition_test_cases'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table('survey_campaigns',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('survey_id', sa.String(length=64), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=16), nullable=False),
    sa.Column('targeting', JSONDocument, nullable=False),
    sa.Column('follow_visit', JSONDocument, nullable=True),
    sa.Column('one_per', sa.String(length=8), nullable=False),
    sa.Column('target_responses', sa.Integer(), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('opens_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closes_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], name=op.f('fk_survey_campaigns_created_by_users')),
    sa.ForeignKeyConstraint(['version_id'], ['definition_versions.id'], name=op.f('fk_survey_campaigns_version_id_definition_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_campaigns'))
    )
    with op.batch_alter_table('survey_campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_survey_campaigns_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_survey_campaigns_survey_id'), ['survey_id'], unique=False)

    op.create_table('survey_responses',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('respondent', sa.String(length=16), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('org_unit_id', sa.Integer(), nullable=True),
    sa.Column('about_visit_id', sa.Integer(), nullable=True),
    sa.Column('about_user_id', sa.Integer(), nullable=True),
    sa.Column('token_nonce', sa.String(length=64), nullable=True),
    sa.Column('device_hash', sa.String(length=64), nullable=True),
    sa.Column('answers', JSONDocument, nullable=False),
    sa.Column('evaluation', JSONDocument, nullable=False),
    sa.Column('total', sa.Float(), nullable=True),
    sa.Column('max_total', sa.Float(), nullable=True),
    sa.Column('percentage', sa.Float(), nullable=True),
    sa.Column('score_value', sa.Float(), nullable=True),
    sa.Column('score_model', sa.String(length=16), nullable=False),
    sa.Column('direction', sa.String(length=16), nullable=False),
    sa.Column('outcome', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('happened_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['about_user_id'], ['users.id'], name=op.f('fk_survey_responses_about_user_id_users')),
    sa.ForeignKeyConstraint(['about_visit_id'], ['visits.id'], name=op.f('fk_survey_responses_about_visit_id_visits')),
    sa.ForeignKeyConstraint(['campaign_id'], ['survey_campaigns.id'], name=op.f('fk_survey_responses_campaign_id_survey_campaigns')),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_survey_responses_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_survey_responses_site_id_sites')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_survey_responses_user_id_users')),
    sa.ForeignKeyConstraint(['version_id'], ['definition_versions.id'], name=op.f('fk_survey_responses_version_id_definition_versions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_survey_responses')),
    sa.UniqueConstraint('campaign_id', 'device_hash', name=op.f('uq_survey_responses_campaign_id_device_hash')),
    sa.UniqueConstraint('token_nonce', name=op.f('uq_survey_responses_token_nonce'))
    )
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.create_index('ix_survey_responses_campaign_at', ['campaign_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_survey_responses_happened_at', ['happened_at'], unique=False)
        batch_op.create_index('ix_survey_responses_site_at', ['site_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_survey_responses_user', ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('survey_responses', schema=None) as batch_op:
        batch_op.drop_index('ix_survey_responses_user')
        batch_op.drop_index('ix_survey_responses_site_at')
        batch_op.drop_index('ix_survey_responses_happened_at')
        batch_op.drop_index('ix_survey_responses_campaign_at')

    op.drop_table('survey_responses')
    with op.batch_alter_table('survey_campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_survey_campaigns_survey_id'))
        batch_op.drop_index(batch_op.f('ix_survey_campaigns_status'))

    op.drop_table('survey_campaigns')

"""the query store: facts per day, month and site, and when a submission's work was done

Dashboards and OKR grades read only these tables; a refresh rebuilds them from visits,
submissions and issues (``rounds.runtime.store``). A submission gains ``happened_at``, the
time its work was done (its visit's check-in, else when it was stored), so that data that
arrives late is filed under the day it belongs to; rows stored before this get exactly that.
The raw tables get the indexes the refresh reads them by.

Revision ID: 0009_query_store
Revises: 0008_scoring_models
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009_query_store'
down_revision: str | None = '0008_scoring_models'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('store_closed_days',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('times', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_store_closed_days'))
    )
    op.create_table('store_day_facts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('definition_kind', sa.String(length=16), nullable=False),
    sa.Column('checkins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('checkins_flagged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('checkouts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('visit_seconds', sa.Float(), server_default='0', nullable=False),
    sa.Column('visits_done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('submissions', sa.Integer(), server_default='0', nullable=False),
    sa.Column('scored', sa.Integer(), server_default='0', nullable=False),
    sa.Column('score_sum', sa.Float(), server_default='0', nullable=False),
    sa.Column('percentage_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('percentage_sum', sa.Float(), server_default='0', nullable=False),
    sa.Column('judged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('passed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed_items', sa.Integer(), server_default='0', nullable=False),
    sa.Column('alerts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_opened', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_rectified', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_verified', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_closed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_closed_on_time', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_overdue', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_escalated', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_cancelled', sa.Integer(), server_default='0', nullable=False),
    sa.Column('close_seconds', sa.Float(), server_default='0', nullable=False),
    sa.Column('complaints_opened', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('day', 'user_id', 'site_id', 'org_unit_id', 'definition_id', name=op.f('pk_store_day_facts'))
    )
    with op.batch_alter_table('store_day_facts', schema=None) as batch_op:
        batch_op.create_index('ix_store_day_facts_unit_day', ['org_unit_id', 'day'], unique=False)
        batch_op.create_index('ix_store_day_facts_user_day', ['user_id', 'day'], unique=False)

    op.create_table('store_item_day_facts',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('failed', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('day', 'user_id', 'org_unit_id', 'definition_id', 'item_id', name=op.f('pk_store_item_day_facts'))
    )
    op.create_table('store_item_month_facts',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('failed', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('month', 'user_id', 'org_unit_id', 'definition_id', 'item_id', name=op.f('pk_store_item_month_facts'))
    )
    with op.batch_alter_table('store_item_month_facts', schema=None) as batch_op:
        batch_op.create_index('ix_store_item_month_facts_unit', ['org_unit_id', 'month'], unique=False)

    op.create_table('store_marks',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('mark', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_store_marks'))
    )
    op.create_table('store_month_facts',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('definition_kind', sa.String(length=16), nullable=False),
    sa.Column('checkins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('checkins_flagged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('checkouts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('visit_seconds', sa.Float(), server_default='0', nullable=False),
    sa.Column('visits_done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('submissions', sa.Integer(), server_default='0', nullable=False),
    sa.Column('scored', sa.Integer(), server_default='0', nullable=False),
    sa.Column('score_sum', sa.Float(), server_default='0', nullable=False),
    sa.Column('percentage_count', sa.Integer(), server_default='0', nullable=False),
    sa.Column('percentage_sum', sa.Float(), server_default='0', nullable=False),
    sa.Column('judged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('passed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('failed_items', sa.Integer(), server_default='0', nullable=False),
    sa.Column('alerts', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_opened', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_rectified', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_verified', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_closed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_closed_on_time', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_overdue', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_escalated', sa.Integer(), server_default='0', nullable=False),
    sa.Column('issues_cancelled', sa.Integer(), server_default='0', nullable=False),
    sa.Column('close_seconds', sa.Float(), server_default='0', nullable=False),
    sa.Column('complaints_opened', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('month', 'user_id', 'org_unit_id', 'definition_id', name=op.f('pk_store_month_facts'))
    )
    with op.batch_alter_table('store_month_facts', schema=None) as batch_op:
        batch_op.create_index('ix_store_month_facts_unit_month', ['org_unit_id', 'month'], unique=False)
        batch_op.create_index('ix_store_month_facts_user_month', ['user_id', 'month'], unique=False)

    op.create_table('store_month_sites',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('planned', sa.Integer(), server_default='0', nullable=False),
    sa.Column('checkins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('visits_done', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('month', 'user_id', 'site_id', name=op.f('pk_store_month_sites'))
    )
    with op.batch_alter_table('store_month_sites', schema=None) as batch_op:
        batch_op.create_index('ix_store_month_sites_unit_month', ['org_unit_id', 'month'], unique=False)

    op.create_table('store_month_plans',
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('planned', sa.Integer(), server_default='0', nullable=False),
    sa.Column('visits_done', sa.Integer(), server_default='0', nullable=False),
    sa.Column('checkins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('planned_sites', sa.Integer(), server_default='0', nullable=False),
    sa.Column('visited_sites', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('month', 'user_id', 'org_unit_id',
                            name=op.f('pk_store_month_plans'))
    )
    with op.batch_alter_table('store_month_plans', schema=None) as batch_op:
        batch_op.create_index('ix_store_month_plans_unit_month', ['org_unit_id', 'month'],
                              unique=False)

    op.create_table('store_refreshes',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('first_day', sa.Date(), nullable=True),
    sa.Column('last_day', sa.Date(), nullable=True),
    sa.Column('days', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rows', sa.Integer(), server_default='0', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_store_refreshes'))
    )
    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.create_index('ix_issues_closed_at', ['closed_at'], unique=False)
        batch_op.create_index('ix_issues_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_issues_due_at', ['due_at'], unique=False)
        batch_op.create_index('ix_issues_escalated_at', ['escalated_at'], unique=False)
        batch_op.create_index('ix_issues_updated_at', ['updated_at'], unique=False)
        batch_op.create_index('ix_issues_assignee_signed_at', ['assignee_signed_at'],
                              unique=False)
        batch_op.create_index('ix_issues_assigner_signed_at', ['assigner_signed_at'],
                              unique=False)

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('happened_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_submissions_happened_at', ['happened_at'], unique=False)
        batch_op.create_index('ix_submissions_submitted_at', ['submitted_at'], unique=False)

    op.execute("UPDATE submissions SET happened_at = COALESCE("
               "(SELECT visits.checked_in_at FROM visits WHERE visits.id = submissions.visit_id), "
               "submitted_at)")

    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_checked_in_at', ['checked_in_at'], unique=False)
        batch_op.create_index('ix_visits_checked_out_at', ['checked_out_at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('ix_visits_checked_out_at')
        batch_op.drop_index('ix_visits_checked_in_at')

    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_submitted_at')
        batch_op.drop_index('ix_submissions_happened_at')
    # Not in the batch: that would copy the table, which the rows referring to it forbid.
    op.drop_column('submissions', 'happened_at')

    with op.batch_alter_table('issues', schema=None) as batch_op:
        batch_op.drop_index('ix_issues_assigner_signed_at')
        batch_op.drop_index('ix_issues_assignee_signed_at')
        batch_op.drop_index('ix_issues_updated_at')
        batch_op.drop_index('ix_issues_escalated_at')
        batch_op.drop_index('ix_issues_due_at')
        batch_op.drop_index('ix_issues_created_at')
        batch_op.drop_index('ix_issues_closed_at')

    op.drop_table('store_refreshes')
    with op.batch_alter_table('store_month_plans', schema=None) as batch_op:
        batch_op.drop_index('ix_store_month_plans_unit_month')

    op.drop_table('store_month_plans')
    with op.batch_alter_table('store_month_sites', schema=None) as batch_op:
        batch_op.drop_index('ix_store_month_sites_unit_month')

    op.drop_table('store_month_sites')
    with op.batch_alter_table('store_month_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_store_month_facts_user_month')
        batch_op.drop_index('ix_store_month_facts_unit_month')

    op.drop_table('store_month_facts')
    op.drop_table('store_marks')
    with op.batch_alter_table('store_item_month_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_store_item_month_facts_unit')

    op.drop_table('store_item_month_facts')
    op.drop_table('store_item_day_facts')
    with op.batch_alter_table('store_day_facts', schema=None) as batch_op:
        batch_op.drop_index('ix_store_day_facts_user_day')
        batch_op.drop_index('ix_store_day_facts_unit_day')

    op.drop_table('store_day_facts')
    op.drop_table('store_closed_days')

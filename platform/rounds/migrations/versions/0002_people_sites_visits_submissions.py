"""people, sites, visits, submissions

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 02:16:08.046919
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('failed_sign_ins',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_sign_ins'))
    )
    with op.batch_alter_table('failed_sign_ins', schema=None) as batch_op:
        batch_op.create_index('ix_failed_sign_ins_ip_at', ['ip', 'at'], unique=False)
        batch_op.create_index('ix_failed_sign_ins_username_at', ['username', 'at'], unique=False)

    op.create_table('org_units',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('path', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['parent_id'], ['org_units.id'], name=op.f('fk_org_units_parent_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_org_units')),
    sa.UniqueConstraint('code', name=op.f('uq_org_units_code'))
    )
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_org_units_path'), ['path'], unique=False)

    op.create_table('sites',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('site_kind', sa.String(length=64), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.String(length=500), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('lng', sa.Float(), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('qr_token', sa.String(length=64), nullable=False),
    sa.Column('attributes', JSONDocument, nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_sites_org_unit_id_org_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sites')),
    sa.UniqueConstraint('code', name=op.f('uq_sites_code')),
    sa.UniqueConstraint('qr_token', name=op.f('uq_sites_qr_token'))
    )
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sites_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sites_site_kind'), ['site_kind'], unique=False)

    op.create_table('users',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role_id', sa.String(length=64), nullable=False),
    sa.Column('org_unit_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_unit_id'], ['org_units.id'], name=op.f('fk_users_org_unit_id_org_units')),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_users_site_id_sites')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_users_org_unit_id'), ['org_unit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_users_role_id'), ['role_id'], unique=False)

    op.create_table('credentials',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('csrf_token', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_credentials_user_id_users')),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_credentials'))
    )
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credentials_user_id'), ['user_id'], unique=False)

    op.create_table('photos',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content_type', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploaded_by'], ['users.id'], name=op.f('fk_photos_uploaded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photos'))
    )
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photos_sha256'), ['sha256'], unique=False)

    op.create_table('planned_visits',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('month', sa.String(length=7), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_planned_visits_site_id_sites')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_planned_visits_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_planned_visits')),
    sa.UniqueConstraint('month', 'user_id', 'site_id', name=op.f('uq_planned_visits_month_user_id_site_id'))
    )
    with op.batch_alter_table('planned_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_planned_visits_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_planned_visits_user_id'), ['user_id'], unique=False)

    op.create_table('site_assignments',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('role_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_site_assignments_site_id_sites')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_site_assignments_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_site_assignments')),
    sa.UniqueConstraint('site_id', 'role_id', name=op.f('uq_site_assignments_site_id_role_id'))
    )
    with op.batch_alter_table('site_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_site_assignments_site_id'), ['site_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_site_assignments_user_id'), ['user_id'], unique=False)

    op.create_table('visits',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=8), nullable=False),
    sa.Column('checked_in_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lng', sa.Float(), nullable=True),
    sa.Column('accuracy_m', sa.Float(), nullable=True),
    sa.Column('distance_m', sa.Float(), nullable=True),
    sa.Column('flags', JSONDocument, nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('checked_out_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('duration_s', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_visits_site_id_sites')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_visits_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index('ix_visits_site_at', ['site_id', 'checked_in_at'], unique=False)
        batch_op.create_index('ix_visits_user_open', ['user_id', 'checked_out_at'], unique=False)
        batch_op.create_index('uq_visits_user_open', ['user_id'], unique=True, sqlite_where=sa.text('checked_out_at IS NULL'), postgresql_where=sa.text('checked_out_at IS NULL'))

    op.create_table('submissions',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('body_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('visit_id', sa.Integer(), nullable=True),
    sa.Column('definition_id', sa.String(length=64), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('answers', JSONDocument, nullable=False),
    sa.Column('evidence', JSONDocument, nullable=False),
    sa.Column('total', sa.Float(), nullable=True),
    sa.Column('max_total', sa.Float(), nullable=True),
    sa.Column('percentage', sa.Float(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.Column('evaluation', JSONDocument, nullable=False),
    sa.Column('alert_count', sa.Integer(), nullable=False),
    sa.Column('failed_count', sa.Integer(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_submissions_site_id_sites')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_submissions_user_id_users')),
    sa.ForeignKeyConstraint(['version_id'], ['definition_versions.id'], name=op.f('fk_submissions_version_id_definition_versions')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_submissions_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_submissions'))
    )
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submissions_definition_id'), ['definition_id'], unique=False)
        batch_op.create_index('ix_submissions_site_at', ['site_id', 'submitted_at'], unique=False)
        batch_op.create_index('ix_submissions_user_at', ['user_id', 'submitted_at'], unique=False)

    op.create_table('failed_items',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('submission_id', sa.String(length=36), nullable=False),
    sa.Column('item_id', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['sites.id'], name=op.f('fk_failed_items_site_id_sites')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_failed_items_submission_id_submissions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_items'))
    )
    with op.batch_alter_table('failed_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_failed_items_submission_id'), ['submission_id'], unique=False)

    op.create_table('submission_photos',
    sa.Column('submission_id', sa.String(length=36), nullable=False),
    sa.Column('photo_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_submission_photos_photo_id_photos')),
    sa.ForeignKeyConstraint(['submission_id'], ['submissions.id'], name=op.f('fk_submission_photos_submission_id_submissions')),
    sa.PrimaryKeyConstraint('submission_id', 'photo_id', name=op.f('pk_submission_photos'))
    )
    with op.batch_alter_table('submission_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_submission_photos_photo_id'), ['photo_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('submission_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_submission_photos_photo_id'))

    op.drop_table('submission_photos')
    with op.batch_alter_table('failed_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_failed_items_submission_id'))

    op.drop_table('failed_items')
    with op.batch_alter_table('submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_submissions_user_at')
        batch_op.drop_index('ix_submissions_site_at')
        batch_op.drop_index(batch_op.f('ix_submissions_definition_id'))

    op.drop_table('submissions')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index('uq_visits_user_open', sqlite_where=sa.text('checked_out_at IS NULL'), postgresql_where=sa.text('checked_out_at IS NULL'))
        batch_op.drop_index('ix_visits_user_open')
        batch_op.drop_index('ix_visits_site_at')

    op.drop_table('visits')
    with op.batch_alter_table('site_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_site_assignments_user_id'))
        batch_op.drop_index(batch_op.f('ix_site_assignments_site_id'))

    op.drop_table('site_assignments')
    with op.batch_alter_table('planned_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_planned_visits_user_id'))
        batch_op.drop_index(batch_op.f('ix_planned_visits_month'))

    op.drop_table('planned_visits')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photos_sha256'))

    op.drop_table('photos')
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credentials_user_id'))

    op.drop_table('credentials')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_role_id'))
        batch_op.drop_index(batch_op.f('ix_users_org_unit_id'))

    op.drop_table('users')
    with op.batch_alter_table('sites', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sites_site_kind'))
        batch_op.drop_index(batch_op.f('ix_sites_org_unit_id'))

    op.drop_table('sites')
    with op.batch_alter_table('org_units', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_org_units_path'))

    op.drop_table('org_units')
    with op.batch_alter_table('failed_sign_ins', schema=None) as batch_op:
        batch_op.drop_index('ix_failed_sign_ins_username_at')
        batch_op.drop_index('ix_failed_sign_ins_ip_at')

    op.drop_table('failed_sign_ins')

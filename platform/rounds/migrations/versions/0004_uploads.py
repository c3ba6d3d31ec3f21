"""uploads: photo dimensions, the upload attempt log, issue photo links

Revision ID: 0004_uploads
Revises: 0003
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = '0004_uploads'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.add_column(sa.Column('width', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('height', sa.Integer(), nullable=True))
        batch_op.create_index('ix_photos_uploader_at', ['uploaded_by', 'created_at'], unique=False)

    op.create_table('photo_uploads',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_photo_uploads_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo_uploads'))
    )
    with op.batch_alter_table('photo_uploads', schema=None) as batch_op:
        batch_op.create_index('ix_photo_uploads_user_at', ['user_id', 'at'], unique=False)

    op.create_table('issue_photos',
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('photo_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['issue_id'], ['issues.id'], name=op.f('fk_issue_photos_issue_id_issues')),
    sa.ForeignKeyConstraint(['photo_id'], ['photos.id'], name=op.f('fk_issue_photos_photo_id_photos')),
    sa.PrimaryKeyConstraint('issue_id', 'photo_id', name=op.f('pk_issue_photos'))
    )
    with op.batch_alter_table('issue_photos', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_issue_photos_photo_id'), ['photo_id'], unique=False)

    # Link the photos that existing issue events refer to (evidence, feedback, comments), so
    # that they stay visible through the issue and the cleanup of unused photos keeps them.
    events = sa.table('issue_events', sa.column('issue_id', sa.Integer()),
                      sa.column('data', JSONDocument))
    photos = sa.table('photos', sa.column('id', sa.String()))
    links = sa.table('issue_photos', sa.column('issue_id', sa.Integer()),
                     sa.column('photo_id', sa.String()))
    conn = op.get_bind()
    pairs: set[tuple[int, str]] = set()
    for issue_id, data in conn.execute(sa.select(events.c.issue_id, events.c.data)):
        for pid in (data or {}).get('photos') or []:
            pairs.add((issue_id, str(pid)))
    ids = sorted({p for _, p in pairs})
    known: set[str] = set()
    for i in range(0, len(ids), 500):
        known.update(conn.execute(sa.select(photos.c.id).where(
            photos.c.id.in_(ids[i:i + 500]))).scalars())
    pairs = {(i, p) for i, p in pairs if p in known}
    if pairs:
        conn.execute(sa.insert(links), [{'issue_id': i, 'photo_id': p} for i, p in sorted(pairs)])


def downgrade() -> None:
    with op.batch_alter_table('issue_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_issue_photos_photo_id'))
    op.drop_table('issue_photos')
    with op.batch_alter_table('photo_uploads', schema=None) as batch_op:
        batch_op.drop_index('ix_photo_uploads_user_at')
    op.drop_table('photo_uploads')
    with op.batch_alter_table('photos', schema=None) as batch_op:
        batch_op.drop_index('ix_photos_uploader_at')
        batch_op.drop_column('height')
        batch_op.drop_column('width')

"""The current version of a definition follows content (rollback); issue titles in both
languages.

Revision ID: 0004_defs
Revises: 0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision: str = "0005_defs"
down_revision: str | None = "0004_uploads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("definitions", sa.Column("current_version_id", sa.Integer(), nullable=True))
    op.create_table(
        "definition_current_history",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("definition_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(["definition_id"], ["definitions.id"],
                                name=op.f("fk_definition_current_history_definition_id_definitions")),
        sa.ForeignKeyConstraint(["version_id"], ["definition_versions.id"],
                                name=op.f("fk_definition_current_history_version_id_definition_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_definition_current_history")),
    )
    op.create_index(op.f("ix_definition_current_history_definition_id"),
                    "definition_current_history", ["definition_id"])
    # Until now the current version was the highest published number; each published
    # version was current from its publication on.
    op.execute("""
        INSERT INTO definition_current_history (definition_id, version_id, number, at, reason,
                                                source)
        SELECT definition_id, id, number, COALESCE(published_at, created_at), 'published', source
        FROM definition_versions WHERE status = 'published' ORDER BY published_at, number""")
    op.execute("""
        UPDATE definitions SET current_version_id = (
            SELECT v.id FROM definition_versions v
            WHERE v.definition_id = definitions.id AND v.status = 'published'
            ORDER BY v.number DESC LIMIT 1)""")
    op.add_column("issues", sa.Column("titles", JSONDocument, nullable=True))


def downgrade() -> None:
    op.drop_column("issues", "titles")
    op.drop_index(op.f("ix_definition_current_history_definition_id"),
                  table_name="definition_current_history")
    op.drop_table("definition_current_history")
    with op.batch_alter_table("definitions") as batch:
        batch.drop_column("current_version_id")

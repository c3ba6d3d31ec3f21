"""Definitions and their versions.

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "definitions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_definitions")),
    )
    op.create_index(op.f("ix_definitions_kind"), "definitions", ["kind"])
    op.create_table(
        "definition_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("definition_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("content", JSONDocument, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["definition_id"], ["definitions.id"],
                                name=op.f("fk_definition_versions_definition_id_definitions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_definition_versions")),
        sa.UniqueConstraint("definition_id", "content_hash",
                            name=op.f("uq_definition_versions_definition_id_content_hash")),
        sa.UniqueConstraint("definition_id", "number",
                            name=op.f("uq_definition_versions_definition_id_number")),
    )
    op.create_index(op.f("ix_definition_versions_definition_id"), "definition_versions",
                    ["definition_id"])


def downgrade() -> None:
    op.drop_table("definition_versions")
    op.drop_table("definitions")

"""Business-licence checks

Revision ID: bl_0001
Revises:
Depends on: 0016_notices
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "bl_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("business_licence",)
depends_on: str | Sequence[str] | None = "0016_notices"

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "licence_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("holder", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("photo_id", sa.String(length=36), nullable=True),
        sa.Column("checked_by", sa.Integer(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("checks", JSONDocument, nullable=False),
        sa.Column("registry", JSONDocument, nullable=True),
        sa.Column("expiry_issue_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_licence_checks_site_id_sites")),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"],
                                name=op.f("fk_licence_checks_photo_id_photos")),
        sa.ForeignKeyConstraint(["checked_by"], ["users.id"],
                                name=op.f("fk_licence_checks_checked_by_users")),
        sa.ForeignKeyConstraint(["expiry_issue_id"], ["issues.id"],
                                name=op.f("fk_licence_checks_expiry_issue_id_issues")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_checks")),
    )
    op.create_index("ix_licence_checks_site_id_id", "licence_checks", ["site_id", "id"])
    op.create_index("ix_licence_checks_code", "licence_checks", ["code"])
    op.create_index("ix_licence_checks_expires_on", "licence_checks", ["expires_on"])


def downgrade() -> None:
    op.drop_index("ix_licence_checks_expires_on", table_name="licence_checks")
    op.drop_index("ix_licence_checks_code", table_name="licence_checks")
    op.drop_index("ix_licence_checks_site_id_id", table_name="licence_checks")
    op.drop_table("licence_checks")

"""The sample extension's table

Revision ID: sm_0001
Revises:
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "sm_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("sample",)
depends_on: str | Sequence[str] | None = "0016_notices"


def upgrade() -> None:
    op.create_table("sample_notes",
                    sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("site_id", sa.Integer(), sa.ForeignKey("sites.id"),
                              nullable=False),
                    sa.Column("note", sa.String(200), nullable=False))


def downgrade() -> None:
    op.drop_table("sample_notes")

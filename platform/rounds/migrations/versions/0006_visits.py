"""planned visits keep their frequency (per week, per day...) beside the month's count

Revision ID: 0004_visits
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_visits"
down_revision: str | None = "0005_defs"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("planned_visits") as batch:
        # Plans made before this knew only the month's count: "month", that count.
        batch.add_column(sa.Column("per", sa.String(length=8), nullable=False,
                                   server_default="month"))
        batch.add_column(sa.Column("per_visits", sa.Integer(), nullable=True))
    op.execute("UPDATE planned_visits SET per_visits = visits WHERE per_visits IS NULL")


def downgrade() -> None:
    with op.batch_alter_table("planned_visits") as batch:
        batch.drop_column("per_visits")
        batch.drop_column("per")

"""a submission's score by its model: the value, the model, the direction and the outcome

A definition now says how it scores (percentage, sum or mean; higher or lower better) and
may declare outcomes (a rating, a severity band, pass / fail / closure). The row keeps the
score's value in its model, the model and direction it was scored in (lists and dashboards
rank by them without reading the evaluation document) and the first outcome's level.

Rows stored before this were all scored as a percentage, higher better: their value is
their percentage.

Revision ID: 0008_scoring_models
Revises: 0007_auth
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_scoring_models"
down_revision: str | None = "0007_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Columns added in place (no copy of the table on SQLite: plain defaults only).
    with op.batch_alter_table("submissions") as batch:
        batch.add_column(sa.Column("score_value", sa.Float(), nullable=True))
        batch.add_column(sa.Column("score_model", sa.String(length=16), nullable=False,
                                   server_default="percentage"))
        batch.add_column(sa.Column("direction", sa.String(length=16), nullable=False,
                                   server_default="higher_better"))
        batch.add_column(sa.Column("outcome", sa.String(length=64), nullable=True))
    op.execute("UPDATE submissions SET score_value = percentage")


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN on both databases (SQLite has it since 3.35): a batch
    # would copy the table, which the rows referring to it (failed items, photo links)
    # forbid while foreign keys are enforced.
    for column in ("outcome", "direction", "score_model", "score_value"):
        op.drop_column("submissions", column)

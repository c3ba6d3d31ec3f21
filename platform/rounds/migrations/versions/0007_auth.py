"""sign-in throttle counters and known devices (replace failed_sign_ins)

The old table counted failures per username and per address, which let anyone lock a
user out; the throttle now keeps one counter row per key, updated in one statement.

Revision ID: 0004_auth
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_auth"
down_revision: str | None = "0006_visits"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sign_in_throttle",
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.Column("last_at", sa.Float(), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_sign_in_throttle")))
    op.create_table(
        "known_devices",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"],
                                name=op.f("fk_known_devices_user_id_users")),
        sa.PrimaryKeyConstraint("token_hash", "user_id", name=op.f("pk_known_devices")))
    with op.batch_alter_table("failed_sign_ins", schema=None) as batch_op:
        batch_op.drop_index("ix_failed_sign_ins_ip_at")
        batch_op.drop_index("ix_failed_sign_ins_username_at")
    op.drop_table("failed_sign_ins")


def downgrade() -> None:
    op.create_table(
        "failed_sign_ins",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_failed_sign_ins")))
    with op.batch_alter_table("failed_sign_ins", schema=None) as batch_op:
        batch_op.create_index("ix_failed_sign_ins_ip_at", ["ip", "at"], unique=False)
        batch_op.create_index("ix_failed_sign_ins_username_at", ["username", "at"],
                              unique=False)
    op.drop_table("known_devices")
    op.drop_table("sign_in_throttle")

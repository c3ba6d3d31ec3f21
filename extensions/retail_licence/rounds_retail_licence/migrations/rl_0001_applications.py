"""Retail licence applications and their events

Revision ID: rl_0001
Revises: (the first of the retail_licence branch)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "rl_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = ("retail_licence",)
depends_on: str | Sequence[str] | None = "0016_notices"

JSONDocument = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "licence_applications",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("org_unit_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("shop_name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("owner_name", sa.String(length=50), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("business_type", sa.String(length=32), nullable=False),
        sa.Column("market_area", sa.String(length=16), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lng", sa.Float(), nullable=False),
        sa.Column("documents", JSONDocument, nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=True),
        sa.Column("inspection_on", sa.Date(), nullable=True),
        sa.Column("inspection", JSONDocument, nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("licence_number", sa.String(length=12), nullable=True),
        sa.Column("licence_scope", sa.String(length=200), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["applicant_id"], ["users.id"],
                                name=op.f("fk_licence_applications_applicant_id_users")),
        sa.ForeignKeyConstraint(["site_id"], ["sites.id"],
                                name=op.f("fk_licence_applications_site_id_sites")),
        sa.ForeignKeyConstraint(["org_unit_id"], ["org_units.id"],
                                name=op.f("fk_licence_applications_org_unit_id_org_units")),
        sa.ForeignKeyConstraint(["inspector_id"], ["users.id"],
                                name=op.f("fk_licence_applications_inspector_id_users")),
        sa.ForeignKeyConstraint(["decided_by"], ["users.id"],
                                name=op.f("fk_licence_applications_decided_by_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_applications")),
        sa.UniqueConstraint("number", name=op.f("uq_licence_applications_number")),
        sa.UniqueConstraint("licence_number",
                            name=op.f("uq_licence_applications_licence_number")),
    )
    op.create_index("ix_licence_applications_applicant_id", "licence_applications",
                    ["applicant_id"])
    op.create_index("ix_licence_applications_site_id", "licence_applications", ["site_id"])
    op.create_index("ix_licence_applications_org_unit_id", "licence_applications",
                    ["org_unit_id"])
    op.create_index("ix_licence_applications_state_deadline", "licence_applications",
                    ["state", "deadline"])
    op.create_index("ix_licence_applications_valid_until", "licence_applications",
                    ["state", "valid_until"])
    op.create_table(
        "licence_application_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("from_state", sa.String(length=32), nullable=True),
        sa.Column("to_state", sa.String(length=32), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["application_id"], ["licence_applications.id"],
            # shorter than the naming convention's (PostgreSQL keeps 63 characters)
            name="fk_licence_application_events_application"),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"],
                                name=op.f("fk_licence_application_events_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_licence_application_events")),
    )
    op.create_index("ix_licence_application_events_application_id",
                    "licence_application_events", ["application_id"])
    op.create_table(
        "licence_application_photos",
        sa.Column("application_id", sa.Integer(), nullable=False),
        sa.Column("photo_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(["application_id"], ["licence_applications.id"],
                                name="fk_licence_application_photos_application"),
        sa.ForeignKeyConstraint(["photo_id"], ["photos.id"],
                                name="fk_licence_application_photos_photo"),
        sa.PrimaryKeyConstraint("application_id", "photo_id",
                                name=op.f("pk_licence_application_photos")),
    )
    op.create_index("ix_licence_application_photos_photo_id", "licence_application_photos",
                    ["photo_id"])


def downgrade() -> None:
    op.drop_index("ix_licence_application_photos_photo_id",
                  table_name="licence_application_photos")
    op.drop_table("licence_application_photos")
    op.drop_index("ix_licence_application_events_application_id",
                  table_name="licence_application_events")
    op.drop_table("licence_application_events")
    for name in ("ix_licence_applications_valid_until",
                 "ix_licence_applications_state_deadline",
                 "ix_licence_applications_org_unit_id", "ix_licence_applications_site_id",
                 "ix_licence_applications_applicant_id"):
        op.drop_index(name, table_name="licence_applications")
    op.drop_table("licence_applications")

"""pharmacy: prescriptions and their fills

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-25 16:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import hms.db

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "prescriptions",
        sa.Column("prescription_number", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("signed_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("medication", _json(), nullable=False),
        sa.Column("dosage", _json(), nullable=False),
        sa.Column("substitutions", sa.String(length=20), nullable=False),
        sa.Column("refills_authorized", sa.Integer(), nullable=False),
        sa.Column("refills_remaining", sa.Integer(), nullable=False),
        sa.Column("fill_count", sa.Integer(), nullable=False),
        sa.Column("pharmacy", _json(), nullable=True),
        sa.Column("diagnosis_codes", _json(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("date_written", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("controlled_substance", sa.Boolean(), nullable=False),
        sa.Column("schedule", sa.String(length=3), nullable=True),
        sa.Column("dea_number", sa.String(length=9), nullable=True),
        sa.Column("alerts", _json(), nullable=False),
        sa.Column("override_reason", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "refills_remaining >= 0", name=op.f("ck_prescriptions_refills_not_negative")
        ),
        sa.CheckConstraint(
            "refills_remaining <= refills_authorized",
            name=op.f("ck_prescriptions_refills_within_authorized"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_prescriptions_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_prescriptions_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_user_id"],
            ["users.id"],
            name=op.f("fk_prescriptions_signed_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescriptions")),
        sa.UniqueConstraint(
            "prescription_number", name=op.f("uq_prescriptions_prescription_number")
        ),
    )
    op.create_index(
        "ix_prescriptions_patient_written",
        "prescriptions",
        ["patient_id", "date_written"],
        unique=False,
    )
    op.create_index(
        op.f("ix_prescriptions_provider_id"), "prescriptions", ["provider_id"], unique=False
    )

    op.create_table(
        "prescription_fills",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("prescription_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("fill_number", sa.Integer(), nullable=False),
        sa.Column("refill", sa.Boolean(), nullable=False),
        sa.Column("quantity", sa.String(length=50), nullable=True),
        sa.Column("ndc", sa.String(length=13), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("dispensed_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("dispensed_by_username", sa.String(length=150), nullable=True),
        sa.Column("dispensed_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispensed_by_user_id"],
            ["users.id"],
            name=op.f("fk_prescription_fills_dispensed_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_prescription_fills_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["prescription_id"],
            ["prescriptions.id"],
            name=op.f("fk_prescription_fills_prescription_id_prescriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prescription_fills")),
        sa.UniqueConstraint(
            "prescription_id", "fill_number", name=op.f("uq_prescription_fills_prescription_id")
        ),
    )
    op.create_index(
        op.f("ix_prescription_fills_patient_id"), "prescription_fills", ["patient_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_prescription_fills_patient_id"), table_name="prescription_fills")
    op.drop_table("prescription_fills")
    op.drop_index(op.f("ix_prescriptions_provider_id"), table_name="prescriptions")
    op.drop_index("ix_prescriptions_patient_written", table_name="prescriptions")
    op.drop_table("prescriptions")

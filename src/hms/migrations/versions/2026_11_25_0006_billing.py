"""billing: charges, claims and their charges, patient coverage and payments

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-25 18:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import hms.db

revision = "0006"
down_revision = "0002"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def _money() -> sa.Numeric[Any]:
    return sa.Numeric(12, 2)


def _timestamps() -> list[sa.Column[Any]]:
    return [
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hms.db.UTCDateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "charges",
        sa.Column("charge_number", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=True),
        sa.Column("charge_date", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("charge_code", sa.String(length=5), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", _money(), nullable=False),
        sa.Column("total_amount", _money(), nullable=False),
        sa.Column("insurance_amount", _money(), nullable=False),
        sa.Column("patient_amount", _money(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("billing_provider_id", sa.Uuid(), nullable=False),
        sa.Column("diagnosis_codes", _json(), nullable=False),
        sa.Column("modifiers", _json(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("void_reason", sa.String(length=500), nullable=True),
        sa.Column("voided_at", hms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "status IN ('pending', 'billed', 'paid', 'voided')", name=op.f("ck_charges_status")
        ),
        sa.CheckConstraint(
            "unit_price >= 0 AND insurance_amount >= 0 AND patient_amount >= 0",
            name=op.f("ck_charges_positive"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_charges_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_charges_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["billing_provider_id"],
            ["providers.id"],
            name=op.f("fk_charges_billing_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charges")),
        sa.UniqueConstraint("charge_number", name=op.f("uq_charges_charge_number")),
    )
    op.create_index(op.f("ix_charges_patient_id"), "charges", ["patient_id"])
    op.create_index(op.f("ix_charges_encounter_id"), "charges", ["encounter_id"])

    op.create_table(
        "claims",
        sa.Column("claim_number", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("insurance_provider", sa.String(length=200), nullable=False),
        sa.Column("policy_number", sa.String(length=64), nullable=False),
        sa.Column("group_number", sa.String(length=64), nullable=True),
        sa.Column("charge_ids", _json(), nullable=False),
        sa.Column("total_amount", _money(), nullable=False),
        sa.Column("patient_responsibility", _money(), nullable=False),
        sa.Column("submission_method", sa.String(length=16), nullable=False),
        sa.Column("diagnoses", _json(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("submitted_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", hms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejected_at", hms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("rejection_reason", sa.String(length=500), nullable=True),
        sa.Column("paid_at", hms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("insurance_paid", _money(), nullable=True),
        sa.Column("patient_paid", _money(), nullable=True),
        sa.Column("adjustments", _json(), nullable=False),
        sa.Column("adjustment_total", _money(), nullable=True),
        sa.Column("resubmission_of", sa.Uuid(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        *_timestamps(),
        sa.CheckConstraint(
            "status IN ('submitted', 'accepted', 'rejected', 'paid')",
            name=op.f("ck_claims_status"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_claims_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["resubmission_of"], ["claims.id"], name=op.f("fk_claims_resubmission_of_claims")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claims")),
        sa.UniqueConstraint("claim_number", name=op.f("uq_claims_claim_number")),
    )
    op.create_index(op.f("ix_claims_patient_id"), "claims", ["patient_id"])

    op.create_table(
        "claim_charges",
        sa.Column("claim_id", sa.Uuid(), nullable=False),
        sa.Column("charge_id", sa.Uuid(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claims.id"], name=op.f("fk_claim_charges_claim_id_claims")
        ),
        sa.ForeignKeyConstraint(
            ["charge_id"], ["charges.id"], name=op.f("fk_claim_charges_charge_id_charges")
        ),
        sa.PrimaryKeyConstraint("claim_id", "charge_id", name=op.f("pk_claim_charges")),
    )
    # A charge is on one live (not rejected) claim at most, decided by the database.
    op.create_index(
        "uq_claim_charges_live_charge",
        "claim_charges",
        ["charge_id"],
        unique=True,
        sqlite_where=sa.text("active"),
        postgresql_where=sa.text("active"),
    )

    op.create_table(
        "patient_coverage",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("coverage_type", sa.String(length=16), nullable=False),
        sa.Column("payer", sa.String(length=200), nullable=True),
        sa.Column("policy_number", sa.String(length=64), nullable=True),
        sa.Column("group_number", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "coverage_type IN ('private', 'medicare', 'medicaid', 'self_pay')",
            name=op.f("ck_patient_coverage_type"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_coverage_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_patient_coverage")),
    )
    op.create_index(
        op.f("ix_patient_coverage_coverage_type"), "patient_coverage", ["coverage_type"]
    )

    op.create_table(
        "patient_payments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("amount", _money(), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("received_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_patient_payments_positive")),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_payments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by"], ["users.id"], name=op.f("fk_patient_payments_recorded_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patient_payments")),
    )
    op.create_index(op.f("ix_patient_payments_patient_id"), "patient_payments", ["patient_id"])


def downgrade() -> None:
    for table in ("patient_payments", "patient_coverage", "claim_charges", "claims", "charges"):
        op.drop_table(table)

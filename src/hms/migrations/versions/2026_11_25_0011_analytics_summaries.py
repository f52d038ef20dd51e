"""analytics: summaries per patient, per visit and per day of revenue, filled from the records

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-25 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hms.db
from hms.analytics.summaries import (
    COLUMNS,
    REVENUE_COLUMNS,
    VISIT_COLUMNS,
    revenue_day_rows,
    summary_rows,
    visit_rows,
)
from hms.clinical.models import Encounter

revision = "0011"
down_revision = "0008"
branch_labels = None
depends_on = None


def _since(name: str) -> sa.Column[object]:
    return sa.Column(name, hms.db.UTCDateTime(timezone=True), nullable=True)


def upgrade() -> None:
    op.create_table(
        "analytics_patients",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("gender", sa.String(length=1), nullable=False),
        sa.Column("coverage_type", sa.String(length=16), nullable=True),
        sa.Column("hypertension_written", sa.Boolean(), nullable=False),
        _since("hypertension_coded_since"),
        sa.Column("diabetes_written", sa.Boolean(), nullable=False),
        _since("diabetes_coded_since"),
        sa.Column("colorectal_cancer_written", sa.Boolean(), nullable=False),
        _since("colorectal_cancer_coded_since"),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_analytics_patients_patient_id_patients"),
        ),
        sa.PrimaryKeyConstraint("patient_id", name=op.f("pk_analytics_patients")),
    )
    op.create_index("ix_analytics_patients_created_at", "analytics_patients", ["created_at"])
    op.create_table(
        "analytics_visits",
        sa.Column("encounter_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("visit_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        _since("previous_visit_at"),
        sa.Column("systolic", sa.Integer(), nullable=True),
        sa.Column("diastolic", sa.Integer(), nullable=True),
        _since("next_reading_at"),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("hypertension_written", sa.Boolean(), nullable=False),
        _since("hypertension_coded_since"),
        sa.Column("diabetes_written", sa.Boolean(), nullable=False),
        _since("diabetes_coded_since"),
        sa.Column("colorectal_cancer_written", sa.Boolean(), nullable=False),
        _since("colorectal_cancer_coded_since"),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_analytics_visits_encounter_id_encounters"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_analytics_visits_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("encounter_id", name=op.f("pk_analytics_visits")),
    )
    op.create_index("ix_analytics_visits_patient_id", "analytics_visits", ["patient_id"])
    op.create_index(
        "ix_analytics_visits_visit_at", "analytics_visits", ["visit_at", "previous_visit_at"]
    )
    op.create_table(
        "analytics_revenue_days",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("insurance_cents", sa.BigInteger(), nullable=False),
        sa.Column("patient_cents", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_analytics_revenue_days")),
    )
    # Charges by code: the screening and reconciliation measures look for a few codes.
    op.create_index(
        "ix_charges_code_date",
        "charges",
        ["charge_code", "charge_date", "status", "patient_id", "encounter_id"],
    )
    # An upgraded database answers as if the summary had been kept from the start.
    patients = sa.table("analytics_patients", *(sa.column(name) for name in COLUMNS))
    op.get_bind().execute(sa.insert(patients).from_select(COLUMNS, summary_rows()))
    visits = sa.table("analytics_visits", *(sa.column(name) for name in VISIT_COLUMNS))
    # Stored in date order: a period's visits then lie together on disk.
    ordered = visit_rows().order_by(Encounter.encounter_date)
    op.get_bind().execute(sa.insert(visits).from_select(VISIT_COLUMNS, ordered))
    days = sa.table("analytics_revenue_days", *(sa.column(name) for name in REVENUE_COLUMNS))
    rows = revenue_day_rows(op.get_bind().dialect.name)
    op.get_bind().execute(sa.insert(days).from_select(REVENUE_COLUMNS, rows))


def downgrade() -> None:
    op.drop_index("ix_charges_code_date", table_name="charges")
    op.drop_table("analytics_revenue_days")
    op.drop_index("ix_analytics_visits_visit_at", table_name="analytics_visits")
    op.drop_index("ix_analytics_visits_patient_id", table_name="analytics_visits")
    op.drop_table("analytics_visits")
    op.drop_index("ix_analytics_patients_created_at", table_name="analytics_patients")
    op.drop_table("analytics_patients")

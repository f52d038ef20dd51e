"""analytics: indexes for the period aggregates (encounters, charges, vitals, lab results)

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-25 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
# Also indexes the laboratory's table (0005).
depends_on = ("0005",)

# (name, table, columns): what analytics scan by period, with the columns they read, so that
# the database answers from the index alone.
INDEXES = (
    (
        "ix_charges_charge_date",
        "charges",
        ["charge_date", "status", "total_amount", "insurance_amount", "patient_amount"],
    ),
    (
        "ix_vital_signs_recorded_at",
        "vital_signs",
        ["recorded_at", "patient_id", "systolic", "diastolic"],
    ),
    (
        "ix_lab_results_loinc_resulted",
        "lab_results",
        ["loinc_code", "resulted_at", "patient_id", "value_numeric"],
    ),
    ("ix_diagnoses_code_patient", "diagnoses", ["code", "patient_id", "encounter_date"]),
)
# Visits: encounters not entered in error, by date.
VISITS = sa.text("status <> 'entered_in_error'")


def upgrade() -> None:
    op.create_index(
        "ix_encounters_date_patient",
        "encounters",
        ["encounter_date", "patient_id"],
        postgresql_where=VISITS,
        sqlite_where=VISITS,
    )
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index("ix_encounters_date_patient", table_name="encounters")

"""analytics: indexes for the period aggregates (encounters, charges, vitals, lab results)

Revision ID: 0008
Revises: 0006
Create Date: 2026-11-25 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
# Also indexes the laboratory's table (0005).
depends_on = ("0005",)

INDEXES = (
    # (name, table, columns): what analytics scan by period.
    ("ix_encounters_date_patient", "encounters", ["encounter_date", "patient_id"]),
    ("ix_charges_charge_date", "charges", ["charge_date"]),
    ("ix_vital_signs_recorded_at", "vital_signs", ["recorded_at"]),
    ("ix_lab_results_loinc_resulted", "lab_results", ["loinc_code", "resulted_at"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)

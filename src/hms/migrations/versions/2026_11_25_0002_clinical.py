"""clinical: encounters, their versions, and the vital signs and diagnoses tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 14:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import hms.db

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "encounters",
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("encounter_type", sa.String(length=50), nullable=False),
        sa.Column("encounter_date", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("chief_complaint", sa.Text(), nullable=True),
        sa.Column("history_of_present_illness", sa.Text(), nullable=True),
        sa.Column("review_of_systems", _json(), nullable=False),
        sa.Column("physical_examination", _json(), nullable=False),
        sa.Column("assessment", _json(), nullable=False),
        sa.Column("plan", _json(), nullable=False),
        sa.Column("diagnoses", _json(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_encounters_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_encounters_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounters")),
    )
    op.create_index(
        "ix_encounters_patient_date", "encounters", ["patient_id", "encounter_date"], unique=False
    )
    op.create_index(op.f("ix_encounters_provider_id"), "encounters", ["provider_id"], unique=False)

    op.create_table(
        "encounter_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("fields", _json(), nullable=False),
        sa.Column("snapshot", _json(), nullable=False),
        sa.Column("changed_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("changed_by_username", sa.String(length=150), nullable=True),
        sa.Column("changed_by_role", sa.String(length=32), nullable=True),
        sa.Column("changed_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["changed_by_user_id"],
            ["users.id"],
            name=op.f("fk_encounter_versions_changed_by_user_id_users"),
        ),
        sa.ForeignKeyConstraint(
            ["encounter_id"],
            ["encounters.id"],
            name=op.f("fk_encounter_versions_encounter_id_encounters"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_encounter_versions_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_encounter_versions")),
        sa.UniqueConstraint(
            "encounter_id", "version", name=op.f("uq_encounter_versions_encounter_id")
        ),
    )
    op.create_index(
        op.f("ix_encounter_versions_patient_id"), "encounter_versions", ["patient_id"], unique=False
    )

    op.create_table(
        "vital_signs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("systolic", sa.Integer(), nullable=True),
        sa.Column("diastolic", sa.Integer(), nullable=True),
        sa.Column("heart_rate", sa.Integer(), nullable=True),
        sa.Column("respiratory_rate", sa.Integer(), nullable=True),
        sa.Column("temperature_c", sa.Float(), nullable=True),
        sa.Column("oxygen_saturation", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_vital_signs_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_vital_signs_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vital_signs")),
    )
    op.create_index(
        op.f("ix_vital_signs_encounter_id"), "vital_signs", ["encounter_id"], unique=False
    )
    op.create_index(
        "ix_vital_signs_patient_recorded",
        "vital_signs",
        ["patient_id", "recorded_at"],
        unique=False,
    )

    op.create_table(
        "diagnoses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("encounter_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=10), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("type", sa.String(length=50), nullable=True),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("encounter_date", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["encounter_id"], ["encounters.id"], name=op.f("fk_diagnoses_encounter_id_encounters")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_diagnoses_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_diagnoses")),
    )
    op.create_index(op.f("ix_diagnoses_code"), "diagnoses", ["code"], unique=False)
    op.create_index(op.f("ix_diagnoses_encounter_id"), "diagnoses", ["encounter_id"], unique=False)
    op.create_index(
        "ix_diagnoses_patient_date", "diagnoses", ["patient_id", "encounter_date"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_diagnoses_patient_date", table_name="diagnoses")
    op.drop_index(op.f("ix_diagnoses_encounter_id"), table_name="diagnoses")
    op.drop_index(op.f("ix_diagnoses_code"), table_name="diagnoses")
    op.drop_table("diagnoses")
    op.drop_index("ix_vital_signs_patient_recorded", table_name="vital_signs")
    op.drop_index(op.f("ix_vital_signs_encounter_id"), table_name="vital_signs")
    op.drop_table("vital_signs")
    op.drop_index(op.f("ix_encounter_versions_patient_id"), table_name="encounter_versions")
    op.drop_table("encounter_versions")
    op.drop_index(op.f("ix_encounters_provider_id"), table_name="encounters")
    op.drop_index("ix_encounters_patient_date", table_name="encounters")
    op.drop_table("encounters")

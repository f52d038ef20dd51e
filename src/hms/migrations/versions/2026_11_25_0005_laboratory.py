"""laboratory: orders and a row per resulted component

Revision ID: 0005
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

revision = "0005"
down_revision = "0001"
branch_labels = None
depends_on = None


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def _time(name: str, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, hms.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "lab_orders",
        sa.Column("order_number", sa.String(length=20), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("ordering_location", sa.String(length=200), nullable=True),
        sa.Column("priority", sa.String(length=10), nullable=False),
        sa.Column("clinical_information", sa.Text(), nullable=True),
        sa.Column("tests", _json(), nullable=False),
        sa.Column("diagnoses", _json(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        _time("ordered_at"),
        _time("collection_date", nullable=True),
        _time("completed_at", nullable=True),
        _time("cancelled_at", nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("pathologist_id", sa.Uuid(), nullable=True),
        sa.Column("result_notes", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        _time("created_at"),
        _time("updated_at"),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_lab_orders_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_lab_orders_provider_id_providers")
        ),
        sa.ForeignKeyConstraint(
            ["pathologist_id"],
            ["providers.id"],
            name=op.f("fk_lab_orders_pathologist_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_orders")),
        sa.UniqueConstraint("order_number", name=op.f("uq_lab_orders_order_number")),
    )
    op.create_index(
        "ix_lab_orders_patient_ordered", "lab_orders", ["patient_id", "ordered_at"], unique=False
    )
    op.create_index(op.f("ix_lab_orders_provider_id"), "lab_orders", ["provider_id"], unique=False)
    op.create_index(op.f("ix_lab_orders_status"), "lab_orders", ["status"], unique=False)

    op.create_table(
        "lab_results",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("test_code", sa.String(length=20), nullable=False),
        sa.Column("component", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("loinc_code", sa.String(length=20), nullable=True),
        sa.Column("result", sa.String(length=100), nullable=False),
        sa.Column("value_numeric", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=30), nullable=True),
        sa.Column("reference_range", sa.String(length=100), nullable=True),
        sa.Column("flag", sa.String(length=2), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        _time("resulted_at"),
        sa.Column("resulted_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("resulted_by_username", sa.String(length=150), nullable=True),
        sa.Column("previous", _json(), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["lab_orders.id"], name=op.f("fk_lab_results_order_id_lab_orders")
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_lab_results_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["resulted_by_user_id"],
            ["users.id"],
            name=op.f("fk_lab_results_resulted_by_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lab_results")),
        sa.UniqueConstraint(
            "order_id", "test_code", "component", name=op.f("uq_lab_results_order_id")
        ),
    )
    op.create_index(
        "ix_lab_results_patient_loinc",
        "lab_results",
        ["patient_id", "loinc_code", "resulted_at"],
        unique=False,
    )
    op.create_index(
        "ix_lab_results_patient_component",
        "lab_results",
        ["patient_id", "component", "resulted_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("lab_results")
    op.drop_table("lab_orders")

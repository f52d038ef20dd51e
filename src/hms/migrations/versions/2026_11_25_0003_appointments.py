"""appointments: appointments with database-enforced no-overlap, providers' working hours

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import hms.db

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None

# Cancelled and no-show appointments free their time (hms.appointments.models.FREEING_STATUSES).
HOLDS_TIME = "status NOT IN ('cancelled', 'no_show')"


def _json() -> sa.types.TypeEngine[Any]:
    return sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("appointment_number", sa.String(length=16), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("appointment_type", sa.String(length=50), nullable=False),
        sa.Column("start_datetime", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("end_datetime", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("duration", sa.Integer(), nullable=False),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("reminder_method", _json(), nullable=False),
        sa.Column("telehealth", sa.Boolean(), nullable=False),
        sa.Column("cancellation_reason", sa.String(length=500), nullable=True),
        sa.Column("checked_in_at", hms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", hms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", hms.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "end_datetime > start_datetime", name=op.f("ck_appointments_ends_after_start")
        ),
        sa.CheckConstraint(
            "status IN ('scheduled', 'checked_in', 'completed', 'cancelled', 'no_show')",
            name=op.f("ck_appointments_status"),
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_appointments_patient_id_patients")
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"], ["providers.id"], name=op.f("fk_appointments_provider_id_providers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("appointment_number", name=op.f("uq_appointments_appointment_number")),
    )
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_appointments_provider_start", ["provider_id", "start_datetime"], unique=False
        )
        batch_op.create_index(
            "ix_appointments_patient_start", ["patient_id", "start_datetime"], unique=False
        )
        batch_op.create_index("ix_appointments_start", ["start_datetime"], unique=False)

    op.create_table(
        "provider_working_hours",
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("time_zone", sa.String(length=64), nullable=False),
        sa.Column("hours", _json(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_provider_working_hours_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_provider_working_hours")),
    )
    op.create_table(
        "provider_days_off",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("provider_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["providers.id"],
            name=op.f("fk_provider_days_off_provider_id_providers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_days_off")),
        sa.UniqueConstraint("provider_id", "day", name=op.f("uq_provider_days_off_provider_id")),
    )
    _no_overlap()


def _no_overlap() -> None:
    """One provider, or one patient, is never booked twice at once. The database decides, so
    that concurrent requests cannot both pass a check made in code. The service recognises the
    refusal by the names `appointments_provider_overlap` / `appointments_patient_overlap`."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        for who in ("provider", "patient"):
            op.execute(
                f"ALTER TABLE appointments ADD CONSTRAINT ex_appointments_{who}_overlap "
                f"EXCLUDE USING gist ({who}_id WITH =, "
                "tstzrange(start_datetime, end_datetime, '[)') WITH &&) "
                f"WHERE ({HOLDS_TIME})"
            )
        return
    # SQLite has no exclusion constraints; triggers do the same, and since every transaction
    # starts with BEGIN IMMEDIATE (hms.db), writers are serialised and the check cannot race.
    for event, columns, other in (
        ("insert", "INSERT", ""),
        (
            "update",
            "UPDATE OF provider_id, patient_id, start_datetime, end_datetime, status",
            "AND a.id <> NEW.id ",
        ),
    ):
        # Only constants are formatted into this SQL.
        checks = " ".join(
            f"SELECT RAISE(ABORT, 'appointments_{who}_overlap') WHERE EXISTS ("  # noqa: S608
            f"SELECT 1 FROM appointments a WHERE a.{who}_id = NEW.{who}_id {other}"
            f"AND a.{HOLDS_TIME} "
            "AND a.start_datetime < NEW.end_datetime AND NEW.start_datetime < a.end_datetime);"
            for who in ("provider", "patient")
        )
        op.execute(
            f"CREATE TRIGGER appointments_no_overlap_{event} BEFORE {columns} ON appointments "
            f"WHEN NEW.{HOLDS_TIME} BEGIN {checks} END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute("DROP TRIGGER IF EXISTS appointments_no_overlap_insert")
        op.execute("DROP TRIGGER IF EXISTS appointments_no_overlap_update")
    op.drop_table("provider_days_off")
    op.drop_table("provider_working_hours")
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_index("ix_appointments_start")
        batch_op.drop_index("ix_appointments_patient_start")
        batch_op.drop_index("ix_appointments_provider_start")
    op.drop_table("appointments")

"""restricted (confidential) patients and emergency-access grants

Revision ID: 0010
Revises: 0001
Create Date: 2026-11-25 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import hms.db

revision = "0010"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("restricted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "emergency_access_grants",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=150), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("expires_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", hms.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_emergency_access_grants_patient_id_patients"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_emergency_access_grants_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emergency_access_grants")),
    )
    op.create_index(
        op.f("ix_emergency_access_grants_patient_id"),
        "emergency_access_grants",
        ["patient_id"],
    )
    op.create_index(
        "ix_emergency_access_grants_user_expires",
        "emergency_access_grants",
        ["user_id", "expires_at"],
    )


def downgrade() -> None:
    op.drop_table("emergency_access_grants")
    with op.batch_alter_table("patients", schema=None) as batch_op:
        batch_op.drop_column("restricted")

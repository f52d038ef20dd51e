"""a partial index on the restricted (confidential) patients

Revision ID: 0013
Revises: 0010
Create Date: 2026-11-25 19:10:00

Staff queries leave restricted patients out (`hms.access.scoping`); with this index the
database reads the few restricted ids from it instead of scanning the whole register.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_patients_restricted",
        "patients",
        ["id"],
        postgresql_where=sa.text("restricted"),
        sqlite_where=sa.text("restricted"),
    )


def downgrade() -> None:
    op.drop_index("ix_patients_restricted", table_name="patients")

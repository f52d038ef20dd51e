"""name words: the database's default statistics again

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26 04:40:00

0014 kept statistics for 10,000 name words so that the precise stage of a search was planned
for its two prefix ranges. That stage now runs on one generic plan, which does not read them;
the tolerant stage does, and weighing each of its words (a few hundred) against 10,000 common
values took longer to plan than to run (16 ms against 15 ms for one name). With the default
hundred, planning that query takes about 1 ms (docs/decisions.md, "Patients").
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE patient_name_words ALTER COLUMN word SET STATISTICS -1")
        op.execute("ANALYZE patient_name_words")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE patient_name_words ALTER COLUMN word SET STATISTICS 10000")
        op.execute("ANALYZE patient_name_words")

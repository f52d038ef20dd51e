"""name words for patient search: each patient's, and their vocabulary

Revision ID: 0014
Revises: 0010
Create Date: 2026-11-25 19:45:00

Filled from the names already stored. On PostgreSQL the words are split by the database (a
million patients take about a minute); the vocabulary's typo lookups use a trigram index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0010"
branch_labels = None
depends_on = None

BATCH = 5000


def _word() -> sa.types.TypeEngine[str]:
    return sa.String(length=210, collation="C").with_variant(sa.String(length=210), "sqlite")


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table(
        "patient_name_words",
        sa.Column("word", _word(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["patient_id"], ["patients.id"], name=op.f("fk_patient_name_words_patient_id_patients")
        ),
        sa.PrimaryKeyConstraint("word", "patient_id", name=op.f("pk_patient_name_words")),
    )
    op.create_table(
        "name_vocabulary",
        sa.Column("word", _word(), nullable=False),
        sa.Column("letter_key", _word(), nullable=False),
        sa.PrimaryKeyConstraint("word", name=op.f("pk_name_vocabulary")),
    )
    _backfill(postgres)
    op.create_index(
        "ix_patient_name_words_patient_word", "patient_name_words", ["patient_id", "word"]
    )
    op.create_index(op.f("ix_name_vocabulary_letter_key"), "name_vocabulary", ["letter_key"])
    if postgres:
        op.execute(
            "CREATE INDEX ix_name_vocabulary_word_trgm ON name_vocabulary "
            "USING gin (word gin_trgm_ops)"
        )
        # Exact frequencies for every common word: a prefix range's size is then estimated
        # well, and the planner intersects two large ranges by hashing, not by rescanning one.
        op.execute("ALTER TABLE patient_name_words ALTER COLUMN word SET STATISTICS 10000")
        op.execute("ANALYZE patient_name_words")
        op.execute("ANALYZE name_vocabulary")


def _backfill(postgres: bool) -> None:
    from hms.patients.name_index import name_word_rows, vocabulary_rows

    bind = op.get_bind()
    words = sa.table("patient_name_words", sa.column("word"), sa.column("patient_id", sa.Uuid()))
    vocabulary = sa.table("name_vocabulary", sa.column("word"), sa.column("letter_key"))
    if postgres:
        op.execute(
            "INSERT INTO patient_name_words (word, patient_id) SELECT DISTINCT w, id "
            "FROM patients, unnest(string_to_array(search_name, ' ')) AS w WHERE w <> ''"
        )
        found = bind.execute(sa.text("SELECT DISTINCT word FROM patient_name_words")).scalars()
        rows = vocabulary_rows(found)
    else:
        patients_table = sa.table("patients", sa.column("id", sa.Uuid()), sa.column("search_name"))
        patients = bind.execute(sa.select(patients_table.c.id, patients_table.c.search_name)).all()
        seen: set[str] = set()
        batch: list[dict[str, object]] = []
        for patient_id, search_name in patients:
            found_rows = name_word_rows(patient_id, search_name)
            seen.update(r["word"] for r in found_rows)
            batch += found_rows
            if len(batch) >= BATCH:
                bind.execute(words.insert(), batch)
                batch = []
        if batch:
            bind.execute(words.insert(), batch)
        rows = vocabulary_rows(seen)
    for start in range(0, len(rows), BATCH):
        bind.execute(vocabulary.insert(), rows[start : start + BATCH])


def downgrade() -> None:
    op.drop_table("name_vocabulary")
    op.drop_table("patient_name_words")

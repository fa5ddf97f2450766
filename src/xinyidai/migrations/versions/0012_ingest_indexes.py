"""Hash indexes where only equality is asked: the ledger entries' digest, the records' subject

Every accepted row of an ingest adds one entry to each. As B-trees over random keys (a
SHA-256, a credit code) each insert lands on a random page of a large index; after every
checkpoint that page is written to the WAL whole. A hash index holds a 4-byte hash per
entry: on a ledger of 1.5 million entries an insert cost the server 1.7 µs instead of
4.5 µs, and a record's subject entry 0.8 µs instead of 2.5 µs (docs/performance.md).

Nothing reads them but by equality: a ledger entry by its event digest (the ledger check of
a record, ``xyd ledger lookup``), records by their subject (one subject's records, bulk
reads for some subjects with ``= ANY``, which PostgreSQL answers with a bitmap scan of a hash
index). The subject index no longer carries the category: on PostgreSQL each category has
its partition, and a subject has few records in any one.

SQLite has no hash indexes: there both are B-trees (the subject one now on the subject
alone). Rebuilding the indexes of a large database takes a while and locks writes: run it
in a maintenance window (docs/operations.md).

Revision ID: 0012_ingest_indexes
Revises: 0011_graph_bad_neighbours
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0012_ingest_indexes"
down_revision: str | Sequence[str] | None = "0011_graph_bad_neighbours"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_ledger_entry_digest", table_name="ledger_entry")
    op.create_index("ix_ledger_entry_digest", "ledger_entry", ["digest"], postgresql_using="hash")
    op.drop_index("ix_credit_record_subject_category", table_name="credit_record")
    op.create_index(
        "ix_credit_record_subject", "credit_record", ["subject_code"], postgresql_using="hash"
    )


def downgrade() -> None:
    op.drop_index("ix_credit_record_subject", table_name="credit_record")
    op.create_index(
        "ix_credit_record_subject_category", "credit_record", ["subject_code", "category"]
    )
    op.drop_index("ix_ledger_entry_digest", table_name="ledger_entry")
    op.create_index("ix_ledger_entry_digest", "ledger_entry", ["digest"])

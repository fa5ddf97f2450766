"""A record's current version lives in its row alone; the version table keeps past versions.

Until now every stored version was written twice: in ``credit_record`` (the current state)
and again in ``credit_record_version``, data and all. A first version, by far the most
common write of an ingest, paid for a second heap row, its JSON, and an index entry on a
random key. Now the version table holds the versions a record has left behind: when a
record changes, its current row is copied there (``records.service.store``) before the
new data replaces it. The history of a record is its past versions and its row.

The version ids were also the marks that association analysis reads changes after. A
record now carries ``change_id``: the mark of the ``store`` call that gave it its current
version, from the sequence ``credit_record_change_seq`` on PostgreSQL (one value per call,
shared by the records it wrote) and one past the highest mark on SQLite, whose writers go
one at a time. Existing records take the id of their newest version row, and the sequence
starts past the highest version id, so marks already saved keep their meaning.

Revision ID: 0013_records_current_version
Revises: 0012_ingest_indexes
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_records_current_version"
down_revision: str | Sequence[str] | None = "0012_ingest_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEQUENCE = "credit_record_change_seq"

_NEWEST_VERSION_ID = (
    "(SELECT max(v.id) FROM credit_record_version v "
    "WHERE v.record_id = credit_record.id AND v.category = credit_record.category)"
)
_IS_CURRENT = (
    "EXISTS (SELECT 1 FROM credit_record r WHERE r.id = credit_record_version.record_id "
    "AND r.category = credit_record_version.category "
    "AND r.version = credit_record_version.version)"
)


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    op.add_column("credit_record", sa.Column("change_id", sa.BigInteger(), nullable=True))
    op.execute(f"UPDATE credit_record SET change_id = coalesce({_NEWEST_VERSION_ID}, 0)")
    op.execute(f"DELETE FROM credit_record_version WHERE {_IS_CURRENT}")
    if postgres:
        op.alter_column("credit_record", "change_id", nullable=False)
        start = bind.scalar(sa.text("SELECT coalesce(max(id), 0) + 1 FROM credit_record_version"))
        highest = bind.scalar(sa.text("SELECT coalesce(max(change_id), 0) + 1 FROM credit_record"))
        op.execute(f"CREATE SEQUENCE {SEQUENCE} START WITH {max(int(start), int(highest))}")
    else:
        with op.batch_alter_table("credit_record") as batch:
            batch.alter_column("change_id", existing_type=sa.BigInteger(), nullable=False)
    op.create_index("ix_credit_record_change", "credit_record", ["change_id"])


def downgrade() -> None:
    op.drop_index("ix_credit_record_change", table_name="credit_record")
    op.execute(
        "INSERT INTO credit_record_version (record_id, version, subject_code, category, data, "
        "digest, category_version, provider, batch_id, created_at) "
        "SELECT id, version, subject_code, category, data, digest, category_version, "
        "provider, batch_id, updated_at FROM credit_record"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
        op.drop_column("credit_record", "change_id")
    else:
        with op.batch_alter_table("credit_record") as batch:
            batch.drop_column("change_id")

"""Ledger leaves of format 2: salted commitments and keyed party tags.

A format-1 leaf carried the plain SHA-256 of the record (or event) body with the subject's
credit code, the department and the record id in clear: anyone could hash guesses of a
confidential value and compare. A format-2 leaf carries a commitment to the body salted
with 128 random bits, and tags in place of the subject and actor that only holders of a
key derived from the node's tag secret can match (docs/ledger.md).

The salt of each logged row is kept with the row, so ``xyd ledger verify`` can recompute
the commitment and whoever is entitled to the row can be handed it: ``credit_record`` and
``credit_record_version`` (each record version), ``audit_access_event``,
``consent_letter_transition`` and ``consent_commitment_signature``. Rows written before
this migration keep no salt (NULL) and their format-1 leaves stay as they are: the log is
append-only. ``ledger_entry.ref`` keeps, for the node's own body checks, what a format-2
leaf names (it is not in the leaf and never published).

Adding nullable columns without a default rewrites no table, on PostgreSQL or SQLite.
Downgrading drops the salts: format-2 leaves written meanwhile then no longer verify
against their rows.

Revision ID: 0014_ledger_commitments
Revises: 0013_records_current_version
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_ledger_commitments"
down_revision: str | Sequence[str] | None = "0013_records_current_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SALTED = (
    "credit_record",
    "credit_record_version",
    "audit_access_event",
    "consent_letter_transition",
    "consent_commitment_signature",
)


def upgrade() -> None:
    for table in SALTED:
        op.add_column(table, sa.Column("salt", sa.LargeBinary(16), nullable=True))
    op.add_column("ledger_entry", sa.Column("ref", sa.String(200), nullable=True))


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for table in (*SALTED, "ledger_entry"):
        column = "ref" if table == "ledger_entry" else "salt"
        if postgres:
            op.drop_column(table, column)
        else:
            with op.batch_alter_table(table) as batch:
                batch.drop_column(column)

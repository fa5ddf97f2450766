"""One approved enterprise account per credit code; pending and rejected claims may be many

Registering an enterprise used to refuse any credit code that already had an enterprise
organization, whatever its state: whoever registered someone else's (public) code first
held it, even after the operator rejected them. Now a registration is a claim: pending
and rejected claims never block a code, several may wait side by side, and the operator
approves one, which closes the others. What the database keeps unique is the code of the
approved account (active, or suspended: a suspension does not free the code), by a partial
unique index, which SQLite and PostgreSQL both have. Until now registration refused every
second organization for a code, so no existing data can break it.

Revision ID: 0015_iam_enterprise_claims
Revises: 0014_ledger_commitments
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_iam_enterprise_claims"
down_revision: str | Sequence[str] | None = "0014_ledger_commitments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_iam_organization_enterprise_code"
HOLDS_CODE = "kind = 'enterprise' AND state IN ('active', 'suspended')"


def upgrade() -> None:
    op.create_index(
        INDEX,
        "iam_organization",
        ["credit_code"],
        unique=True,
        sqlite_where=sa.text(HOLDS_CODE),
        postgresql_where=sa.text(HOLDS_CODE),
    )


def downgrade() -> None:
    # Only the index goes: claims already filed side by side for one code stay as they are.
    op.drop_index(INDEX, table_name="iam_organization")

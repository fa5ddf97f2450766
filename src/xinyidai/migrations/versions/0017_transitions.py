"""core: one table of recorded transitions (``market_transition`` renamed ``transition``)

Revision ID: 0017_transitions
Revises: 0016_webhook_hardening
Create Date: 2026-12-21 10:00:00

The marketplace's transitions (applications, loans, webhook endpoints and deliveries)
become the rows of the generic history every state machine of ``core.transitions`` writes
to by default; products record theirs there from now on. The table is renamed, not copied:
its rows and their ids stay as they were.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0017_transitions"
down_revision: str | Sequence[str] | None = "0016_webhook_hardening"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _rename(old: str, new: str) -> None:
    with op.batch_alter_table(old, schema=None) as batch_op:
        batch_op.drop_index(f"ix_{old}_subject")
    op.rename_table(old, new)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT pk_{old} TO pk_{new}")
        op.execute(f"ALTER SEQUENCE IF EXISTS {old}_id_seq RENAME TO {new}_id_seq")
    with op.batch_alter_table(new, schema=None) as batch_op:
        batch_op.create_index(f"ix_{new}_subject", ["subject_kind", "subject_id"], unique=False)


def upgrade() -> None:
    _rename("market_transition", "transition")


def downgrade() -> None:
    # Products' rows go back with the others: the table's shape is the same.
    _rename("transition", "market_transition")

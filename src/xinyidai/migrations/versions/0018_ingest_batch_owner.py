"""ingest: a running batch names its worker and heartbeat, a failed one its reason as a
message id, a file batch its checksum and the last row it committed (to resume from)

Revision ID: 0018_ingest_batch_owner
Revises: 0017_transitions
Create Date: 2026-12-21 10:00:00

Columns are added in place (nullable, no table copy). Batches left ``running`` before this
revision name no worker: the sweep fails them once their last change is older than
``XYD_INGEST_STALE_MINUTES``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0018_ingest_batch_owner"
down_revision: str | Sequence[str] | None = "0017_transitions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.add_column("ingest_batch", sa.Column("error_detail", sa.JSON(), nullable=True))
    op.add_column("ingest_batch", sa.Column("checksum", sa.String(length=64), nullable=True))
    op.add_column("ingest_batch", sa.Column("last_position", sa.Integer(), nullable=True))
    op.add_column("ingest_batch", sa.Column("worker", sa.String(length=200), nullable=True))
    op.add_column("ingest_batch", sa.Column("heartbeat_at", TIMESTAMP, nullable=True))
    op.create_index("ix_ingest_batch_checksum", "ingest_batch", ["checksum"])


def downgrade() -> None:
    op.drop_index("ix_ingest_batch_checksum", table_name="ingest_batch")
    for column in ("heartbeat_at", "worker", "last_position", "checksum", "error_detail"):
        op.execute(f"ALTER TABLE ingest_batch DROP COLUMN {column}")

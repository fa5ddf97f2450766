"""ledger: entries, tree nodes, head, checkpoints, witnesses, cosignatures

Revision ID: 0002_ledger
Revises: 0001_foundation
Create Date: 2026-11-23 11:40:00
"""

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0002_ledger"
down_revision: str | Sequence[str] | None = "0001_foundation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTCTime = xinyidai.core.models.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "ledger_entry",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("idx", sa.BigInteger(), nullable=True),
        sa.Column("digest", sa.LargeBinary(length=32), nullable=False),
        sa.Column("leaf", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("created_at", UTCTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entry")),
        sa.UniqueConstraint("idx", name=op.f("uq_ledger_entry_idx")),
    )
    op.create_index("ix_ledger_entry_digest", "ledger_entry", ["digest"])
    op.create_index(
        "ix_ledger_entry_pending",
        "ledger_entry",
        ["id"],
        postgresql_where=sa.text("idx IS NULL"),
        sqlite_where=sa.text("idx IS NULL"),
    )
    op.create_table(
        "ledger_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_ledger_node")),
    )
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("updated_at", UTCTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_head")),
    )
    op.create_table(
        "ledger_checkpoint",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTCTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_checkpoint")),
        sa.UniqueConstraint("size", name=op.f("uq_ledger_checkpoint_size")),
    )
    op.create_table(
        "ledger_witness",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vkey", sa.String(length=400), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_witness")),
        sa.UniqueConstraint("name", name=op.f("uq_ledger_witness_name")),
    )
    op.create_table(
        "ledger_cosignature",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("checkpoint_id", BigId, nullable=False),
        sa.Column("witness_id", BigId, nullable=False),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.Column("created_at", UTCTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["checkpoint_id"],
            ["ledger_checkpoint.id"],
            name=op.f("fk_ledger_cosignature_checkpoint_id_ledger_checkpoint"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["witness_id"],
            ["ledger_witness.id"],
            name=op.f("fk_ledger_cosignature_witness_id_ledger_witness"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_cosignature")),
        sa.UniqueConstraint(
            "checkpoint_id",
            "witness_id",
            name=op.f("uq_ledger_cosignature_checkpoint_id_witness_id"),
        ),
    )
    op.create_index("ix_ledger_cosignature_checkpoint_id", "ledger_cosignature", ["checkpoint_id"])
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "size": 0,
                "root_hash": hashlib.sha256(b"").digest(),
                "updated_at": datetime.now(UTC),
            }
        ],
    )


def downgrade() -> None:
    op.drop_index("ix_ledger_cosignature_checkpoint_id", table_name="ledger_cosignature")
    op.drop_table("ledger_cosignature")
    op.drop_table("ledger_witness")
    op.drop_table("ledger_checkpoint")
    op.drop_table("ledger_head")
    op.drop_table("ledger_node")
    op.drop_index("ix_ledger_entry_pending", table_name="ledger_entry")
    op.drop_index("ix_ledger_entry_digest", table_name="ledger_entry")
    op.drop_table("ledger_entry")

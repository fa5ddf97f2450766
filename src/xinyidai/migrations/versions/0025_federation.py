"""federation: peers, their changes, messages and receipts, refusals, provenance, usage

Revision ID: 0025_federation
Revises: 0024_stats
Create Date: 2026-12-07 20:00:00

``federation_node`` the other nodes this node exchanges with (key, role, entitlements and
where each stream to them stands); ``federation_node_change`` every change to one (a ledger
leaf each); ``federation_message`` every signed message sent or received with its signed
receipt; ``federation_refusal`` the messages refused; ``federation_received`` the provenance
of each record version applied from another node (once); ``federation_usage`` usage fed
back (数据回流); ``federation_collected`` data a platform collected, ingested here.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0025_federation"
down_revision: str | Sequence[str] | None = "0024_stats"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "federation_node",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("categories", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("personal", sa.Boolean(), nullable=False),
        sa.Column("accepts", sa.JSON(), nullable=False),
        sa.Column("record_mark", sa.BigInteger(), nullable=False),
        sa.Column("record_mark_id", sa.String(length=32), nullable=False),
        sa.Column("feed_mark", sa.BigInteger(), nullable=False),
        sa.Column("usage_mark", sa.BigInteger(), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("next_try_at", TIMESTAMP, nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("last_sent_at", TIMESTAMP, nullable=True),
        sa.Column("last_ack_at", TIMESTAMP, nullable=True),
        sa.Column("last_received_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.UniqueConstraint("name", name="uq_federation_node_name"),
    )
    op.create_table(
        "federation_node_change",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("node_name", sa.String(length=120), nullable=False),
        sa.Column("change", sa.String(length=20), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=False),
    )
    op.create_index("ix_federation_node_change_node_name", "federation_node_change", ["node_name"])
    op.create_table(
        "federation_message",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=4), nullable=False),
        sa.Column("peer", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("envelope", sa.JSON(), nullable=False),
        sa.Column("message_digest", sa.String(length=64), nullable=False),
        sa.Column("receipt", sa.JSON(), nullable=True),
        sa.Column("receipt_digest", sa.String(length=64), nullable=True),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=True),
        sa.UniqueConstraint("message_id", name="uq_federation_message_message_id"),
    )
    op.create_index("ix_federation_message_peer", "federation_message", ["peer", "direction", "id"])
    op.create_table(
        "federation_refusal",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("claimed_sender", sa.String(length=120), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.String(length=20), nullable=False),
        sa.Column("detail", sa.String(length=300), nullable=False),
    )
    op.create_index("ix_federation_refusal_at", "federation_refusal", ["at"])
    op.create_table(
        "federation_received",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("origin", sa.String(length=120), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("subject_code", sa.String(length=18), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=False),
        sa.Column("desensitized", sa.Boolean(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("applied_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("origin", "record_id", "version", name="uq_federation_received_origin"),
    )
    op.create_index("ix_federation_received_record", "federation_received", ["record_id"])
    op.create_table(
        "federation_usage",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("node", sa.String(length=120), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("loan_ref", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=40), nullable=False),
        sa.Column("used_at", TIMESTAMP, nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=True),
        sa.Column("local_id", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_federation_usage_kind", "federation_usage", ["kind", "id"])
    op.create_table(
        "federation_collected",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("node", sa.String(length=120), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("accepted", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_federation_collected_node", "federation_collected", ["node"])


def downgrade() -> None:
    op.drop_table("federation_collected")
    op.drop_table("federation_usage")
    op.drop_table("federation_received")
    op.drop_table("federation_refusal")
    op.drop_table("federation_message")
    op.drop_table("federation_node_change")
    op.drop_table("federation_node")

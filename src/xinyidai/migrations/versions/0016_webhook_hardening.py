"""market: webhook secrets sealed and rotatable, deliveries retried on a back-off schedule
with every attempt recorded, manual redelivery

Revision ID: 0016_webhook_hardening
Revises: 0015_iam_enterprise_claims
Create Date: 2026-12-20 10:00:00

Secrets already stored in clear are sealed here with the node's ``XYD_SECRET_KEY`` (run the
upgrade with the key the node runs with). The sealing is copied from ``core.sealing`` so
that this revision keeps meaning what it meant when it was written.
"""

import base64
import os
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

import xinyidai.core.models
from xinyidai.core.settings import get_settings

revision: str = "0016_webhook_hardening"
down_revision: str | Sequence[str] | None = "0015_iam_enterprise_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PREFIX = "seal1:"


def _cipher() -> AESGCM:
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"xyd sealed secrets v1"
    ).derive(get_settings().secret_key.encode())
    return AESGCM(key)


def _context(public_id: str) -> bytes:
    return f"market_webhook_endpoint:{public_id}".encode()


def _seal(plain: str, public_id: str) -> str:
    nonce = os.urandom(12)
    box = _cipher().encrypt(nonce, plain.encode(), _context(public_id))
    return PREFIX + base64.urlsafe_b64encode(nonce + box).decode()


def _unseal(sealed: str, public_id: str) -> str:
    raw = base64.urlsafe_b64decode(sealed[len(PREFIX) :].encode())
    return _cipher().decrypt(raw[:12], raw[12:], _context(public_id)).decode()


def upgrade() -> None:
    bind = op.get_bind()
    # Columns are added and dropped in place (no batch copy of the table: on SQLite that
    # drops a table the deliveries point at).
    op.add_column(
        "market_webhook_endpoint",
        sa.Column("secret_sealed", sa.Text(), nullable=False, server_default=""),
    )
    op.add_column(
        "market_webhook_endpoint", sa.Column("previous_secret_sealed", sa.Text(), nullable=True)
    )
    op.add_column(
        "market_webhook_endpoint",
        sa.Column("previous_secret_expires_at", TIMESTAMP, nullable=True),
    )
    op.add_column(
        "market_webhook_endpoint", sa.Column("secret_rotated_at", TIMESTAMP, nullable=True)
    )
    endpoints = bind.execute(sa.text("SELECT id, public_id, secret FROM market_webhook_endpoint"))
    for row_id, public_id, secret in endpoints.fetchall():
        bind.execute(
            sa.text("UPDATE market_webhook_endpoint SET secret_sealed = :sealed WHERE id = :id"),
            {"sealed": _seal(secret, public_id), "id": row_id},
        )
    if bind.dialect.name == "postgresql":
        op.alter_column("market_webhook_endpoint", "secret_sealed", server_default=None)
    op.execute("ALTER TABLE market_webhook_endpoint DROP COLUMN secret")

    with op.batch_alter_table("market_webhook_delivery", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("round_attempts", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("next_attempt_at", TIMESTAMP, nullable=True))
        batch_op.drop_index(batch_op.f("ix_market_webhook_delivery_state"))
        batch_op.create_index(
            "ix_market_webhook_delivery_due", ["state", "next_attempt_at"], unique=False
        )
    # Deliveries still pending were retried by the queue alone; they are due now, on the
    # back-off schedule from the attempts they have had.
    bind.execute(
        sa.text(
            "UPDATE market_webhook_delivery SET next_attempt_at = :now, "
            "round_attempts = attempts WHERE state = 'pending'"
        ).bindparams(sa.bindparam("now", type_=TIMESTAMP)),
        {"now": datetime.now(UTC)},
    )

    op.create_table(
        "market_webhook_attempt",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("delivery_id", BIG_ID, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("attempted_at", TIMESTAMP, nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["market_webhook_delivery.id"],
            name=op.f("fk_market_webhook_attempt_delivery_id_market_webhook_delivery"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_webhook_attempt")),
    )
    with op.batch_alter_table("market_webhook_attempt", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_webhook_attempt_delivery_id"), ["delivery_id"], unique=False
        )


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("market_webhook_attempt", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_webhook_attempt_delivery_id"))
    op.drop_table("market_webhook_attempt")

    with op.batch_alter_table("market_webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_market_webhook_delivery_due")
        batch_op.create_index(
            batch_op.f("ix_market_webhook_delivery_state"), ["state"], unique=False
        )
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("round_attempts")

    op.add_column(
        "market_webhook_endpoint",
        sa.Column("secret", sa.String(length=100), nullable=False, server_default=""),
    )
    endpoints = bind.execute(
        sa.text("SELECT id, public_id, secret_sealed FROM market_webhook_endpoint")
    )
    for row_id, public_id, sealed in endpoints.fetchall():
        bind.execute(
            sa.text("UPDATE market_webhook_endpoint SET secret = :secret WHERE id = :id"),
            {"secret": _unseal(sealed, public_id), "id": row_id},
        )
    if bind.dialect.name == "postgresql":
        op.alter_column("market_webhook_endpoint", "secret", server_default=None)
    for column in (
        "secret_rotated_at",
        "previous_secret_expires_at",
        "previous_secret_sealed",
        "secret_sealed",
    ):
        op.execute(f"ALTER TABLE market_webhook_endpoint DROP COLUMN {column}")

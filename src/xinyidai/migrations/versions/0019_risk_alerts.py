"""risk: the watch list of live loans and the alerts raised about watched enterprises

Revision ID: 0019_risk_alerts
Revises: 0018_ingest_batch_owner
Create Date: 2026-12-07 13:30:00

Two new tables. ``risk_alert.key`` (the loan and the event) is unique: an alert is raised
once per event and loan however often a scan runs.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0019_risk_alerts"
down_revision: str | Sequence[str] | None = "0018_ingest_batch_owner"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "risk_watch",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("borrower_code", sa.String(length=18), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("since", TIMESTAMP, nullable=False),
        sa.Column("checked_at", TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_watch")),
        sa.UniqueConstraint(
            "loan_id", "credit_code", name=op.f("uq_risk_watch_loan_id_credit_code")
        ),
    )
    op.create_index("ix_risk_watch_loan_id", "risk_watch", ["loan_id"])
    op.create_index("ix_risk_watch_credit_code", "risk_watch", ["credit_code"])
    op.create_index("ix_risk_watch_institution", "risk_watch", ["institution_id", "relation"])
    op.create_table(
        "risk_alert",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("borrower_code", sa.String(length=18), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=True),
        sa.Column("relation", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=10), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("event_at", TIMESTAMP, nullable=False),
        sa.Column("raised_at", TIMESTAMP, nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_changed_at", TIMESTAMP, nullable=False),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_alert")),
        sa.UniqueConstraint("public_id", name=op.f("uq_risk_alert_public_id")),
        sa.UniqueConstraint("key", name=op.f("uq_risk_alert_key")),
    )
    op.create_index("ix_risk_alert_loan_id", "risk_alert", ["loan_id"])
    op.create_index("ix_risk_alert_credit_code", "risk_alert", ["credit_code"])
    op.create_index("ix_risk_alert_severity", "risk_alert", ["severity"])
    op.create_index("ix_risk_alert_institution_state", "risk_alert", ["institution_id", "state"])
    op.create_index(
        "ix_risk_alert_institution_raised", "risk_alert", ["institution_id", "raised_at"]
    )


def downgrade() -> None:
    op.drop_table("risk_alert")
    op.drop_table("risk_watch")

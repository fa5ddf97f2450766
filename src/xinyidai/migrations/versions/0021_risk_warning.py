"""risk: the latest early warning of every live loan

Revision ID: 0021_risk_warning
Revises: 0020_risk_blacklist_fraud
Create Date: 2026-12-07 14:00:00

One row per live loan (``risk_loan_warning``), replaced by each refresh; ranked per
institution by probability.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0021_risk_warning"
down_revision: str | Sequence[str] | None = "0020_risk_blacklist_fraud"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "risk_loan_warning",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("contract_number", sa.String(length=60), nullable=False),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("band", sa.String(length=12), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("days_overdue", sa.Integer(), nullable=False),
        sa.Column("outstanding", sa.Numeric(20, 2), nullable=False),
        sa.Column("model_version", sa.String(length=80), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("computed_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("loan_id", name="uq_risk_loan_warning_loan_id"),
    )
    op.create_index("ix_risk_loan_warning_credit_code", "risk_loan_warning", ["credit_code"])
    op.create_index(
        "ix_risk_loan_warning_institution_p",
        "risk_loan_warning",
        ["institution_id", "probability"],
    )
    op.create_index("ix_risk_loan_warning_p", "risk_loan_warning", ["probability"])


def downgrade() -> None:
    op.drop_table("risk_loan_warning")

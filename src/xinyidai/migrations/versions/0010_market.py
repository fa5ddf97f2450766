"""market: products, needs, applications and their transitions, decision rules, loans,
instalments, repayments, webhook endpoints and deliveries

Revision ID: 0010_market
Revises: 0009_scoring
Create Date: 2026-11-23 15:18:47
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0010_market"
down_revision: str | Sequence[str] | None = "0009_scoring"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "market_application",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("need_id", sa.String(length=40), nullable=True),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("institution_name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("repayment_method", sa.String(length=30), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("letter_id", sa.String(length=40), nullable=True),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "state_changed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("info_request", sa.Text(), nullable=True),
        sa.Column("decision_mode", sa.String(length=10), nullable=True),
        sa.Column("decided_amount", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("decided_rate", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("decided_term", sa.Integer(), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decision_trace", sa.JSON(), nullable=True),
        sa.Column("decided_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=120), nullable=True),
        sa.Column("decision_ms", sa.Integer(), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_application")),
        sa.UniqueConstraint("public_id", name=op.f("uq_market_application_public_id")),
    )
    with op.batch_alter_table("market_application", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_application_credit_code"), ["credit_code"], unique=False
        )
        batch_op.create_index(
            "ix_market_application_institution_state", ["institution_id", "state"], unique=False
        )
        batch_op.create_index(
            "ix_market_application_key", ["credit_code", "idempotency_key"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_market_application_product_id"), ["product_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_application_state"), ["state"], unique=False)

    op.create_table(
        "market_decision_rule",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("min_grade", sa.String(length=3), nullable=False),
        sa.Column("amount_caps", sa.JSON(), nullable=False),
        sa.Column("rates", sa.JSON(), nullable=False),
        sa.Column("hard_declines", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_decision_rule")),
        sa.UniqueConstraint("product_id", name=op.f("uq_market_decision_rule_product_id")),
    )
    op.create_table(
        "market_loan",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("contract_number", sa.String(length=60), nullable=False),
        sa.Column("application_id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("product_type", sa.String(length=30), nullable=False),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("institution_name", sa.String(length=200), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("principal", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("rate", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("repayment_method", sa.String(length=30), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("maturity_on", sa.Date(), nullable=False),
        sa.Column("balance", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("interest_paid", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "state_changed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_loan")),
        sa.UniqueConstraint("application_id", name=op.f("uq_market_loan_application_id")),
        sa.UniqueConstraint("contract_number", name=op.f("uq_market_loan_contract_number")),
        sa.UniqueConstraint("public_id", name=op.f("uq_market_loan_public_id")),
    )
    with op.batch_alter_table("market_loan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_loan_credit_code"), ["credit_code"], unique=False
        )
        batch_op.create_index(
            "ix_market_loan_institution_state", ["institution_id", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_loan_state"), ["state"], unique=False)

    op.create_table(
        "market_need",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("industry_code", sa.String(length=5), nullable=True),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("term_months", sa.Integer(), nullable=False),
        sa.Column("purpose", sa.String(length=500), nullable=False),
        sa.Column("max_rate", sa.Numeric(precision=7, scale=4), nullable=True),
        sa.Column("collateral", sa.JSON(), nullable=False),
        sa.Column("urgency", sa.String(length=10), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_need")),
        sa.UniqueConstraint("public_id", name=op.f("uq_market_need_public_id")),
    )
    with op.batch_alter_table("market_need", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_need_credit_code"), ["credit_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_need_state"), ["state"], unique=False)

    op.create_table(
        "market_product",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("institution_name", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("product_type", sa.String(length=30), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("amount_min", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("amount_max", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("term_min", sa.Integer(), nullable=False),
        sa.Column("term_max", sa.Integer(), nullable=False),
        sa.Column("rate_min", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("rate_max", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("repayment_methods", sa.JSON(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("industries", sa.JSON(), nullable=False),
        sa.Column("collateral", sa.JSON(), nullable=False),
        sa.Column("eligibility", sa.JSON(), nullable=False),
        sa.Column("documents", sa.JSON(), nullable=False),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "state_changed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_product")),
        sa.UniqueConstraint("public_id", name=op.f("uq_market_product_public_id")),
    )
    with op.batch_alter_table("market_product", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_product_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_product_product_type"), ["product_type"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_product_state"), ["state"], unique=False)

    op.create_table(
        "market_transition",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("transition", sa.String(length=30), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_transition")),
    )
    with op.batch_alter_table("market_transition", schema=None) as batch_op:
        batch_op.create_index(
            "ix_market_transition_subject", ["subject_kind", "subject_id"], unique=False
        )

    op.create_table(
        "market_webhook_endpoint",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.String(length=100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_webhook_endpoint")),
        sa.UniqueConstraint("public_id", name=op.f("uq_market_webhook_endpoint_public_id")),
    )
    with op.batch_alter_table("market_webhook_endpoint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_webhook_endpoint_institution_id"),
            ["institution_id"],
            unique=False,
        )

    op.create_table(
        "market_instalment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("loan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("principal", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("interest", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("paid_principal", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("paid_interest", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["market_loan.id"], name=op.f("fk_market_instalment_loan_id_market_loan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_instalment")),
    )
    with op.batch_alter_table("market_instalment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_market_instalment_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "market_repayment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("loan_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("principal", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("interest", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("recorded_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=120), nullable=False),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["market_loan.id"], name=op.f("fk_market_repayment_loan_id_market_loan")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_repayment")),
        sa.UniqueConstraint("public_id", name=op.f("uq_market_repayment_public_id")),
    )
    with op.batch_alter_table("market_repayment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_market_repayment_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "market_webhook_delivery",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column(
            "endpoint_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("event_type", sa.String(length=60), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["market_webhook_endpoint.id"],
            name=op.f("fk_market_webhook_delivery_endpoint_id_market_webhook_endpoint"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_market_webhook_delivery")),
        sa.UniqueConstraint("public_id", name=op.f("uq_market_webhook_delivery_public_id")),
    )
    with op.batch_alter_table("market_webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_webhook_delivery_endpoint_id"), ["endpoint_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_webhook_delivery_state"), ["state"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("market_webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_webhook_delivery_state"))
        batch_op.drop_index(batch_op.f("ix_market_webhook_delivery_endpoint_id"))

    op.drop_table("market_webhook_delivery")
    with op.batch_alter_table("market_repayment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_repayment_loan_id"))

    op.drop_table("market_repayment")
    with op.batch_alter_table("market_instalment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_instalment_loan_id"))

    op.drop_table("market_instalment")
    with op.batch_alter_table("market_webhook_endpoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_webhook_endpoint_institution_id"))

    op.drop_table("market_webhook_endpoint")
    with op.batch_alter_table("market_transition", schema=None) as batch_op:
        batch_op.drop_index("ix_market_transition_subject")

    op.drop_table("market_transition")
    with op.batch_alter_table("market_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_product_state"))
        batch_op.drop_index(batch_op.f("ix_market_product_product_type"))
        batch_op.drop_index(batch_op.f("ix_market_product_institution_id"))

    op.drop_table("market_product")
    with op.batch_alter_table("market_need", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_need_state"))
        batch_op.drop_index(batch_op.f("ix_market_need_credit_code"))

    op.drop_table("market_need")
    with op.batch_alter_table("market_loan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_loan_state"))
        batch_op.drop_index("ix_market_loan_institution_state")
        batch_op.drop_index(batch_op.f("ix_market_loan_credit_code"))

    op.drop_table("market_loan")
    op.drop_table("market_decision_rule")
    with op.batch_alter_table("market_application", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_application_state"))
        batch_op.drop_index(batch_op.f("ix_market_application_product_id"))
        batch_op.drop_index("ix_market_application_key")
        batch_op.drop_index("ix_market_application_institution_state")
        batch_op.drop_index(batch_op.f("ix_market_application_credit_code"))

    op.drop_table("market_application")

"""sharing: risk-sharing schemes, enrolled loans, claims and their shares, regional
compensation pools, interest-subsidy schemes, batches and lines, and the money movements

Revision ID: 0022_sharing
Revises: 0021_risk_warning
Create Date: 2026-12-07 16:40:28

Every movement of money (``sharing_movement``) is also a salted leaf of the ledger
(``sharing.money``); a scheme's versions share a ``family_id``; a repayment is subsidised
once per subsidy scheme.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0022_sharing"
down_revision: str | Sequence[str] | None = "0021_risk_warning"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sharing_pool",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("balance", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("reserved", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("topped_up", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("paid_out", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("recovered", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("floor", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_pool")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sharing_pool_public_id")),
        sa.UniqueConstraint("region_code", name=op.f("uq_sharing_pool_region_code")),
    )
    op.create_table(
        "sharing_scheme",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("family_id", sa.String(length=40), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("product_ids", sa.JSON(), nullable=False),
        sa.Column("product_types", sa.JSON(), nullable=False),
        sa.Column("zones", sa.JSON(), nullable=False),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("cap_per_loan", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("cap_per_enterprise", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("cap_per_institution_year", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("loss_basis", sa.String(length=30), nullable=False),
        sa.Column("interest_days", sa.Integer(), nullable=False),
        sa.Column("claim_deadline_days", sa.Integer(), nullable=False),
        sa.Column("guarantor_id", sa.String(length=40), nullable=True),
        sa.Column("fee_rate", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "state_changed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_scheme")),
        sa.UniqueConstraint("family_id", "version", name="uq_sharing_scheme_version"),
        sa.UniqueConstraint("public_id", name=op.f("uq_sharing_scheme_public_id")),
    )
    with op.batch_alter_table("sharing_scheme", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_scheme_family_id"), ["family_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sharing_scheme_region_code"), ["region_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sharing_scheme_state"), ["state"], unique=False)

    op.create_table(
        "sharing_subsidy_scheme",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("rule", sa.String(length=20), nullable=False),
        sa.Column("rate", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("cap_per_enterprise_year", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("first_loans_only", sa.Boolean(), nullable=False),
        sa.Column("credit_loans_only", sa.Boolean(), nullable=False),
        sa.Column("regions", sa.JSON(), nullable=False),
        sa.Column("industries", sa.JSON(), nullable=False),
        sa.Column("clawback_on_default", sa.Boolean(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("created_by", sa.String(length=120), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "state_changed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_subsidy_scheme")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sharing_subsidy_scheme_public_id")),
    )
    with op.batch_alter_table("sharing_subsidy_scheme", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_subsidy_scheme_state"), ["state"], unique=False
        )

    op.create_table(
        "sharing_enrolment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("contract_number", sa.String(length=60), nullable=False),
        sa.Column(
            "scheme_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("guarantor_id", sa.String(length=40), nullable=True),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("principal", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("fee_rate", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("fee", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("reguarantee", sa.Boolean(), nullable=False),
        sa.Column("enrolled_on", sa.Date(), nullable=False),
        sa.Column("enrolled_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["sharing_scheme.id"],
            name=op.f("fk_sharing_enrolment_scheme_id_sharing_scheme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_enrolment")),
        sa.UniqueConstraint("loan_id", name=op.f("uq_sharing_enrolment_loan_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sharing_enrolment_public_id")),
    )
    with op.batch_alter_table("sharing_enrolment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_enrolment_credit_code"), ["credit_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sharing_enrolment_guarantor_id"), ["guarantor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sharing_enrolment_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sharing_enrolment_scheme_id"), ["scheme_id"], unique=False
        )

    op.create_table(
        "sharing_subsidy_batch",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column(
            "scheme_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("interest", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("total", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "state_changed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["sharing_subsidy_scheme.id"],
            name=op.f("fk_sharing_subsidy_batch_scheme_id_sharing_subsidy_scheme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_subsidy_batch")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sharing_subsidy_batch_public_id")),
    )
    with op.batch_alter_table("sharing_subsidy_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_subsidy_batch_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sharing_subsidy_batch_scheme_id"), ["scheme_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sharing_subsidy_batch_state"), ["state"], unique=False)

    op.create_table(
        "sharing_claim",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("contract_number", sa.String(length=60), nullable=False),
        sa.Column(
            "enrolment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column(
            "scheme_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("pool_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("institution_id", sa.String(length=40), nullable=False),
        sa.Column("guarantor_id", sa.String(length=40), nullable=True),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("idempotency_key", sa.String(length=100), nullable=True),
        sa.Column("defaulted_on", sa.Date(), nullable=False),
        sa.Column("deadline_on", sa.Date(), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("principal_loss", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("interest_loss", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("claimed_loss", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("approved_loss", sa.Numeric(precision=20, scale=2), nullable=True),
        sa.Column("paid_total", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("recovered_total", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("pool_reserved", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("pool_shortfall", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("endorsed_by", sa.String(length=120), nullable=True),
        sa.Column("endorsed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("documents_requested", sa.Text(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column(
            "state_changed_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["sharing_enrolment.id"],
            name=op.f("fk_sharing_claim_enrolment_id_sharing_enrolment"),
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["sharing_pool.id"], name=op.f("fk_sharing_claim_pool_id_sharing_pool")
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["sharing_scheme.id"],
            name=op.f("fk_sharing_claim_scheme_id_sharing_scheme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_claim")),
        sa.UniqueConstraint("loan_id", name=op.f("uq_sharing_claim_loan_id")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sharing_claim_public_id")),
    )
    with op.batch_alter_table("sharing_claim", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_claim_credit_code"), ["credit_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sharing_claim_guarantor_id"), ["guarantor_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sharing_claim_institution_id"), ["institution_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sharing_claim_pool_id"), ["pool_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sharing_claim_scheme_id"), ["scheme_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sharing_claim_state"), ["state"], unique=False)

    op.create_table(
        "sharing_subsidy_line",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("batch_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "scheme_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("loan_id", sa.String(length=40), nullable=False),
        sa.Column("repayment_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("interest", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("clawed_back", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["sharing_subsidy_batch.id"],
            name=op.f("fk_sharing_subsidy_line_batch_id_sharing_subsidy_batch"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"],
            ["sharing_subsidy_scheme.id"],
            name=op.f("fk_sharing_subsidy_line_scheme_id_sharing_subsidy_scheme"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_subsidy_line")),
        sa.UniqueConstraint("scheme_id", "repayment_id", name="uq_sharing_subsidy_line_repayment"),
    )
    with op.batch_alter_table("sharing_subsidy_line", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_subsidy_line_batch_id"), ["batch_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sharing_subsidy_line_credit_code"), ["credit_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sharing_subsidy_line_loan_id"), ["loan_id"], unique=False
        )

    op.create_table(
        "sharing_claim_share",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=True),
        sa.Column("share", sa.Numeric(precision=7, scale=4), nullable=False),
        sa.Column("pool_pays", sa.Boolean(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("recovered", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["sharing_claim.id"],
            name=op.f("fk_sharing_claim_share_claim_id_sharing_claim"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_claim_share")),
        sa.UniqueConstraint("claim_id", "position", name="uq_sharing_claim_share"),
    )
    with op.batch_alter_table("sharing_claim_share", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sharing_claim_share_claim_id"), ["claim_id"], unique=False
        )

    op.create_table(
        "sharing_movement",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("pool_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("claim_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column(
            "enrolment_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True
        ),
        sa.Column("party", sa.String(length=200), nullable=True),
        sa.Column("amount", sa.Numeric(precision=20, scale=2), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["claim_id"],
            ["sharing_claim.id"],
            name=op.f("fk_sharing_movement_claim_id_sharing_claim"),
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["sharing_enrolment.id"],
            name=op.f("fk_sharing_movement_enrolment_id_sharing_enrolment"),
        ),
        sa.ForeignKeyConstraint(
            ["pool_id"], ["sharing_pool.id"], name=op.f("fk_sharing_movement_pool_id_sharing_pool")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sharing_movement")),
        sa.UniqueConstraint("public_id", name=op.f("uq_sharing_movement_public_id")),
    )
    with op.batch_alter_table("sharing_movement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sharing_movement_at"), ["at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_sharing_movement_claim_id"), ["claim_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_sharing_movement_pool_id"), ["pool_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sharing_movement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_movement_pool_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_movement_claim_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_movement_at"))

    op.drop_table("sharing_movement")
    with op.batch_alter_table("sharing_claim_share", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_claim_share_claim_id"))

    op.drop_table("sharing_claim_share")
    with op.batch_alter_table("sharing_subsidy_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_subsidy_line_loan_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_subsidy_line_credit_code"))
        batch_op.drop_index(batch_op.f("ix_sharing_subsidy_line_batch_id"))

    op.drop_table("sharing_subsidy_line")
    with op.batch_alter_table("sharing_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_claim_state"))
        batch_op.drop_index(batch_op.f("ix_sharing_claim_scheme_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_claim_pool_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_claim_institution_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_claim_guarantor_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_claim_credit_code"))

    op.drop_table("sharing_claim")
    with op.batch_alter_table("sharing_subsidy_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_subsidy_batch_state"))
        batch_op.drop_index(batch_op.f("ix_sharing_subsidy_batch_scheme_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_subsidy_batch_institution_id"))

    op.drop_table("sharing_subsidy_batch")
    with op.batch_alter_table("sharing_enrolment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_enrolment_scheme_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_enrolment_institution_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_enrolment_guarantor_id"))
        batch_op.drop_index(batch_op.f("ix_sharing_enrolment_credit_code"))

    op.drop_table("sharing_enrolment")
    with op.batch_alter_table("sharing_subsidy_scheme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_subsidy_scheme_state"))

    op.drop_table("sharing_subsidy_scheme")
    with op.batch_alter_table("sharing_scheme", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sharing_scheme_state"))
        batch_op.drop_index(batch_op.f("ix_sharing_scheme_region_code"))
        batch_op.drop_index(batch_op.f("ix_sharing_scheme_family_id"))

    op.drop_table("sharing_scheme")
    op.drop_table("sharing_pool")

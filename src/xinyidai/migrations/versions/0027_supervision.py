"""supervision: the confidentiality agreement, security assessments, findings; the
institutions' read clearance; policy products

Revision ID: 0027_supervision
Revises: 0026_joint
Create Date: 2026-12-07 20:00:00

``supervision_agreement`` and ``supervision_signature`` hold the confidentiality
agreement's versions and who signed which; ``supervision_checklist_item`` the security
checklist; ``supervision_assessment``, ``supervision_answer`` and
``supervision_assessment_step`` the assessments, their answers with evidence and their
ledgered moves; ``supervision_finding`` and ``supervision_finding_step`` the findings.
``iam_read_clearance`` is what an institution's agreement and assessment grant, read by the
access decision. ``market_product.policy_schemes`` links a policy product to its schemes.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0027_supervision"
down_revision: str | Sequence[str] | None = "0026_joint"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "supervision_agreement",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("sign_by", TIMESTAMP, nullable=False),
        sa.Column("published_by", sa.String(length=120), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_agreement")),
        sa.UniqueConstraint("version", name=op.f("uq_supervision_agreement_version")),
    )
    op.create_table(
        "supervision_assessment",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("organization_name", sa.String(length=200), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("submitted_at", TIMESTAMP, nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("level", sa.String(length=2), nullable=True),
        sa.Column("conditions", sa.Text(), nullable=True),
        sa.Column("expires_on", sa.Date(), nullable=True),
        sa.Column("reminded_on", sa.Date(), nullable=True),
        sa.Column("state_changed_at", TIMESTAMP, nullable=False),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_assessment")),
        sa.UniqueConstraint("public_id", name=op.f("uq_supervision_assessment_public_id")),
    )
    op.create_index(
        op.f("ix_supervision_assessment_expires_on"),
        "supervision_assessment",
        ["expires_on"],
        unique=False,
    )
    op.create_index(
        "ix_supervision_assessment_org_state",
        "supervision_assessment",
        ["organization_id", "state"],
        unique=False,
    )
    op.create_index(
        op.f("ix_supervision_assessment_state"), "supervision_assessment", ["state"], unique=False
    )
    op.create_table(
        "supervision_checklist_item",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("guidance", sa.Text(), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_checklist_item")),
        sa.UniqueConstraint("code", name=op.f("uq_supervision_checklist_item_code")),
    )
    op.create_table(
        "supervision_finding",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("organization_name", sa.String(length=200), nullable=False),
        sa.Column("flag", sa.String(length=40), nullable=False),
        sa.Column("flag_key", sa.String(length=80), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=True),
        sa.Column("sanction", sa.String(length=20), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_changed_at", TIMESTAMP, nullable=False),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_finding")),
        sa.UniqueConstraint(
            "organization_id", "flag", "flag_key", name="uq_supervision_finding_flag"
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_supervision_finding_public_id")),
    )
    op.create_index(
        "ix_supervision_finding_org_state",
        "supervision_finding",
        ["organization_id", "state"],
        unique=False,
    )
    op.create_index(
        op.f("ix_supervision_finding_state"), "supervision_finding", ["state"], unique=False
    )
    op.create_table(
        "iam_read_clearance",
        sa.Column("organization_id", BIGID, nullable=False),
        sa.Column("agreement_version", sa.Integer(), nullable=True),
        sa.Column("agreement_signed_at", TIMESTAMP, nullable=True),
        sa.Column("agreement_due_at", TIMESTAMP, nullable=True),
        sa.Column("assessment_id", sa.String(length=40), nullable=True),
        sa.Column("assessment_level", sa.String(length=2), nullable=True),
        sa.Column("assessment_expires_on", sa.Date(), nullable=True),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["iam_organization.id"],
            name=op.f("fk_iam_read_clearance_organization_id_iam_organization"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("organization_id", name=op.f("pk_iam_read_clearance")),
    )
    op.create_table(
        "supervision_answer",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("assessment_id", BIGID, nullable=False),
        sa.Column("item_code", sa.String(length=40), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("evidence_name", sa.String(length=200), nullable=True),
        sa.Column("evidence_type", sa.String(length=100), nullable=True),
        sa.Column("evidence_size", sa.Integer(), nullable=True),
        sa.Column("evidence_sha256", sa.String(length=64), nullable=True),
        sa.Column("answered_by", sa.String(length=120), nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=False),
        sa.Column("verdict", sa.String(length=20), nullable=True),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("remark", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=120), nullable=True),
        sa.Column("reviewed_at", TIMESTAMP, nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["supervision_assessment.id"],
            name=op.f("fk_supervision_answer_assessment_id_supervision_assessment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_answer")),
        sa.UniqueConstraint("assessment_id", "item_code", name="uq_supervision_answer"),
    )
    op.create_index(
        op.f("ix_supervision_answer_assessment_id"),
        "supervision_answer",
        ["assessment_id"],
        unique=False,
    )
    op.create_table(
        "supervision_assessment_step",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("assessment_id", BIGID, nullable=False),
        sa.Column("transition", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["supervision_assessment.id"],
            name=op.f("fk_supervision_assessment_step_assessment_id_supervision_assessment"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_assessment_step")),
    )
    op.create_index(
        op.f("ix_supervision_assessment_step_assessment_id"),
        "supervision_assessment_step",
        ["assessment_id"],
        unique=False,
    )
    op.create_table(
        "supervision_finding_step",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("finding_id", BIGID, nullable=False),
        sa.Column("transition", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"],
            ["supervision_finding.id"],
            name=op.f("fk_supervision_finding_step_finding_id_supervision_finding"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_finding_step")),
    )
    op.create_index(
        op.f("ix_supervision_finding_step_finding_id"),
        "supervision_finding_step",
        ["finding_id"],
        unique=False,
    )
    op.create_table(
        "supervision_signature",
        sa.Column("id", BIGID, autoincrement=True, nullable=False),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("agreement_id", BIGID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.String(length=40), nullable=False),
        sa.Column("organization_name", sa.String(length=200), nullable=False),
        sa.Column("signer", sa.String(length=120), nullable=False),
        sa.Column("signer_name", sa.String(length=100), nullable=False),
        sa.Column("body_sha256", sa.String(length=64), nullable=False),
        sa.Column("signed_at", TIMESTAMP, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["supervision_agreement.id"],
            name=op.f("fk_supervision_signature_agreement_id_supervision_agreement"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supervision_signature")),
        sa.UniqueConstraint("agreement_id", "organization_id", name="uq_supervision_signature"),
        sa.UniqueConstraint("public_id", name=op.f("uq_supervision_signature_public_id")),
    )
    op.create_index(
        op.f("ix_supervision_signature_agreement_id"),
        "supervision_signature",
        ["agreement_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_supervision_signature_organization_id"),
        "supervision_signature",
        ["organization_id"],
        unique=False,
    )
    op.add_column(
        "market_product",
        sa.Column("policy_schemes", sa.JSON(), nullable=False, server_default="[]"),
    )


def downgrade() -> None:
    with op.batch_alter_table("market_product") as batch_op:
        batch_op.drop_column("policy_schemes")
    op.drop_index(
        op.f("ix_supervision_signature_organization_id"), table_name="supervision_signature"
    )
    op.drop_index(op.f("ix_supervision_signature_agreement_id"), table_name="supervision_signature")
    op.drop_table("supervision_signature")
    op.drop_index(
        op.f("ix_supervision_finding_step_finding_id"), table_name="supervision_finding_step"
    )
    op.drop_table("supervision_finding_step")
    op.drop_index(
        op.f("ix_supervision_assessment_step_assessment_id"),
        table_name="supervision_assessment_step",
    )
    op.drop_table("supervision_assessment_step")
    op.drop_index(op.f("ix_supervision_answer_assessment_id"), table_name="supervision_answer")
    op.drop_table("supervision_answer")
    op.drop_table("iam_read_clearance")
    op.drop_index(op.f("ix_supervision_finding_state"), table_name="supervision_finding")
    op.drop_index("ix_supervision_finding_org_state", table_name="supervision_finding")
    op.drop_table("supervision_finding")
    op.drop_table("supervision_checklist_item")
    op.drop_index(op.f("ix_supervision_assessment_state"), table_name="supervision_assessment")
    op.drop_index("ix_supervision_assessment_org_state", table_name="supervision_assessment")
    op.drop_index(op.f("ix_supervision_assessment_expires_on"), table_name="supervision_assessment")
    op.drop_table("supervision_assessment")
    op.drop_table("supervision_agreement")

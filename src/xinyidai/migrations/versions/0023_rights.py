"""rights: objections, credit repairs, marks on records, notices, the outbox

Revision ID: 0023_rights
Revises: 0022_sharing
Create Date: 2026-12-07 17:00:00

``credit_record_mark`` lets subject rights mark a record for every view (an objection in
progress, a repair), ``credit_subject_note`` a restructuring beside a subject's records; ``rights_objection`` with its steps (each a ledger leaf) and proof
documents; ``rights_repair`` the credit-repair applications; ``rights_self_query`` the free self-queries; ``rights_self_report`` what enterprises report themselves; ``rights_notice`` the rights inboxes; ``rights_outbox`` what other nodes read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0023_rights"
down_revision: str | Sequence[str] | None = "0022_sharing"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)
BIGID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "credit_record_mark",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("subject_code", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("cleared_at", TIMESTAMP, nullable=True),
    )
    op.create_index("ix_credit_record_mark_record_id", "credit_record_mark", ["record_id"])
    op.create_index("ix_credit_record_mark_subject", "credit_record_mark", ["subject_code"])
    op.create_index("ix_credit_record_mark_reference", "credit_record_mark", ["kind", "reference"])

    op.create_table(
        "credit_subject_note",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("subject_code", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("text", sa.String(length=2000), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_credit_subject_note_subject", "credit_subject_note", ["subject_code"])

    op.create_table(
        "rights_objection",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("target", sa.String(length=10), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=True),
        sa.Column("category", sa.String(length=40), nullable=True),
        sa.Column("field", sa.String(length=40), nullable=True),
        sa.Column("record_version", sa.Integer(), nullable=True),
        sa.Column("wrong", sa.Text(), nullable=False),
        sa.Column("correction_asked", sa.Text(), nullable=False),
        sa.Column("handler", sa.String(length=12), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=True),
        sa.Column("filed_by", sa.String(length=120), nullable=False),
        sa.Column("received_at", TIMESTAMP, nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("answered_at", TIMESTAMP, nullable=True),
        sa.Column("reminded_at", TIMESTAMP, nullable=True),
        sa.Column("corrected_version", sa.Integer(), nullable=True),
        sa.Column("correction_batch_id", sa.String(length=40), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_changed_at", TIMESTAMP, nullable=False),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("public_id", name=op.f("uq_rights_objection_public_id")),
    )
    op.create_index("ix_rights_objection_code_state", "rights_objection", ["credit_code", "state"])
    op.create_index(
        "ix_rights_objection_handler", "rights_objection", ["handler", "department", "state"]
    )
    op.create_index("ix_rights_objection_state", "rights_objection", ["state"])
    op.create_index("ix_rights_objection_due_on", "rights_objection", ["due_on"])

    op.create_table(
        "rights_objection_step",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column(
            "objection_id",
            BIGID,
            sa.ForeignKey("rights_objection.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("transition", sa.String(length=20), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=True),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", TIMESTAMP, nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("salt", sa.LargeBinary(length=16), nullable=False),
    )
    op.create_index(
        "ix_rights_objection_step_objection_id", "rights_objection_step", ["objection_id"]
    )

    op.create_table(
        "rights_document",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("owner_kind", sa.String(length=20), nullable=False),
        sa.Column("owner_id", BIGID, nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by", sa.String(length=120), nullable=False),
        sa.Column("uploaded_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("public_id", name=op.f("uq_rights_document_public_id")),
    )
    op.create_index("ix_rights_document_owner", "rights_document", ["owner_kind", "owner_id"])

    op.create_table(
        "rights_notice",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("audience", sa.String(length=12), nullable=False),
        sa.Column("addressee", sa.String(length=40), nullable=False),
        sa.Column("subject_kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("message", sa.String(length=200), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_rights_notice_to", "rights_notice", ["audience", "addressee", "created_at"])

    op.create_table(
        "rights_repair",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("enterprise_name", sa.String(length=200), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("department", sa.String(length=40), nullable=True),
        sa.Column("department_review", sa.Boolean(), nullable=False),
        sa.Column("event_on", sa.Date(), nullable=True),
        sa.Column("eligible_from", sa.Date(), nullable=False),
        sa.Column("statement", sa.Text(), nullable=False),
        sa.Column("commitment_signed", sa.Boolean(), nullable=False),
        sa.Column("filed_by", sa.String(length=120), nullable=False),
        sa.Column("submitted_at", TIMESTAMP, nullable=False),
        sa.Column("decided_at", TIMESTAMP, nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("state_changed_at", TIMESTAMP, nullable=False),
        sa.Column("state_changed_by", sa.String(length=120), nullable=False),
        sa.Column("state_reason", sa.Text(), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("public_id", name=op.f("uq_rights_repair_public_id")),
    )
    op.create_index("ix_rights_repair_code_state", "rights_repair", ["credit_code", "state"])
    op.create_index("ix_rights_repair_state", "rights_repair", ["state"])

    op.create_table(
        "rights_self_query",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=120), nullable=False),
        sa.Column("identity_check", sa.Text(), nullable=True),
        sa.Column("access_event", sa.String(length=40), nullable=False),
        sa.Column("free", sa.Boolean(), nullable=False),
        sa.Column("fee", sa.Numeric(12, 2), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.UniqueConstraint("public_id", name=op.f("uq_rights_self_query_public_id")),
    )
    op.create_index("ix_rights_self_query_code_year", "rights_self_query", ["credit_code", "year"])

    op.create_table(
        "rights_self_report",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("public_id", sa.String(length=40), nullable=False),
        sa.Column("credit_code", sa.String(length=18), nullable=False),
        sa.Column("record_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=200), nullable=False),
        sa.Column("reported_by", sa.String(length=120), nullable=False),
        sa.Column("reported_at", TIMESTAMP, nullable=False),
        sa.Column("confirmed_by", sa.String(length=40), nullable=True),
        sa.Column("confirmed_at", TIMESTAMP, nullable=True),
        sa.UniqueConstraint("public_id", name=op.f("uq_rights_self_report_public_id")),
    )
    op.create_index("ix_rights_self_report_code", "rights_self_report", ["credit_code"])

    op.create_table(
        "rights_outbox",
        sa.Column("id", BIGID, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=18), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
    )
    op.create_index("ix_rights_outbox_subject", "rights_outbox", ["subject"])


def downgrade() -> None:
    op.drop_table("rights_outbox")
    op.drop_table("rights_self_report")
    op.drop_table("rights_self_query")
    op.drop_table("rights_repair")
    op.drop_table("rights_notice")
    op.drop_table("rights_document")
    op.drop_table("rights_objection_step")
    op.drop_table("rights_objection")
    op.drop_table("credit_subject_note")
    op.drop_table("credit_record_mark")

"""Records keyed by (id, category); on PostgreSQL credit_record is partitioned by category.

A record's key gains its category, and the versions and conflicts that point at a record
carry the category in their foreign key. On PostgreSQL the table becomes ``PARTITION BY
LIST (category)`` with one partition per category of the default catalogue (and of the
catalogue as it stands), plus a default partition for categories added later. Rows are
carried over. On SQLite the keys change and nothing is partitioned.

Versions no longer have a foreign key to their record: against a partitioned table the
check is a pruned lookup per inserted row, the largest single cost of ingest on the server
(records/models.py says how the link is kept).

Versions lose their subject and batch indexes: nothing reads them that way (history is read
through the record), and every accepted row paid for both.

Revision ID: 0006_records_partitions
Revises: 0005_records_ingest
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0006_records_partitions"
down_revision: str | Sequence[str] | None = "0005_records_ingest"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The default catalogue's categories when this revision was written.
CATEGORIES = (
    "registration",
    "shareholder",
    "admin_licence",
    "admin_penalty",
    "court_judgment",
    "court_enforcement",
    "dishonest_debtor",
    "serious_dishonesty",
    "abnormal_operation",
    "red_list",
    "black_list",
    "honour",
    "policy_support",
    "tax_rating",
    "tax_payment",
    "tax_arrears",
    "social_insurance",
    "housing_fund",
    "customs_record",
    "utility_payment",
    "real_estate",
    "ip_patent",
    "ip_trademark",
    "rd_tech",
    "logistics_warehouse",
    "gov_procurement",
    "guarantee",
    "environment_credit",
    "self_reported",
)
PARTITION_PREFIX = "credit_record_p_"
_CODE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


def _columns() -> list[sa.Column[object]]:
    return [
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("subject_code", sa.String(length=18), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("event_on", sa.Date(), nullable=True),
        sa.Column("category_version", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("batch_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", xinyidai.core.models.UTCDateTime(timezone=True), nullable=False),
    ]


def _drop_foreign_keys(old_version: str, old_conflict: str) -> None:
    with op.batch_alter_table("credit_record_version") as batch:
        batch.drop_constraint(old_version, type_="foreignkey")
    with op.batch_alter_table("credit_record_conflict") as batch:
        batch.drop_constraint(old_conflict, type_="foreignkey")


def _add_foreign_keys(version: str | None, conflict: str, columns: list[str]) -> None:
    referred = list(columns)
    if version is not None:
        with op.batch_alter_table("credit_record_version") as batch:
            batch.create_foreign_key(
                version, "credit_record", ["record_id", *columns[1:]], referred
            )
    with op.batch_alter_table("credit_record_conflict") as batch:
        batch.create_foreign_key(conflict, "credit_record", ["record_id", *columns[1:]], referred)


def _categories(bind: sa.Connection) -> list[str]:
    known = set(CATEGORIES)
    if sa.inspect(bind).has_table("catalog_category"):
        known.update(bind.execute(sa.text("SELECT code FROM catalog_category")).scalars())
    return sorted(code for code in known if _CODE.match(code))


def _postgres_upgrade(bind: sa.Connection) -> None:
    op.execute("ALTER TABLE credit_record RENAME TO credit_record_unpartitioned")
    op.execute(
        "ALTER TABLE credit_record_unpartitioned "
        "RENAME CONSTRAINT pk_credit_record TO pk_credit_record_unpartitioned"
    )
    op.execute("DROP INDEX ix_credit_record_category_event")
    op.execute("DROP INDEX ix_credit_record_subject_category")
    op.create_table(
        "credit_record",
        *_columns(),
        sa.PrimaryKeyConstraint("id", "category", name="pk_credit_record"),
        postgresql_partition_by="LIST (category)",
    )
    op.create_index("ix_credit_record_category_event", "credit_record", ["category", "event_on"])
    op.create_index(
        "ix_credit_record_subject_category", "credit_record", ["subject_code", "category"]
    )
    for code in _categories(bind):
        op.execute(
            f"CREATE TABLE {PARTITION_PREFIX}{code} PARTITION OF credit_record "
            f"FOR VALUES IN ('{code}')"
        )
    op.execute(f"CREATE TABLE {PARTITION_PREFIX}default PARTITION OF credit_record DEFAULT")
    op.execute("INSERT INTO credit_record SELECT * FROM credit_record_unpartitioned")
    op.execute("DROP TABLE credit_record_unpartitioned")


def _postgres_downgrade() -> None:
    op.execute("ALTER TABLE credit_record RENAME TO credit_record_partitioned")
    op.execute("DROP INDEX ix_credit_record_category_event")
    op.execute("DROP INDEX ix_credit_record_subject_category")
    op.execute(
        "ALTER TABLE credit_record_partitioned "
        "RENAME CONSTRAINT pk_credit_record TO pk_credit_record_partitioned"
    )
    op.create_table(
        "credit_record", *_columns(), sa.PrimaryKeyConstraint("id", name="pk_credit_record")
    )
    op.create_index("ix_credit_record_category_event", "credit_record", ["category", "event_on"])
    op.create_index(
        "ix_credit_record_subject_category", "credit_record", ["subject_code", "category"]
    )
    op.execute("INSERT INTO credit_record SELECT * FROM credit_record_partitioned")
    op.execute("DROP TABLE credit_record_partitioned CASCADE")


def upgrade() -> None:
    bind = op.get_bind()
    op.drop_index("ix_credit_record_version_batch_id", table_name="credit_record_version")
    op.drop_index("ix_credit_record_version_subject_code", table_name="credit_record_version")
    _drop_foreign_keys(
        "fk_credit_record_version_record_id_credit_record",
        "fk_credit_record_conflict_record_id_credit_record",
    )
    if bind.dialect.name == "postgresql":
        _postgres_upgrade(bind)
    else:
        with op.batch_alter_table("credit_record", recreate="always") as batch:
            batch.drop_constraint("pk_credit_record", type_="primary")
            batch.create_primary_key("pk_credit_record", ["id", "category"])
    _add_foreign_keys(None, "fk_credit_record_conflict_record", ["id", "category"])


def downgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("credit_record_conflict") as batch:
        batch.drop_constraint("fk_credit_record_conflict_record", type_="foreignkey")
    if bind.dialect.name == "postgresql":
        _postgres_downgrade()
    else:
        with op.batch_alter_table("credit_record", recreate="always") as batch:
            batch.drop_constraint("pk_credit_record", type_="primary")
            batch.create_primary_key("pk_credit_record", ["id"])
    _add_foreign_keys(
        "fk_credit_record_version_record_id_credit_record",
        "fk_credit_record_conflict_record_id_credit_record",
        ["id"],
    )
    op.create_index(
        "ix_credit_record_version_subject_code", "credit_record_version", ["subject_code"]
    )
    op.create_index("ix_credit_record_version_batch_id", "credit_record_version", ["batch_id"])

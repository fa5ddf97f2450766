"""catalog: categories and their versions

Revision ID: 0004_catalog
Revises: 0003_iam
Create Date: 2026-11-23 11:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import xinyidai.core.models

revision: str = "0004_catalog"
down_revision: str | Sequence[str] | None = "0003_iam"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TIMESTAMP = xinyidai.core.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "catalog_category",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("name_zh", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("group", sa.String(length=30), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("sharing_type", sa.String(length=20), nullable=False),
        sa.Column("sensitivity", sa.String(length=20), nullable=False),
        sa.Column("update_frequency", sa.String(length=20), nullable=False),
        sa.Column("disclosure_days", sa.Integer(), nullable=True),
        sa.Column("polarity", sa.String(length=10), nullable=False),
        sa.Column("key_fields", sa.JSON(), nullable=False),
        sa.Column("fields", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=120), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_category")),
        sa.UniqueConstraint("code", name=op.f("uq_catalog_category_code")),
    )
    op.create_index(
        op.f("ix_catalog_category_provider"), "catalog_category", ["provider"], unique=False
    )
    op.create_table(
        "catalog_category_version",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("category_id", BIG_ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.JSON(), nullable=False),
        sa.Column("changed_by", sa.String(length=120), nullable=True),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["category_id"],
            ["catalog_category.id"],
            name=op.f("fk_catalog_category_version_category_id_catalog_category"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_category_version")),
        sa.UniqueConstraint(
            "category_id",
            "version",
            name=op.f("uq_catalog_category_version_category_id_version"),
        ),
    )


def downgrade() -> None:
    op.drop_table("catalog_category_version")
    op.drop_index(op.f("ix_catalog_category_provider"), table_name="catalog_category")
    op.drop_table("catalog_category")

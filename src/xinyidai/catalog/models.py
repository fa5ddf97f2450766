"""Tables of the catalogue: the current category and every version it has had."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from xinyidai.core.models import Base, BigId, TimestampMixin


class Category(TimestampMixin, Base):
    """One information category (信息类别) with its schema and sharing rules, as now in force."""

    __tablename__ = "catalog_category"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100))
    group: Mapped[str] = mapped_column(String(30))
    provider: Mapped[str] = mapped_column(String(40), index=True)
    sharing_type: Mapped[str] = mapped_column(String(20))
    sensitivity: Mapped[str] = mapped_column(String(20))
    update_frequency: Mapped[str] = mapped_column(String(20))
    disclosure_days: Mapped[int | None] = mapped_column(Integer)
    polarity: Mapped[str] = mapped_column(String(10), default="neutral")
    key_fields: Mapped[list[str]] = mapped_column(JSON)
    fields: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_by: Mapped[str | None] = mapped_column(String(120))


class CategoryVersion(TimestampMixin, Base):
    """A category exactly as it was at one version; stored records name the version they used."""

    __tablename__ = "catalog_category_version"
    __table_args__ = (UniqueConstraint("category_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("catalog_category.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    changed_by: Mapped[str | None] = mapped_column(String(120))
    note: Mapped[str | None] = mapped_column(String(500))

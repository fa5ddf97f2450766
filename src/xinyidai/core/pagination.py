"""One pagination shape for every list: ``{"items", "total", "page", "size"}``."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

DEFAULT_SIZE = 20
MAX_SIZE = 200


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def paginate(session: Session, stmt: Select[Any], *, page: int, size: int) -> tuple[list[Any], int]:
    """Rows of one page of ``stmt`` and the total count over all pages."""
    page = max(page, 1)
    size = min(max(size, 1), MAX_SIZE)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    rows = session.scalars(stmt.limit(size).offset((page - 1) * size)).all()
    return list(rows), int(total)

"""One pagination shape for every list: ``{"items", "total", "page", "size"}``.

Every list the API answers, and every list a portal page or a command shows a page of, is
made by ``page_of``: a ``Select`` paged in the database (one ``LIMIT``/``OFFSET`` query and
one count), its rows mapped to what the caller shows. A list the database cannot page
(products ranked by a fit computed in Python, reference codes read from files) is paged by
``page_of_list``, which says so by its name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, Protocol, TypeAlias, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")

# A select of any row shape: ``select(Model)`` or ``select(Model, Other, ...)``.
AnySelect: TypeAlias = Select[*tuple[Any, ...]]

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

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages


class Paging(Protocol):
    """What a caller asks of a list: the page (from 1) and its size."""

    @property
    def page(self) -> int: ...

    @property
    def size(self) -> int: ...


class PageRequest(BaseModel):
    """A page asked for by a portal page, a command or a service (the API's ``PageDep``)."""

    page: int = 1
    size: int = DEFAULT_SIZE


def _bounded(paging: Paging) -> tuple[int, int]:
    return max(paging.page, 1), min(max(paging.size, 1), MAX_SIZE)


def count_of(session: Session, stmt: AnySelect) -> int:
    """How many rows ``stmt`` selects, counted in the database."""
    return int(
        session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    )


def paginate(session: Session, stmt: AnySelect, *, page: int, size: int) -> tuple[list[Any], int]:
    """Rows of one page of ``stmt`` and the total count over all pages: the entity of a
    one-entity ``select(Model)``, else each row's tuple (``select(Model, Other)``)."""
    page, size = _bounded(PageRequest(page=page, size=size))
    total = count_of(session, stmt)
    one_page = stmt.limit(size).offset((page - 1) * size)
    if len(stmt.column_descriptions) == 1:
        return list(session.scalars(one_page).all()), total
    return [tuple(row) for row in session.execute(one_page).all()], total


def _identity(row: Any) -> Any:
    return row


def page_of(
    session: Session,
    stmt: AnySelect,
    paging: Paging,
    item: Callable[[Any], T] = _identity,
    *,
    items: Callable[[list[Any]], Sequence[T]] | None = None,
) -> Page[T]:
    """One page of ``stmt``, paged in the database, each row shown as ``item`` shows it
    (a schema's ``model_validate``); ``items`` instead maps the page's rows at once (when
    showing them needs one lookup for the whole page)."""
    page, size = _bounded(paging)
    rows, total = paginate(session, stmt, page=page, size=size)
    shown = list(items(rows)) if items is not None else [item(row) for row in rows]
    return Page(items=shown, total=total, page=page, size=size)


def page_of_list(
    values: Sequence[Any], paging: Paging, item: Callable[[Any], T] = _identity
) -> Page[T]:
    """One page of a list the database cannot page (ranked in Python, read from a file);
    with no values, the empty page a list shows when its filter was refused."""
    page, size = _bounded(paging)
    start = (page - 1) * size
    return Page(
        items=[item(value) for value in values[start : start + size]],
        total=len(values),
        page=page,
        size=size,
    )

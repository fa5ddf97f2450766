"""The one way a list is paged: ``page_of`` over a ``Select``, in the database."""

from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from tests.registry.helpers import enterprise_in
from xinyidai.core.pagination import (
    MAX_SIZE,
    PageRequest,
    count_of,
    page_of,
    page_of_list,
)
from xinyidai.registry import service as registry_service
from xinyidai.registry.models import Enterprise


def _enterprises(session: Session, count: int) -> list[str]:
    codes = [
        registry_service.create(
            session, data=enterprise_in("640104", serial, f"兴庆第{serial}商贸有限公司")
        ).credit_code
        for serial in range(1, count + 1)
    ]
    session.commit()
    return sorted(codes)


def test_a_page_holds_its_slice_and_counts_them_all(session: Session) -> None:
    codes = _enterprises(session, 7)
    stmt = select(Enterprise).order_by(Enterprise.credit_code)
    pages = [
        page_of(session, stmt, PageRequest(page=n, size=3), lambda e: e.credit_code)
        for n in (1, 2, 3)
    ]
    assert [p.items for p in pages] == [codes[0:3], codes[3:6], codes[6:7]]
    assert {(p.total, p.size) for p in pages} == {(7, 3)}
    assert [(p.page, p.pages, p.has_previous, p.has_next) for p in pages] == [
        (1, 3, False, True),
        (2, 3, True, True),
        (3, 3, True, False),
    ]
    beyond = page_of(session, stmt, PageRequest(page=9, size=3))
    assert (beyond.items, beyond.total, beyond.page) == ([], 7, 9)


def test_the_database_pages_one_query_for_the_rows_and_one_count(session: Session) -> None:
    _enterprises(session, 5)
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        found = page_of(session, select(Enterprise).order_by(Enterprise.id), PageRequest(size=2))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(found.items) == 2
    assert len(statements) == 2
    assert sum("count(" in s.lower() for s in statements) == 1
    assert any("LIMIT" in s.upper() for s in statements)


def test_a_page_is_bounded_whatever_is_asked(session: Session) -> None:
    _enterprises(session, 3)
    stmt = select(Enterprise).order_by(Enterprise.id)
    low = page_of(session, stmt, PageRequest(page=0, size=0))
    assert (low.page, low.size, len(low.items)) == (1, 1, 1)
    high = page_of(session, stmt, PageRequest(page=1, size=MAX_SIZE * 10))
    assert (high.size, len(high.items)) == (MAX_SIZE, 3)


def test_rows_of_two_entities_come_as_pairs(session: Session) -> None:
    codes = _enterprises(session, 2)
    stmt = select(Enterprise, Enterprise.credit_code).order_by(Enterprise.credit_code)
    found = page_of(session, stmt, PageRequest(), lambda row: (type(row[0]).__name__, row[1]))
    assert found.items == [("Enterprise", code) for code in codes]


def test_a_whole_page_can_be_shown_at_once(session: Session) -> None:
    codes = _enterprises(session, 4)
    calls: list[int] = []

    def shown(rows: list[Enterprise]) -> list[str]:
        calls.append(len(rows))
        return [row.name for row in rows]

    found = page_of(
        session,
        select(Enterprise).order_by(Enterprise.credit_code),
        PageRequest(size=3),
        items=shown,
    )
    assert calls == [3]
    assert len(found.items) == 3
    assert found.total == len(codes)


def test_count_of_and_a_list_paged_after_it_is_computed(session: Session) -> None:
    _enterprises(session, 4)
    assert count_of(session, select(Enterprise).order_by(Enterprise.name)) == 4
    ranked = page_of_list(list("abcde"), PageRequest(page=2, size=2), str.upper)
    assert (ranked.items, ranked.total, ranked.page, ranked.size) == (["C", "D"], 5, 2, 2)
    assert page_of_list([], PageRequest(page=3, size=10)).model_dump() == {
        "items": [],
        "total": 0,
        "page": 3,
        "size": 10,
    }

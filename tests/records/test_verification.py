"""The verification language: yes/no questions about a subject's records, each operator,
which record a comparison reads, and questions that cannot be asked refused by field."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.records.facts import code, fact, penalty, put, rating
from xinyidai.core import clock
from xinyidai.core.errors import NotFound, ValidationFailed
from xinyidai.records import service as records


@pytest.fixture
def stored(session: Session) -> None:
    """Subject 1: rated B (score 70) for 2024, then A (score 91.50) for 2025; a recent penalty
    of 20000 and one of 5000 past its disclosure period. Subject 2: nothing."""
    today = clock.today()
    records.store(
        session,
        category="tax_rating",
        category_version=1,
        provider="tax",
        batch_id=None,
        facts=[
            fact(
                session,
                "tax_rating",
                rating(1, "B", year=2024, score="70"),
                event_on=today - timedelta(days=400),
            ),
            fact(
                session,
                "tax_rating",
                rating(1, "A", year=2025, score="91.50"),
                event_on=today - timedelta(days=30),
            ),
        ],
    )
    put(
        session,
        "admin_penalty",
        [penalty(1, "罚1", fine="20000.00")],
        provider="credit",
        event_on=today - timedelta(days=60),
    )
    put(
        session,
        "admin_penalty",
        [penalty(1, "罚2", fine="5000.00")],
        provider="credit",
        event_on=today - timedelta(days=1200),
    )
    session.commit()


def ask(session: Session, op: str, field: str | None = None, value: Any = None, **kw: Any) -> bool:
    question = {"credit_code": code(1), "category": "tax_rating"} | kw
    return records.verify(session, op=op, field=field, value=value, **question)


def test_exists_and_not_exists_ask_of_any_current_record(session: Session, stored: None) -> None:
    assert ask(session, "exists")
    assert not ask(session, "not_exists")
    assert ask(session, "exists", "grade", "B")  # any record: the 2024 rating
    assert not ask(session, "exists", "grade", "C")
    assert ask(session, "not_exists", "grade", "C")
    assert not ask(session, "exists", credit_code=code(2))
    assert ask(session, "not_exists", credit_code=code(2))


def test_a_comparison_reads_the_latest_record(session: Session, stored: None) -> None:
    assert ask(session, "eq", "grade", "A")
    assert not ask(session, "eq", "grade", "B")
    assert ask(session, "ne", "grade", "B")
    assert ask(session, "in", "grade", ["A", "B"])
    assert not ask(session, "in", "grade", ["C", "D"])
    assert not ask(session, "eq", "grade", "A", credit_code=code(2))  # nothing to compare


@pytest.mark.parametrize(
    ("op", "value", "holds"),
    [
        ("eq", "91.5", True),  # numbers compare as numbers, not as text
        ("eq", 91.5, True),
        ("gt", 91, True),
        ("gt", "91.50", False),
        ("gte", "91.50", True),
        ("lt", 100, True),
        ("lt", "9", False),  # as text "91.50" < "9"; as numbers it is not
        ("lte", 91.5, True),
        ("in", [70, 91.5], True),
        ("in", ["91.500"], True),
    ],
)
def test_numbers_compare_as_numbers(
    session: Session, stored: None, op: str, value: Any, holds: bool
) -> None:
    assert ask(session, op, "score", value) is holds


def test_text_compares_as_text_and_mixed_values_as_their_text(
    session: Session, stored: None
) -> None:
    assert ask(session, "lt", "grade", "B")  # "A" < "B"
    assert ask(session, "gt", "score", "ABC") is False  # "91.50" > "ABC" is false as text
    assert ask(session, "eq", "enterprise_name", "南宁测试1有限公司")


def test_a_value_that_is_not_a_number_is_compared_as_text_not_refused(
    session: Session, stored: None
) -> None:
    # Decimal would read these as NaN, which has no order: they are text.
    assert ask(session, "eq", "score", "NaN") is False
    assert ask(session, "gt", "score", "NaN") is False
    assert ask(session, "lt", "score", "sNaN") is True  # "91.50" < "sNaN" as text
    assert ask(session, "in", "score", ["NaN", "91.5"]) is True


def test_records_past_their_disclosure_period_count_as_absent(
    session: Session, stored: None
) -> None:
    penalties = {"category": "admin_penalty"}
    assert ask(session, "exists", "fine_amount", "20000", **penalties)
    assert not ask(session, "exists", "fine_amount", "5000", **penalties)
    assert ask(session, "not_exists", "decision_number", "罚2", **penalties)


@pytest.mark.parametrize(
    ("question", "field", "reason"),
    [
        (
            {"op": "like"},
            "op",
            "op must be one of exists, not_exists, eq, ne, gt, gte, lt, lte, in",
        ),
        ({"op": ""}, "op", "op must be one of"),
        ({"op": "eq", "field": "colour", "value": "A"}, "field", "has no field colour"),
        ({"op": "exists", "field": "colour"}, "field", "has no field colour"),
        ({"op": "eq", "field": "grade"}, "value", "a comparison needs a field and a value"),
        ({"op": "gt", "value": 3}, "value", "a comparison needs a field and a value"),
        ({"op": "in", "field": "grade", "value": "A"}, "value", "op in needs a list of values"),
    ],
)
def test_a_question_that_cannot_be_asked_is_refused_naming_the_field(
    session: Session, stored: None, question: dict[str, Any], field: str, reason: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        records.verify(session, credit_code=code(1), category="tax_rating", **question)
    assert refused.value.field == field
    assert reason in str(refused.value)


def test_an_unknown_category_is_not_found(session: Session, stored: None) -> None:
    with pytest.raises(NotFound) as unknown:
        records.verify(session, credit_code=code(1), category="horoscope", op="exists")
    assert unknown.value.field == "category"
    assert "horoscope" in str(unknown.value)

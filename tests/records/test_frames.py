"""Current records in bulk as polars frames: text columns per category, for every subject or
for some, as of a day, and what an unknown category gives."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl
import pytest
from sqlalchemy.orm import Session

from tests.records.facts import code, fact, penalty, put, rating
from xinyidai.core.errors import NotFound
from xinyidai.records import service as records

DAY = date(2026, 6, 1)


@pytest.fixture
def stored(session: Session) -> None:
    """Ratings of subjects 1 and 2; penalties of subject 1 before, long before and after DAY."""
    put(session, "tax_rating", [rating(1, "A", score="91.5"), rating(2, "B", score="70")])
    records.store(
        session,
        category="admin_penalty",
        category_version=1,
        provider="credit",
        batch_id=None,
        facts=[
            fact(session, "admin_penalty", penalty(1, "早"), event_on=DAY - timedelta(days=2000)),
            fact(session, "admin_penalty", penalty(1, "近"), event_on=DAY - timedelta(days=10)),
            fact(session, "admin_penalty", penalty(1, "后"), event_on=DAY + timedelta(days=10)),
        ],
    )
    session.commit()


def _rows(frame: pl.DataFrame) -> list[tuple[str | None, ...]]:
    return sorted(frame.rows(), key=lambda row: tuple(str(v) for v in row))


def test_frames_hold_the_asked_fields_as_text_per_category(session: Session, stored: None) -> None:
    frames = records.category_frames(
        session,
        fields={"tax_rating": ["credit_code", "grade", "score", "year"], "admin_penalty": []},
    )
    ratings = frames["tax_rating"]
    # ``credit_code`` is the ``subject_code`` column, not asked twice.
    assert ratings.columns == ["subject_code", "grade", "score", "year"]
    assert ratings.schema == dict.fromkeys(ratings.columns, pl.String)
    assert _rows(ratings) == [(code(1), "A", "91.5", "2025"), (code(2), "B", "70", "2025")]
    assert frames["admin_penalty"].columns == ["subject_code"]
    assert frames["admin_penalty"].height == 3  # without a day, every current record


def test_frames_for_some_subjects_equal_those_for_all_filtered(
    session: Session, stored: None
) -> None:
    asked = {"tax_rating": ["grade"], "admin_penalty": ["decision_number", "fine_amount"]}
    everyone = records.category_frames(session, fields=asked)
    one = records.category_frames(session, fields=asked, subject_codes=[code(2)])
    for category in asked:
        assert one[category].columns == everyone[category].columns
        assert _rows(one[category]) == _rows(
            everyone[category].filter(pl.col("subject_code") == code(2))
        )
    assert one["admin_penalty"].height == 0


def test_as_of_a_day_later_events_and_records_past_their_period_are_left_out(
    session: Session, stored: None
) -> None:
    for subjects in (None, [code(1)]):
        frames = records.category_frames(
            session, fields={"admin_penalty": ["decision_number"]}, on=DAY, subject_codes=subjects
        )
        assert frames["admin_penalty"]["decision_number"].to_list() == ["近"]


def test_a_field_a_record_lacks_is_null(session: Session, stored: None) -> None:
    frames = records.category_frames(session, fields={"tax_rating": ["tax_office"]})
    assert frames["tax_rating"]["tax_office"].to_list() == [None, None]


def test_an_unknown_category_is_an_error_or_with_skip_unknown_an_empty_frame(
    session: Session, stored: None
) -> None:
    with pytest.raises(NotFound) as unknown:
        records.category_frames(session, fields={"tax_rating": ["grade"], "no_such": ["x"]})
    assert unknown.value.field == "category"
    assert "no_such" in str(unknown.value)
    frames = records.category_frames(
        session, fields={"tax_rating": ["grade"], "no_such": ["x"]}, skip_unknown=True
    )
    assert frames["no_such"].columns == ["subject_code", "x"]
    assert frames["no_such"].height == 0
    assert frames["tax_rating"].height == 2
